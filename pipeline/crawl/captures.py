"""Stage fetch, from web archives: one capture -> its Page (or the Failure, or why it is skipped).

An ``Archive`` is where a web archive answers (settings ``MFA_WAYBACK_*`` and
``MFA_COMMONCRAWL_*``; any pywb-compatible archive fits the first pair). A
``CaptureReader`` reads captures with the crawl's ``Fetcher`` (one retry policy,
Retry-After, backoff, the User-Agent, the network guard: the archive's hosts only):

- Wayback Machine API: raw (no rewriting) at ``{replay}{timestamp}id_/{url}``; when the
  archive answers with its nearest capture (a redirect, ``Content-Location``,
  ``Memento-Datetime`` of RFC 7089) the page names the capture it came from;
- Common Crawl: the WARC record at ``filename, offset, length`` by an HTTP Range
  request, handed to the WARC reader (``sources/warc.py``).

A captured anti-bot challenge (``extract/challenge.py``) is a ``blocked`` Failure; a
redirect capture is followed inside the archive (its target's nearest HTML capture),
never to the address it names. Every page's ``source`` is the capture's address, which
holds the archive, the capture time and the original URL (provenance), and from which
``capture_at`` reads the capture back (a redrive reads it again from the archive).
"""

from __future__ import annotations

import re
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from io import BytesIO
from urllib.parse import urlencode, urljoin, urlsplit

from warcio.archiveiterator import ArchiveIterator

from pipeline.context import RunContext
from pipeline.crawl.fetch import REDIRECT_STATUSES, Fetcher
from pipeline.model.errors import Blocked, FetchError
from pipeline.profile import SiteProfile
from pipeline.model.records import Failure, Page
from pipeline.settings import Settings
from pipeline.sources.cdx import Capture, parse_cdx, replay_url, split_replay_url
from pipeline.extract.challenge import archived_challenge
from pipeline.extract.document import parse_document
from pipeline.sources.warc import iter_warc_bytes

ARCHIVE_SOURCES = ("wayback", "commoncrawl")
# A Common Crawl capture's address: {data}{filename}#offset=..&length=..&timestamp=..&url=...
_RECORD = re.compile(r"^(?P<file>[^#]+)#offset=(?P<offset>\d+)&length=(?P<length>\d+)"
                     r"&timestamp=(?P<ts>\d+)&url=(?P<url>.+)$")


@dataclass(frozen=True)
class Archive:
    """Where one web archive answers: its CDX server and where captures are read."""

    name: str
    cdx_url: str
    replay_url: str | None = None  # Wayback Machine API: {replay}{timestamp}id_/{url}
    data_url: str | None = None  # Common Crawl: {data}{filename}, read by byte ranges

    def hosts(self) -> set[str]:
        urls = [self.cdx_url, self.replay_url, self.data_url]
        return {urlsplit(u).hostname or "" for u in urls if u} - {""}

    def address(self, capture: Capture) -> str:
        """Where a capture is read; for Common Crawl the WARC record's place, then (provenance)
        the capture time and the original URL, last as it may hold any character."""
        if self.replay_url:
            return replay_url(self.replay_url, capture.timestamp, capture.url)
        return (f"{self.data_url.rstrip('/')}/{capture.filename}#offset={capture.offset}"
                f"&length={capture.length}&timestamp={capture.timestamp}&url={capture.url}")

    def capture_at(self, address: str) -> Capture | None:
        """The capture an address of this archive names (an HTML 200 capture), or None."""
        if self.replay_url:
            found = split_replay_url(self.replay_url, address)
            return Capture(found[1], found[0], "200", "text/html", "") if found else None
        prefix = self.data_url.rstrip("/") + "/"
        found = _RECORD.match(address[len(prefix):]) if address.startswith(prefix) else None
        if found is None:
            return None
        return Capture(found["url"], found["ts"], "200", "text/html", "", filename=found["file"],
                       offset=int(found["offset"]), length=int(found["length"]))


def archive_for(source: str, settings: Settings) -> Archive:
    if source == "wayback":
        return Archive("wayback", settings.wayback_cdx_url, replay_url=settings.wayback_replay_url)
    if source == "commoncrawl":
        return Archive("commoncrawl", settings.commoncrawl_index_url, data_url=settings.commoncrawl_data_url)
    raise ValueError(f"unknown archive source {source!r}; known: {', '.join(ARCHIVE_SOURCES)}")


def archive_settings(settings: Settings) -> Settings:
    """The fetcher's settings for an archive: its own rate; no robots.txt (archives are read
    through their APIs, whose etiquette is the rate, docs/crawling.md)."""
    return settings.model_copy(update={"crawl_rate_per_host": settings.archive_rate_per_host,
                                       "crawl_respect_robots": False})


def open_reader(ctx: RunContext, archive: Archive, stack: ExitStack, **fetcher_options) -> "CaptureReader":
    """A reader of ``archive`` whose fetcher (closed with ``stack``) touches the archive's hosts
    only, at the archive's rate (``archive_settings``)."""
    archive_ctx = replace(ctx, settings=archive_settings(ctx.settings))
    fetcher = stack.enter_context(Fetcher(archive_ctx, allowed_hosts=archive.hosts(), **fetcher_options))
    return CaptureReader(archive, fetcher, ctx.profile, ctx.settings.max_page_bytes)


