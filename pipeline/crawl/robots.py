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
import threading
import time
from dataclasses import dataclass
from typing import Callable, Protocol
from urllib.parse import urlsplit

from protego import Protego

from pipeline.crawl.hosts import RateLimiter
from pipeline.model.errors import Blocked, FetchError, RobotsDisallowed, RobotsUnreachable, SiteUnreachable
from pipeline.model.ids import host_key

log = logging.getLogger(__name__)


class Answer(Protocol):
    """What robots.txt needs of a fetch result."""

    status: int
    content: bytes


@dataclass(frozen=True)
class _Entry:
    loaded_at: float
    rules: Protego | None  # None: unreachable
    why: str = ""
    site_down: bool = False  # no answer at all (not a 5xx): the site, not robots.txt, is the trouble
    blocked: bool = False  # an anti-bot challenge answered for robots.txt


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
        if not entry.rules.can_fetch(url, self.user_agent):
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
            return _Entry(now, Protego.parse(""))  # 4xx, or redirects without end: no rules
        challenge = self.blocked(answer.content) if self.blocked is not None else None
        if challenge:
            log.warning("robots.txt of %s is an anti-bot challenge (%s): fetching nothing there for now",
                        origin, challenge)
            return _Entry(now, None, challenge, blocked=True)
        rules = Protego.parse(answer.content.decode("utf-8", "replace"))
        self._apply_delay(origin, rules)
        return _Entry(now, rules)

    def _apply_delay(self, origin: str, rules: Protego) -> None:
        delay = rules.crawl_delay(self.user_agent)
        rate = rules.request_rate(self.user_agent)
        if rate is not None and rate.requests:
            delay = max(delay or 0.0, rate.seconds / rate.requests)
        if delay and self.limiter is not None:
            self.limiter.set_interval(host_key(urlsplit(origin).hostname or ""), float(delay))
