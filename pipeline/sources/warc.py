"""Source: WARC files -> Pages, to run the rest of the pipeline without crawling again.

Reads WARC/1.0 and 1.1, gzipped or not, from our crawler (pipeline/crawl/warcwriter.py)
or from other tools (``wget --warc-file``, heritrix...): every ``response`` record
with HTTP status 200 and an HTML or text body becomes a Page whose bytes are the
payload with transfer and content encodings undone (warcio). With a site profile,
only URLs that match an article pattern of a crawl section are kept, so listing
pages, feeds and robots.txt are left out. Hints written by our crawler (the
``MFA-Hints`` header, JSON of ``ListingHints``; the older string form with ``date``
still reads) come back as ``Page.hints``. A file that cannot be read, or
a record that breaks off, is a Failure and the next record or file goes on.

Damage never becomes a document: a record marked ``WARC-Truncated``, or whose
payload is shorter than its WARC or HTTP ``Content-Length`` (a download or a file
cut short), is a Failure with reason ``truncated ...``. A ``.warc.gz`` is decompressed
here, member by member (``_Members``), and warcio parses the plain bytes: a member's
records are given out once its CRC has checked, so a corrupt member (bad data, bad CRC,
cut short) costs only its own record. The file is then scanned from the start of the
broken member for the next gzip member header (``1f 8b 08``) and read on from there (a
.warc.gz is one gzip member per record, so a member boundary is a record boundary); the
skipped span is one Failure naming its byte range, and every record after it is read.
A file compressed as one gzip stream (not the standard, but some tools write it) is
read record by record the same way. ARC files (``.arc``, ``.arc.gz``, or a file that
starts with an ARC ``filedesc://`` header) are read by warcio too, their records
converted to WARC headers (``arc2warc``). Every record not taken (requests, revisits,
metadata, warcinfo...) is counted by reason in ``skipped``.
"""

from __future__ import annotations

import io
import logging
import zlib
from collections import Counter, deque
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from pydantic import ValidationError
from warcio.exceptions import ArchiveLoadFailed

from pipeline import storage
from pipeline.profile import SiteProfile
from pipeline.model.errors import PipelineError
from pipeline.model.ids import host_key
from pipeline.settings import DEFAULT_PAGE_BYTES
from pipeline.model.records import HTML_TYPES, Failure, ListingHints, Page
from pipeline.sources.body import whole_body
from pipeline.sources.corpus import is_corpus_name

# What the listing said about an article, carried in the response record (written by crawl/warcwriter.py).
HINTS_HEADER = "MFA-Hints"

log = logging.getLogger(__name__)

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")  # warcio reads ARC, the WARC's predecessor
ARC_SUFFIXES = (".arc", ".arc.gz")
_GZIP_MAGIC = b"\x1f\x8b\x08"
_ARC_START = b"filedesc://"  # an ARC file's first record (its version block)
_SCAN_BLOCK = 1 << 20
_READ_BLOCK = 64 * 1024
_HELD_BYTES = 16 * 1024 * 1024  # a member's bytes held back until its CRC checks, up to this size


class ArchiveInput(NamedTuple):
    kind: str  # "warc" (a WARC file), "corpus" (a CSV or JSON-lines file) or "dumps" (a text-dump folder or file)
    path: storage.Location  # a Path, or a URL (s3://...) for WARC files in an object store


def is_warc_name(path: Path | str) -> bool:
    return storage.name_of(path).endswith(WARC_SUFFIXES)


def expand_archive_inputs(paths: Path | str | Iterable[Path | str]) -> list[ArchiveInput]:
    """The one way to read archive inputs (replay, reindex, backfill partitions).

    A folder holding WARC files gives each of them, in name order; a WARC file is
    itself; so are corpus files (CSV, JSON lines: sources/corpus.py) and a folder of them; anything else (a folder of text dumps, a dump file, a missing path) is
    a dump input, whose reader reports what is wrong with it. Inputs may be URLs
    (``file://``, ``s3://``...; pipeline/storage.py), text-dump folders too.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    inputs: list[ArchiveInput] = []
    for raw in paths:
        path = storage.normalize(raw if isinstance(raw, Path) else str(raw))
        files = storage.files_in(path) if storage.is_folder(path) else []
        warcs = [p for p in files if is_warc_name(p)]
        corpora = [p for p in files if is_corpus_name(p)]
        if warcs:
            inputs += [ArchiveInput("warc", p) for p in warcs]
        elif corpora:
            inputs += [ArchiveInput("corpus", p) for p in corpora]
        else:
            kind = "warc" if is_warc_name(path) else "corpus" if is_corpus_name(path) else "dumps"
            inputs.append(ArchiveInput(kind, path))
    return inputs


def article_matcher(profile: SiteProfile | None):
    """A predicate on URLs: True for article pages of the profile's crawl sections (all URLs without one)."""
    if profile is None or not profile.crawl.sections:
        return lambda url: True
    patterns = list(dict.fromkeys(s.article_pattern for s in profile.crawl.sections))  # sections share some

    def is_article(url: str) -> bool:
        path = urlsplit(url).path  # once, not once per section: a replay asks for every record
        return any(p.search(path) for p in patterns)

    return is_article


