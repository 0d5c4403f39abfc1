"""robots.txt per origin, read as RFC 9309 says (Protego, Scrapy's default parser).

Protego gives what the standard library's parser does not: the ``*`` and ``$``
wildcards and the longest matching rule winning (so ``Allow: /en/press_service/``
beats a shorter ``Disallow: /en/`` wherever they stand in the file).

What the answer for robots.txt means (RFC 9309, 2.3.1):
- 2xx: the rules of the group matching our User-Agent apply; its ``Crawl-delay``
  (or ``Request-rate``) slows the host down in the fetcher's rate limiter;
- 2xx that is an anti-bot challenge (mid.ru's F5/TSPD page: HTTP 200, a script, no rules;
  the same detection as every other page, crawl/blocked.py with the profile's markers):
  ``blocked``, nothing of that origin is fetched for now. Parsed as robots.txt it would
  read as "no rules", i.e. everything allowed, behind a wall that is refusing us;
- 4xx (or too many redirects): there is no robots.txt, everything is allowed;
- 5xx or no answer at all: "robots.txt unreachable", nothing of that origin is
  fetched for now. This is its own failure class (``RobotsUnreachable``), never
  reported as "disallowed by robots.txt", so an outage reads as an outage.

A robots.txt is kept for ``crawl_robots_ttl`` seconds per origin. An unreachable
(or challenged) one is asked again after ``crawl_backoff_max`` seconds at the earliest (the longest
pause between two retries): every URL of that origin in between fails at once
instead of waiting through the retries again.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Callable, Protocol
from urllib.parse import urlsplit

from protego import Protego

from pipeline.crawl.hosts import RateLimiter
from pipeline.model.errors import Blocked, ConfigError, FetchError, RobotsDisallowed, RobotsUnreachable, SiteUnreachable
from pipeline.model.ids import host_key

log = logging.getLogger(__name__)


class Answer(Protocol):
    """What robots.txt needs of a fetch result."""

    status: int
    content: bytes


@dataclass(frozen=True)
class _Entry:
    loaded_at: float
    rules: RobotsTxt | None  # None: unreachable
    why: str = ""
    site_down: bool = False  # no answer at all (not a 5xx): the site, not robots.txt, is the trouble
    blocked: bool = False  # an anti-bot challenge answered for robots.txt


# What Google's reference parser (github.com/google/robotstxt) keeps of a line: 2083 * 8 bytes
# with its end; a longer rule is cut there, so a path it names past the cut is matched by its start.
_MAX_LINE = 2083 * 8 - 1
_USER_AGENT_FIELDS = {"user-agent", "useragent", "user agent"}
# Every other line Protego reads; any other line is dropped before parsing (see RobotsTxt).
_OTHER_FIELDS = {"allow", "disallow", "dissallow", "dissalow", "disalow", "diasllow", "disallaw",
                 "sitemap", "sitemaps", "site-map", "crawl-delay", "crawl delay", "request-rate",
                 "request rate", "visit-time", "visit time", "host"}
_TOKEN = re.compile(r"[A-Za-z_-]*")


def product_token(user_agent: str) -> str:
    """The product token of a User-Agent (``mfa-ingest`` of ``mfa-ingest/0.1 (...)``): its first
    word, letters, ``-`` and ``_`` only (RFC 9309 2.2.1). Groups are matched against it, never
    against the whole header, whose other words (``polite``, ``crawler``, ``0.1``) name no robot."""
    token = _TOKEN.match(user_agent.strip()).group()
    if not token:
        raise ConfigError(f"crawl_user_agent {user_agent!r} does not start with a product token "
                          "(letters, '-' and '_', e.g. mfa-ingest/0.1 (...))")
    return token


def _directive(line: str) -> tuple[str, str] | None:
    """(field, value) of a robots.txt line without its comment; None for a blank line.
    ``Field: value``, and as Google and Protego accept, ``Field value`` without the colon."""
    if not line:
        return None
    head, colon, rest = line.partition(":")
    if colon and head.strip().lower() in _USER_AGENT_FIELDS | _OTHER_FIELDS:
        return head.strip().lower(), rest.strip()
    words = line.split()
    for count in (2, 1):
        field = " ".join(words[:count]).lower()
        if len(words) >= count and field in _USER_AGENT_FIELDS | _OTHER_FIELDS:
            return field, " ".join(words[count:])
    return head.strip().lower(), rest.strip()


def _group_name(value: str) -> str:
    """A ``User-agent`` value as Google reads it: ``*`` (also ``* anything``), else the product token
    at its start (``FOO BAR`` names the robot ``foo``; ``Foobot/2.1`` names ``foobot``)."""
    if value[:1] == "*" and (len(value) == 1 or value[1].isspace()):
        return "*"
    return _TOKEN.match(value).group().lower()


class RobotsTxt:
    """One robots.txt, read by Protego after the lines are put the way Google's parser reads them.

    Protego does the matching (wildcards, ``$``, the longest rule winning, percent-encoding
    normalised as RFC 9309 2.2.2 says). What it reads differently from Google's reference
    parser is settled before and around it, so the two agree (tests/unit/test_robots_google.py):
    - a ``User-agent`` value is cut to its product token (``User-Agent: FOO BAR`` is robot ``foo``);
    - a line that is no directive (``Invalid-Unknown-Line: x``) is dropped: it does not close
      the group of the ``User-agent`` lines around it;
    - lines are cut at Google's length limit;
    - a group applies when its name equals the product token asked about (any case), never
      because the name appears inside it: the robot ``mfa`` is not ``mfa-ingest``.
    """

    def __init__(self, rules: Protego, groups: set[str]):
        self._rules = rules
        self._groups = groups

    @classmethod
    def parse(cls, text: str) -> "RobotsTxt":
        lines: list[str] = []
        groups: set[str] = set()
        for line in text.splitlines():
            parsed = _directive(line[:_MAX_LINE].split("#", 1)[0].strip())
            if parsed is None:
                continue
            field, value = parsed
            if field in _USER_AGENT_FIELDS:
                name = _group_name(value)
                groups.add(name)
                lines.append(f"User-agent: {name}")
            elif field in _OTHER_FIELDS:
                lines.append(f"{field}: {value}")
        return cls(Protego.parse("\n".join(lines)), groups - {"", "*"})

    def _agent(self, token: str) -> str:
        # Protego matches a group whose name appears in the agent at a word start; asking for a
        # name no group has (the empty one) leaves only the ``*`` group.
        token = token.strip().lower()
        return token if token in self._groups else ""

    def allows(self, url: str, token: str) -> bool:
        """Whether the robot ``token`` (a product token, see ``product_token``) may fetch ``url``."""
        return self._rules.can_fetch(url, self._agent(token))

    def crawl_delay(self, token: str) -> float | None:
        return self._rules.crawl_delay(self._agent(token))

    def request_rate(self, token: str):
        return self._rules.request_rate(self._agent(token))


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class RobotsRules:
    """The robots.txt rules of every origin a crawl touches; thread-safe.

    ``fetch(url)`` gets robots.txt (following redirects, under the retry policy)
    and raises ``FetchError`` when there is no answer. ``blocked(body)`` names why a 2xx
    body is not a robots.txt but a challenge (None when it is one).
    """

    def __init__(self, fetch: Callable[[str], Answer], user_agent: str, *, ttl: float,
                 retry_unreachable_after: float, limiter: RateLimiter | None = None,
                 blocked: Callable[[bytes], str | None] | None = None):
        self.fetch = fetch
        self.blocked = blocked
        self.user_agent = user_agent
        self.token = product_token(user_agent)  # what robots.txt groups are matched against
        self.ttl = ttl
        self.retry_unreachable_after = min(ttl, retry_unreachable_after)
        self.limiter = limiter
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def check(self, url: str) -> None:
        """Raise RobotsDisallowed or RobotsUnreachable unless robots.txt lets us fetch ``url``."""
        entry = self._entry(origin_of(url))
        if entry.rules is None and entry.blocked:
            raise Blocked(f"blocked: robots.txt of {origin_of(url)}: {entry.why}; not fetching {url}")
        if entry.rules is None:
            # An operator needs to tell "the site is down" from "its robots.txt is broken".
            error = SiteUnreachable if entry.site_down else RobotsUnreachable
            raise error(f"robots.txt unreachable: {entry.why}; not fetching {url}")
        if not entry.rules.allows(url, self.token):
            raise RobotsDisallowed(f"{url} is disallowed by robots.txt")

    def _entry(self, origin: str) -> _Entry:
        # One lock per origin: a slow robots.txt holds up its own origin only.
        with self._lock:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock:
            entry = self._entries.get(origin)
            if entry is None or self._stale(entry):
                entry = self._load(origin)
                self._entries[origin] = entry
            return entry

    def _stale(self, entry: _Entry) -> bool:
        age = time.monotonic() - entry.loaded_at
        return age > (self.ttl if entry.rules is not None else self.retry_unreachable_after)

    def _load(self, origin: str) -> _Entry:
        url = origin + "/robots.txt"
        try:
            answer = self.fetch(url)
        except FetchError as exc:
            now = time.monotonic()  # after the retries: the pause counts from the last try
            log.warning("robots.txt of %s unreachable (%s): fetching nothing there for now", origin, exc.reason)
            return _Entry(now, None, exc.reason, site_down=isinstance(exc, SiteUnreachable))
        now = time.monotonic()
        if answer.status >= 500:
            log.warning("robots.txt of %s answered HTTP %d: fetching nothing there for now", origin, answer.status)
            return _Entry(now, None, f"{url} answered HTTP {answer.status}")
        if not 200 <= answer.status < 300:
            return _Entry(now, RobotsTxt.parse(""))  # 4xx, or redirects without end: no rules
        challenge = self.blocked(answer.content) if self.blocked is not None else None
        if challenge:
            log.warning("robots.txt of %s is an anti-bot challenge (%s): fetching nothing there for now",
                        origin, challenge)
            return _Entry(now, None, challenge, blocked=True)
        rules = RobotsTxt.parse(answer.content.decode("utf-8", "replace"))
        self._apply_delay(origin, rules)
        return _Entry(now, rules)

    def _apply_delay(self, origin: str, rules: RobotsTxt) -> None:
        delay = rules.crawl_delay(self.token)
        rate = rules.request_rate(self.token)
        if rate is not None and rate.requests:
            delay = max(delay or 0.0, rate.seconds / rate.requests)
        if delay and self.limiter is not None:
            self.limiter.set_interval(host_key(urlsplit(origin).hostname or ""), float(delay))
