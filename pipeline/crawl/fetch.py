"""Stage fetch: URL -> raw response bytes, politely. Reads the crawl settings.

One ``Fetcher`` per run: a requests Session (urllib3's own retries off) under ONE
retry policy (tenacity, around the whole exchange: connection errors, timeouts,
429 and 5xx honouring Retry-After up to a cap, bodies broken off mid-read;
exponential backoff with jitter), a per-host rate limiter waited on before every
attempt, retries included, robots.txt as RFC 9309 reads it (robots.py: Protego,
cached per origin, Crawl-delay honoured, unreachable kept apart from disallowed, an
anti-bot challenge in its place blocked as crawl/blocked.py detects it),
connect and read timeouts, a response-size cap, content-type checks, conditional requests
(ETag / Last-Modified) and redirects followed by hand so that every hop goes
through the network guard (hosts.py): the allowed hosts only, never a non-global
address unless it is an allowed private host:port (how tests reach the replica).

Each response seen (every hop and every attempt) is handed to an optional recorder
(the WARC writer). Errors are raised as ``FetchError`` subclasses; the crawl turns
them into Failures. After the last attempt: no answer at all -> ``SiteUnreachable``;
an error status -> ``HttpStatusError``; a body that kept breaking off -> ``FetchError``.
"""

from __future__ import annotations

import logging
import random
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable, Iterable
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from urllib3.exceptions import HTTPError as Urllib3Error

from pipeline.context import RunContext
from pipeline.crawl import blocked
from pipeline.extract.document import parse_document
from pipeline.crawl.hosts import NetworkGuard, RateLimiter
from pipeline.crawl.robots import RobotsRules
from pipeline.model.errors import (Blocked, FetchError, HttpStatusError, RefusedURL, SiteUnreachable, RobotsDisallowed,
                                   Truncated)
from pipeline.model.ids import host_key
from pipeline.model.records import HTML_TYPES
from pipeline.settings import Settings
from pipeline.sources.body import decode_content, whole_body

log = logging.getLogger(__name__)

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/xml", "text/xml", "text/html")
RETRY_STATUSES = (429, 500, 502, 503, 504)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
_CHUNK = 64 * 1024


@dataclass
class FetchResult:
    """One HTTP exchange as seen on the wire (one hop; redirects are separate results)."""

    url: str
    status: int
    reason: str
    http_version: str
    headers: list[tuple[str, str]]
    request_headers: list[tuple[str, str]]
    content: bytes  # decoded body
    raw_body: bytes  # body as sent (Content-Encoding kept), for the WARC record
    fetched_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    # The URL get() was asked for: the start of the redirect chain this hop belongs to, so a
    # caller can tell which of its requests an exchange handed to the recorder served.
    requested_url: str = ""

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.header("ETag")

    @property
    def last_modified(self) -> str | None:
        return self.header("Last-Modified")

    @property
    def content_type(self) -> str | None:
        return self.header("Content-Type")


def accept_language(languages: Iterable[str]) -> str:
    """An Accept-Language header preferring the crawl's languages in profile order ("en,ru;q=0.9")."""
    codes = list(dict.fromkeys(languages))
    parts = [codes[0]] if codes else []
    parts += [f"{code};q={max(0.1, 1 - i / 10):.1f}" for i, code in enumerate(codes[1:], start=1)]
    return ",".join(parts)