EXPECTED_SKIP = "(expected, not an article)"


def article_or_reason(profile: SiteProfile | None):
    """``article_matcher``, telling the crawl's own other pages apart: True for an article, else why the
    record is skipped: robots.txt, a listing page or a feed of the profile (every crawl archives
    them: expected), or "not an article URL" (a page the profile does not know)."""
    is_article = article_matcher(profile)
    listings = {listing.path for s in (profile.crawl.sections if profile else []) for listing in s.listings.values()}
    feeds = {feed.path for feed in (profile.crawl.feeds if profile else [])}

    def verdict(url: str) -> bool | str:
        if is_article(url):
            return True
        path = urlsplit(url).path
        if path == "/robots.txt":
            return f"robots.txt {EXPECTED_SKIP}"
        if path in listings:
            return f"listing page {EXPECTED_SKIP}"
        if path in feeds:
            return f"feed {EXPECTED_SKIP}"
        return False

    return verdict


def _target_uri(record) -> str:
    # Some writers (older wget) put the URI in angle brackets.
    return (record.rec_headers.get_header("WARC-Target-URI") or "").strip().strip("<>")


def _warc_date(record) -> datetime | None:
    value = record.rec_headers.get_header("WARC-Date")
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _hints(record) -> ListingHints:
    """The listing hints of a record (ours, or the old string header with ``date``); a header that
    does not validate is ignored with a warning, the record itself still counts."""
    raw = record.rec_headers.get_header(HINTS_HEADER)
    if not raw:
        return ListingHints()
    try:
        return ListingHints.model_validate_json(raw)
    except ValidationError as exc:
        log.warning("ignoring the %s header of %s: %s", HINTS_HEADER,
                    record.rec_headers.get_header("WARC-Target-URI"), exc.errors(include_url=False)[:1])
        return ListingHints()


def host_matcher(hosts: Iterable[str]):
    """A predicate on URLs: True for any URL on one of ``hosts`` (``replay --any-url``)."""
    wanted = {host_key(h) for h in hosts}
    return lambda url: host_key(urlsplit(url).hostname or "") in wanted