def archive_of(address: str, settings: Settings) -> Archive | None:
    """The configured archive whose capture address ``address`` is (a dead letter's source), or None."""
    return next((a for a in map(lambda name: archive_for(name, settings), ARCHIVE_SOURCES)
                 if a.capture_at(address) is not None), None)


class CaptureReader:
    """Reads captures of one archive with a fetcher allowed on the archive's hosts."""

    def __init__(self, archive: Archive, fetcher: Fetcher, profile: SiteProfile, max_bytes: int):
        self.archive, self.fetcher, self.profile, self.max_bytes = archive, fetcher, profile, max_bytes

    def query(self, **params: str) -> list[Capture]:
        """The captures a CDX query lists (JSON output, either shape)."""
        answer = self.fetcher.get(f"{self.archive.cdx_url}?{urlencode({**params, 'output': 'json'})}", accept=None)
        return parse_cdx(answer.content)

    def read(self, capture: Capture) -> Page | Failure | str:
        """The captured page (``url`` the original URL, ``fetched_at`` the capture time), its
        Failure (a challenge is ``blocked``), or why it is skipped."""
        address = self.archive.address(capture)
        try:
            if capture.status != "200":
                followed = self._follow(capture)
                if isinstance(followed, str):
                    return followed
                capture, address = followed, self.archive.address(followed)
            page = self._read(capture, address)
        except FetchError as exc:
            return Failure.from_error(exc, source=address, url=capture.url)
        if isinstance(page, (Failure, str)):
            return page
        challenge = archived_challenge(parse_document(page.content, page.content_type, self.profile))
        if challenge is not None:
            exc = Blocked(f"blocked: {challenge}, captured by {self.archive.name} at {capture.timestamp}")
            return Failure.from_error(exc, source=page.source, url=capture.url, raw=page.content)
        return page

    def _read(self, capture: Capture, address: str) -> Page | Failure | str:
        if self.archive.replay_url:
            answer = self.fetcher.get(address)
            # The archive may answer with its nearest capture: the provenance names the capture read.
            source = urljoin(answer.url, answer.header("Content-Location") or answer.url)
            landed = split_replay_url(self.archive.replay_url, source)
            if landed is None:
                source, landed = answer.url, split_replay_url(self.archive.replay_url, answer.url)
            when = _memento_time(answer.header("Memento-Datetime"))
            if when is None:
                when = Capture(capture.url, landed[0], "200", "", "").captured_at if landed else capture.captured_at
            return Page(source=source, url=capture.url, content=answer.content,
                        content_type=answer.content_type, fetched_at=when)
        if capture.filename is None or capture.offset is None or not capture.length:
            return "index entry without filename, offset and length"
        reasons: Counter = Counter()
        for item in iter_warc_bytes(self._range(capture), address, profile=self.profile,
                                    max_bytes=self.max_bytes, skipped=reasons):
            update = {"source": address} if isinstance(item, Failure) else {
                "source": address, "url": capture.url, "fetched_at": item.fetched_at or capture.captured_at}
            return item.model_copy(update=update)
        return f"WARC record not read ({', '.join(reasons) or 'empty'})"

    def _range(self, capture: Capture) -> bytes:
        """One WARC record of a Common Crawl file, by an HTTP Range request."""
        data_file = f"{self.archive.data_url.rstrip('/')}/{capture.filename}"
        answer = self.fetcher.get(data_file, accept=None,
                                  byte_range=(capture.offset, capture.offset + capture.length - 1))
        return answer.content

    def _follow(self, capture: Capture) -> Capture | str:
        """The capture a redirect capture leads to inside the archive, or why it is skipped."""
        if self.archive.replay_url:
            answer = self.fetcher.get(replay_url(self.archive.replay_url, capture.timestamp, capture.url),
                                      accept=None, follow=False)
            location = answer.header("Location")
            if answer.status not in REDIRECT_STATUSES or not location:
                return f"redirect capture answered HTTP {answer.status} without a location"
            inside = split_replay_url(self.archive.replay_url, urljoin(answer.url, location))
            target = inside[1] if inside else urljoin(capture.url, location)
        else:
            target = self._location_in_warc(capture)
            if target is None:
                return "redirect capture without a location"
        if self.profile.crawl.section_of(target) is None:
            return "redirect to a page outside the article patterns"
        near = self._nearest(target, capture.timestamp)
        return near if near is not None else "redirect to a page the archive has no capture of"

    def _nearest(self, url: str, timestamp: str) -> Capture | None:
        """The archive's HTML 200 capture of ``url`` nearest to ``timestamp``."""
        found = [c for c in self.query(url=url, closest=timestamp, sort="closest", limit="10")
                 if c.status == "200" and c.is_html]
        return min(found, key=lambda c: abs(int(c.timestamp) - int(timestamp)), default=None)

    def _location_in_warc(self, capture: Capture) -> str | None:
        for record in ArchiveIterator(BytesIO(self._range(capture))):
            if record.http_headers is not None and record.http_headers.get_header("Location"):
                return urljoin(capture.url, record.http_headers.get_header("Location"))
        return None


def _memento_time(value: str | None):
    """The capture time an archive states (``Memento-Datetime``, an HTTP date), or None."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