class Fetcher:
    """Polite HTTP GETs for one run. Thread-safe; close() when done."""

    def __init__(self, ctx: RunContext, *, allowed_hosts: Iterable[str] | None = None,
                 recorder: Callable[[FetchResult], None] | None = None,
                 on_retry: Callable[[str | None, str], None] | None = None):
        """``allowed_hosts``: the network guard's hosts (default: the context's, the site's own)."""
        settings = self.settings = ctx.settings
        profile = ctx.profile  # its challenge markers screen robots.txt
        self.accept_language = accept_language(ctx.languages)
        self.guard = NetworkGuard(ctx.allowed_hosts if allowed_hosts is None else allowed_hosts,
                                  settings.crawl_allowed_private_hosts)
        self.recorder = recorder
        self.limiter = RateLimiter(settings.crawl_rate_per_host)
        self.retries = 0
        self._on_retry_cb = on_retry
        self._lock = threading.Lock()
        self.robots = (RobotsRules(self._fetch_robots, settings.crawl_user_agent, ttl=settings.crawl_robots_ttl,
                                   retry_unreachable_after=settings.crawl_backoff_max, limiter=self.limiter,
                                   blocked=lambda body: blocked.check(parse_document(body, None, profile), "robots"))
                       if settings.crawl_respect_robots else None)
        self.session = self._session()
        self._retrying = self._retry_policy()
        self._given_up: dict[str, str] = {}  # host -> why the run asks it nothing more (give_up)

    # ---- session -------------------------------------------------------
    def _session(self) -> requests.Session:
        s = self.settings
        session = requests.Session()
        # max_retries=0: urllib3 never retries behind our back; the policy below is the only one.
        adapter = HTTPAdapter(max_retries=0, pool_connections=4, pool_maxsize=max(4, s.crawl_concurrency))
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers.update({
            "User-Agent": s.crawl_user_agent,
            "Accept": "text/html,application/xhtml+xml,application/rss+xml,application/xml;q=0.9,*/*;q=0.5",
            "Accept-Encoding": "gzip, deflate",
        })
        if self.accept_language:
            session.headers["Accept-Language"] = self.accept_language
        return session

    def _retry_policy(self) -> Retrying:
        """The one retry policy of the HTTP boundary (tenacity keeps its state per thread)."""
        return Retrying(
            stop=stop_after_attempt(self.settings.crawl_max_retries + 1),
            retry=retry_if_exception_type(_Transient),
            wait=lambda state: retry_delay(self.settings, state.attempt_number, _retry_after_of(state)),
            before_sleep=self._count_retry,
            retry_error_callback=_give_up,
        )

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _count_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        host = urlsplit(exc.url).hostname if isinstance(exc, _Transient) else None
        why = str(exc)
        with self._lock:
            self.retries += 1
        log.info("retrying %s after %s", host, why)
        if self._on_retry_cb is not None:
            self._on_retry_cb(host, why)

    # ---- checks --------------------------------------------------------
    def check_url(self, url: str) -> None:
        """Raise RefusedURL unless the URL may be requested at all (crawl/hosts.py)."""
        self.guard.check(url)

    def give_up(self, host: str, why: str) -> None:
        """Ask ``host`` (a ``host_key``) nothing more in this run: its further GETs raise ``Blocked`` at once."""
        with self._lock:
            self._given_up.setdefault(host, why)

    def _check_given_up(self, url: str) -> None:
        why = self._given_up.get(host_key(urlsplit(url).hostname or ""))
        if why is not None:
            raise Blocked(f"blocked: not asked {url}: {why}")

    # ---- robots.txt ----------------------------------------------------
    def robots_allows(self, url: str) -> bool:
        """Whether robots.txt lets us fetch ``url`` (asked before paging a listing); an
        unreachable or challenged robots.txt raises like the fetch itself would."""
        if self.robots is None:
            return True
        try:
            self.robots.check(url)
        except RobotsDisallowed:
            return False
        return True

    def _fetch_robots(self, url: str) -> FetchResult:
        """robots.txt of an origin, redirects followed (RFC 9309: at least five), any content type."""
        result, requested = None, url
        for _ in range(self.settings.crawl_max_redirects + 1):
            self.check_url(url)
            result = self._exchange(url, {}, None, requested=requested)
            target = _redirect_target(result)
            if target is None:
                return result
            url = target
        return result  # still a redirect: robots.py reads that as "no robots.txt"

    # ---- GET -----------------------------------------------------------
    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
            accept: tuple[str, ...] | None = HTML_TYPES, byte_range: tuple[int, int] | None = None,
            follow: bool = True) -> FetchResult:
        """Fetch a URL following allowed redirects; 200 or 304, else raise a FetchError.

        ``accept`` None takes any content type (a CDX answer, a WARC record). ``byte_range``
        (first, last byte, both included) asks for part of the resource and takes its 206.
        ``follow=False`` returns a redirect as it came (the archive backfill follows a
        captured redirect inside the archive, not to the address it names)."""
        conditional = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        if byte_range is not None:
            conditional["Range"] = f"bytes={byte_range[0]}-{byte_range[1]}"
        current = url
        for _ in range(self.settings.crawl_max_redirects + 1):
            self.check_url(current)
            self._check_given_up(current)
            if self.robots is not None:
                self.robots.check(current)
            result = self._exchange(current, conditional, accept, requested=url)
            target = _redirect_target(result)
            if target is not None and not follow:
                return result
            if target is not None:
                try:
                    self.check_url(target)
                except RefusedURL as exc:
                    raise RefusedURL(f"redirect from {current} {exc.reason}") from None
                current = target
                continue
            if result.status in (200, 304) or (result.status == 206 and byte_range is not None):
                return result
            raise HttpStatusError(f"HTTP {result.status} {result.reason} for {current}", result.status)
        raise FetchError(f"more than {self.settings.crawl_max_redirects} redirects from {url}")

    def _exchange(self, url: str, headers: dict[str, str], accept: tuple[str, ...] | None, *,
                  requested: str) -> FetchResult:
        """One request and its body under the retry policy; a retryable status still failing is returned."""
        return self._retrying(self._attempt, url, headers, accept, requested)

    def _attempt(self, url: str, headers: dict[str, str], accept: tuple[str, ...] | None,
                 requested: str) -> FetchResult:
        """One try: wait for the host's slot, send, read the body; _Transient when worth another try."""
        s = self.settings
        self.limiter.wait(host_key(urlsplit(url).hostname or ""))
        try:
            resp = self.session.get(url, headers=headers, allow_redirects=False, stream=True,
                                    timeout=(s.crawl_connect_timeout, s.crawl_read_timeout))
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise _NoAnswer(url, _why(exc)) from None
        except requests.exceptions.RequestException as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
        try:
            raw = self._read_capped(resp, url)
        finally:
            resp.close()
        try:
            content = _decoded(resp, raw, s.max_page_bytes, url)
        except Truncated as exc:  # cut short on the way: worth another try, never a page
            raise _CutBody(url, exc.reason) from None
        result = FetchResult(
            url=url, status=resp.status_code, reason=resp.reason or "",
            http_version="HTTP/1.0" if getattr(resp.raw, "version", 11) == 10 else "HTTP/1.1",
            headers=list(resp.raw.headers.items()), request_headers=_request_headers(resp, url),
            content=content, raw_body=raw, requested_url=requested,
        )
        if self.recorder is not None:
            self.recorder(result)  # every attempt is on the wire, so in the archive
        if result.status in RETRY_STATUSES:
            raise _RetryableStatus(result)
        if result.status == 200 and accept is not None:
            _check_type(result, accept)
        return result

    def _read_capped(self, resp: requests.Response, url: str) -> bytes:
        cap = self.settings.max_page_bytes
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise FetchError(f"{url}: response of {declared} bytes is over the {cap}-byte limit")
        chunks, size = [], 0
        try:
            while True:
                chunk = resp.raw.read(_CHUNK, decode_content=False)
                if not chunk:
                    break
                size += len(chunk)
                if size > cap:
                    raise FetchError(f"{url}: response is over the {cap}-byte limit")
                chunks.append(chunk)
        except (Urllib3Error, requests.exceptions.RequestException, OSError) as exc:
            raise _BrokenBody(url, f"body broken off after {size} bytes ({type(exc).__name__})") from None
        return b"".join(chunks)