def iter_warc(paths: Path | str | Iterable[Path | str], *, profile: SiteProfile | None = None,
              max_bytes: int = DEFAULT_PAGE_BYTES, skipped: Counter | None = None,
              any_url_hosts: Iterable[str] | None = None) -> Iterator[Page | Failure]:
    """Yield one Page per archived 200 HTML/text response (article pages only, given a profile).

    Every record not taken is counted in ``skipped`` by reason ("not an article URL", "listing page
    (expected, not an article)", "status 404",
    "not HTML: application/pdf", ...). ``any_url_hosts``: take every HTML page on those hosts instead
    of article URLs only.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    wanted = host_matcher(any_url_hosts) if any_url_hosts is not None else article_or_reason(profile)
    skipped = skipped if skipped is not None else Counter()
    for raw_path in paths:
        path = storage.normalize(raw_path if isinstance(raw_path, Path) else str(raw_path))
        if not storage.is_file(path):
            yield Failure(source=str(path), stage="source", reason="WARC file does not exist")
            continue
        yield from _iter_file(path, wanted, max_bytes, skipped)


def iter_warc_bytes(data: bytes, source: str, *, profile: SiteProfile | None = None,
                    max_bytes: int = DEFAULT_PAGE_BYTES, skipped: Counter | None = None) -> Iterator[Page | Failure]:
    """``iter_warc`` over WARC records held in memory (a record read from a web archive with an
    HTTP Range request); ``source`` names them (``source#offset`` as for a file)."""
    skipped = skipped if skipped is not None else Counter()
    yield from _iter_stream(BytesIO(data), source, article_matcher(profile), max_bytes, skipped)


def _iter_file(path: storage.Location, wanted, max_bytes: int, skipped: Counter) -> Iterator[Page | Failure]:
    try:
        with storage.open_file(path, "rb") as fh:
            yield from _iter_stream(fh, path, wanted, max_bytes, skipped)
    except OSError as exc:
        yield Failure(source=str(path), stage="source", reason=f"cannot read WARC: {type(exc).__name__}: {exc}")


def _iter_stream(fh, path, wanted, max_bytes: int, skipped: Counter) -> Iterator[Page | Failure]:
    """The records of a WARC or ARC file (``fh`` from its start), gzipped member by member or not."""
    arc = str(path).endswith(ARC_SUFFIXES)
    head = fh.read(len(_ARC_START))
    if not head.startswith(_GZIP_MAGIC):
        yield from _iter_records(_Plain(fh), path, wanted, max_bytes, skipped, arc=arc or head == _ARC_START)
        return
    start: int | None = 0
    while start is not None:
        start = yield from _iter_records(_Members(fh, start), path, wanted, max_bytes, skipped, arc=arc)


class _BadMember(Exception):
    """A gzip member that does not decompress whole (bad data, bad CRC, cut short)."""

    def __init__(self, start: int, why: str):
        super().__init__(why)
        self.start = start


class _Plain(io.RawIOBase):
    """An uncompressed WARC or ARC file from its start: offsets are the file's own."""

    def __init__(self, fh):
        self.fh = fh
        fh.seek(0)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.fh.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def tell(self) -> int:
        return self.fh.tell()

    def peek(self, size: int) -> bytes:
        return b""  # the caller read the head already

    def source(self, path, offset: int) -> str:
        return f"{path}#{offset}"


class _Members(io.RawIOBase):
    """The decompressed bytes of a gzipped WARC/ARC file from the member at ``start``, member
    after member: a file with one member per record (the standard) and a file compressed as
    one stream read the same way, record by record. A member's bytes are given out only once
    its CRC has checked (unless it is over ``_HELD_BYTES``: one stream of a whole file; or the
    file ends inside it: the records' own lengths then tell the whole ones from the one cut),
    and no read crosses a member boundary, so a broken member (``_BadMember``, with its
    offset) never costs the records before it."""

    def __init__(self, fh, start: int):
        self.fh = fh
        fh.seek(start)
        self.fed = start  # compressed offset of the next byte to feed
        self.produced = 0  # decompressed bytes handed out (warcio's offsets)
        self.starts: deque[tuple[int, int]] = deque(maxlen=64)  # (decompressed, compressed) offset of members
        self.ready = bytearray()  # verified decompressed bytes, not handed out yet
        self.ends: deque[int] = deque()  # decompressed offsets where members end, within ``ready``
        self._begin(start, bytearray())

    def _begin(self, compressed_start: int, input_left: bytearray) -> None:
        self.member = compressed_start
        self.starts.append((self.produced + len(self.ready), compressed_start))
        self.decoder = zlib.decompressobj(wbits=31)
        self.held = bytearray()
        self.input = input_left

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.produced

    def peek(self, size: int) -> bytes:
        while len(self.ready) < size and self._fill():
            pass
        return bytes(self.ready[:size])

    def readinto(self, buffer) -> int:
        while not self.ready and self._fill():
            pass
        while self.ends and self.ends[0] <= self.produced:
            self.ends.popleft()
        size = len(buffer) if not self.ends else min(len(buffer), self.ends[0] - self.produced)
        data = self.ready[:size]  # never across a member boundary
        del self.ready[:len(data)]
        buffer[:len(data)] = data
        self.produced += len(data)
        return len(data)

    def _fill(self) -> bool:
        """Decompress until some verified bytes are ready; False at the end of the file."""
        if not self.input:
            block = self.fh.read(_READ_BLOCK)
            if not block:
                if self.fed == self.member:
                    return False
                if self.held:  # a file cut short: what did decompress is given out, the records' own
                    self.ready += self.held  # lengths tell the whole ones from the one cut
                    self.held = bytearray()
                    return True
                raise _BadMember(self.member, "the file ends inside this gzip member")
            self.input = bytearray(block)
            self.fed += len(block)
        try:
            out = self.decoder.decompress(bytes(self.input), _READ_BLOCK)
        except zlib.error as exc:
            raise _BadMember(self.member, f"zlib: {exc}") from None
        self.input = bytearray(self.decoder.unconsumed_tail)
        self.held += out
        if self.decoder.eof:  # the member ended, its CRC and length checked
            rest = bytearray(self.decoder.unused_data)  # what follows the member (unconsumed_tail repeats it)
            self.ready += self.held
            self.ends.append(self.produced + len(self.ready))
            self._begin(self.fed - len(rest), rest)
        elif len(self.held) > _HELD_BYTES:  # one stream for many records: give it out as it comes
            self.ready += self.held
            self.held = bytearray()
        return True

    def source(self, path, offset: int) -> str:
        """A record's source: the compressed offset of its member, ``+`` where it starts inside it."""
        inner, member = next(((d, c) for d, c in reversed(self.starts) if d <= offset), (0, self.member))
        return f"{path}#{member}" if offset == inner else f"{path}#{member}+{offset - inner}"


def _iter_records(stream, path: storage.Location, wanted, max_bytes: int, skipped: Counter, *, arc: bool):
    """Read the records of ``stream``; return where to resume after a broken gzip member, or None."""
    current = stream.tell()
    try:
        arc = arc or (current == 0 and stream.peek(len(_ARC_START)) == _ARC_START)
        records = ArchiveIterator(stream, arc2warc=arc)
        for record in records:
            if record.format not in ("warc", "arc2warc"):
                # warcio reads anything as an old ARC record; ARC is taken when the file starts as one
                raise ArchiveLoadFailed("not a WARC file, nor an ARC file (no WARC record header)")
            current = records.offset  # where this record starts (warcio sets it before parsing one)
            item = _page_of(record, str(path), wanted, max_bytes)
            source = stream.source(path, current)
            if isinstance(item, str):
                skipped[item] += 1
            elif isinstance(item, dict):
                yield Page(source=source, **item)
            else:
                yield item.model_copy(update={"source": source})
        return None
    except _BadMember as exc:
        resume = _next_member(stream.fh, exc.start + 1)
        end = "the end of the file" if resume is None else f"the next gzip member at {resume}"
        yield Failure(source=f"{path}#{exc.start}", stage="source",
                      reason=f"corrupt gzip member: skipped bytes {exc.start} to {end} ({exc})")
        return resume
    except (ArchiveLoadFailed, EOFError, ValueError, zlib.error) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    if current == 0:
        yield Failure(source=str(path), stage="source", reason=f"cannot read WARC: {problem}")
    else:
        yield Failure(source=stream.source(path, current), stage="source",
                      reason=f"cannot read WARC after offset {current}: {problem}")
    return None


def _next_member(fh, offset: int) -> int | None:
    """The offset of the next gzip member header at or after ``offset``, or None."""
    fh.seek(offset)
    carry = b""
    position = offset
    while True:
        block = fh.read(_SCAN_BLOCK)
        if not block:
            return None
        data = carry + block
        found = data.find(_GZIP_MAGIC)
        if found >= 0:
            return position - len(carry) + found
        carry = data[-(len(_GZIP_MAGIC) - 1):]
        position += len(block)


def _page_of(record, source: str, wanted, max_bytes: int) -> dict | Failure | str:
    """The fields of a Page (built once its offset is known), a Failure, or the reason it is skipped."""
    if record.rec_type != "response":
        return f"not a response record ({record.rec_type})"
    if record.http_headers is None:
        return "response without HTTP headers"
    url = _target_uri(record)
    verdict = wanted(url) if url else False
    if verdict is not True:  # ``wanted`` may say why (article_or_reason)
        return verdict if isinstance(verdict, str) else "not an article URL"
    status = record.http_headers.get_statuscode()
    if status != "200":
        return f"status {status}"
    ctype = record.http_headers.get_header("Content-Type") or ""
    if ctype and ctype.split(";")[0].strip().lower() not in HTML_TYPES:
        return f"not HTML: {ctype.split(';')[0].strip().lower()}"
    cut = record.rec_headers.get_header("WARC-Truncated")
    if cut:
        return Failure(source=source, url=url, stage="source", kind="truncated",
                       reason=f"truncated (WARC-Truncated: {cut})")
    try:
        raw = record.raw_stream.read(max_bytes + 1)  # the body as it was on the wire
    except (zlib.error, _BadMember):
        raise  # the gzip member itself is broken: _iter_records skips it
    except Exception as exc:  # warcio raises assorted errors on broken records
        return Failure(source=source, url=url, stage="source", reason=f"broken WARC record: {type(exc).__name__}")
    if len(raw) > max_bytes:
        return Failure(source=source, url=url, stage="source", reason=f"record over the {max_bytes}-byte limit")
    missing = getattr(record.raw_stream, "limit", 0)
    if missing > 0:  # the file ended before the WARC Content-Length
        return Failure(source=source, url=url, stage="source", kind="truncated",
                       reason=f"truncated: {missing} bytes missing of the WARC Content-Length {record.length}")
    headers = record.http_headers
    try:
        body = whole_body(raw, transfer_encoding=headers.get_header("Transfer-Encoding"),
                          content_encoding=headers.get_header("Content-Encoding"),
                          content_length=headers.get_header("Content-Length"), content_type=ctype or "text/html",
                          cap=max_bytes, url=url, archived=True)
    except PipelineError as exc:  # Truncated (class truncated), or an encoding that does not decode
        return Failure(source=source, url=url, stage="source", kind=exc.kind, reason=exc.reason)
    return {"content": body, "url": url, "content_type": ctype or None,
            "fetched_at": _warc_date(record), "hints": _hints(record)}