class _Transient(Exception):
    """An attempt that is worth another try; ``url`` is what was asked."""

    def __init__(self, url: str, why: str):
        super().__init__(why)
        self.url = url


class _NoAnswer(_Transient):
    """No answer at all: connection refused or reset, DNS, connect or read timeout."""


class _BrokenBody(_Transient):
    """The body stopped early (truncated, reset, read timeout)."""


class _CutBody(_Transient):
    """The body came to an end but is not provably whole (sources/body.py): a gzip stream that
    does not end, an HTML page without a length header cut before its end."""


class _RetryableStatus(_Transient):
    """An answer with a status worth retrying (429, 5xx); kept so the last one can be returned."""

    def __init__(self, result: FetchResult):
        super().__init__(result.url, f"HTTP {result.status}")
        self.result = result


def retry_delay(settings: Settings, attempt: int, retry_after: float | None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based).

    The server's Retry-After when it sent one, up to ``crawl_retry_after_max``;
    otherwise ``crawl_backoff_factor * 2**(attempt-1)`` up to ``crawl_backoff_max``,
    plus up to ``crawl_backoff_jitter`` at random so that parallel workers spread out.
    """
    if retry_after is not None:
        return min(retry_after, settings.crawl_retry_after_max)
    backoff = min(settings.crawl_backoff_max, settings.crawl_backoff_factor * 2 ** (attempt - 1))
    return backoff + random.uniform(0, settings.crawl_backoff_jitter)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (RFC 9110: a number of seconds or an HTTP date); None if absent or bad."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _retry_after_of(state: RetryCallState) -> float | None:
    exc = state.outcome.exception() if state.outcome else None
    return parse_retry_after(exc.result.header("Retry-After")) if isinstance(exc, _RetryableStatus) else None


def _give_up(state: RetryCallState) -> FetchResult:
    """After the last attempt: the last status is returned (the caller reports it), the rest raised."""
    exc = state.outcome.exception()
    retries = state.attempt_number - 1
    if isinstance(exc, _RetryableStatus):
        return exc.result
    if isinstance(exc, _NoAnswer):
        raise SiteUnreachable(f"site unreachable: {exc.url}: {exc} (after {retries} retries)")
    if isinstance(exc, _CutBody):
        raise Truncated(f"{exc.url}: {exc} (after {retries} retries)")
    raise FetchError(f"{exc.url}: {exc} (after {retries} retries)")


# urllib3 prefixes its messages with the connection ("<...HTTPConnection object at 0x...>: " or
# "HTTPConnection(host='mid.ru', port=443): "); the URL is in our message already.
_CONNECTION_PREFIX = re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>: |\w+\(host='[^']*', port=\d+\): ")


def _why(exc: requests.exceptions.RequestException) -> str:
    """The root cause of a requests error in a line ("NewConnectionError: ... Connection refused")."""
    inner = exc.args[0] if exc.args else None
    cause = getattr(inner, "reason", None) or inner or exc
    kind = "timed out" if isinstance(exc, requests.exceptions.Timeout) else type(cause).__name__
    return f"{kind}: {_CONNECTION_PREFIX.sub('', str(cause))}"


def _redirect_target(result: FetchResult) -> str | None:
    """The absolute URL a redirect points to, None for any other answer."""
    location = result.header("Location")
    if result.status in REDIRECT_STATUSES and location:
        return urljoin(result.url, location)
    return None


def _request_headers(resp: requests.Response, url: str) -> list[tuple[str, str]]:
    parts = urlsplit(url)
    headers = [("Host", parts.netloc)]
    headers += [(k, v) for k, v in resp.request.headers.items() if k.lower() != "host"]
    return headers


def _decoded(resp: requests.Response, raw: bytes, cap: int, url: str) -> bytes:
    """The body of an answer with its encodings undone; a page (200) only when provably whole.
    The HTTP client has de-chunked it already, and raised on a missing last chunk or on fewer
    bytes than the Content-Length (a broken-off body)."""
    headers = resp.headers
    if resp.status_code != 200:
        try:
            return decode_content(raw, headers.get("Content-Encoding"), cap, url)
        except Truncated:
            return raw  # an error page's text is only ever quoted
    return whole_body(raw, transfer_encoding=None, dechunked="chunked" in headers.get("Transfer-Encoding", "").lower(),
                      content_encoding=headers.get("Content-Encoding"), content_length=headers.get("Content-Length"),
                      content_type=headers.get("Content-Type"), cap=cap, url=url)


def _check_type(result: FetchResult, accept: tuple[str, ...]) -> None:
    media = (result.content_type or "").split(";")[0].strip().lower()
    if media and media not in accept:
        raise FetchError(f"{result.url}: unexpected content type {media}")
