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
cut short), is a Failure with reason ``truncated ...``. A corrupt gzip member in a
``.warc.gz`` is skipped: the file is scanned from the start of the broken member
for the next gzip member header (``1f 8b 08``) and warcio's ArchiveIterator is
opened again at that offset (a .warc.gz is one gzip member per record, so a member
boundary is a record boundary); the skipped span is one Failure and every record
after it is read.
"""

from __future__ import annotations

import logging
import zlib
from collections import Counter
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
from pipeline.model.ids import host_key
from pipeline.settings import DEFAULT_PAGE_BYTES
from pipeline.model.records import HTML_TYPES, Failure, ListingHints, Page
from pipeline.sources.corpus import is_corpus_name

# What the listing said about an article, carried in the response record (written by crawl/warcwriter.py).
HINTS_HEADER = "MFA-Hints"

log = logging.getLogger(__name__)

WARC_SUFFIXES = (".warc", ".warc.gz")
_GZIP_MAGIC = b"\x1f\x8b\x08"
_SCAN_BLOCK = 1 << 20


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
    patterns = [s.article_pattern for s in profile.crawl.sections]
    return lambda url: any(p.search(urlsplit(url).path) for p in patterns)


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

    Every record not taken is counted in ``skipped`` by reason ("not an article URL", "status 404",
    "not HTML: application/pdf", ...). ``any_url_hosts``: take every HTML page on those hosts instead
    of article URLs only.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    wanted = host_matcher(any_url_hosts) if any_url_hosts is not None else article_matcher(profile)
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
    gzipped = fh.read(3) == _GZIP_MAGIC
    start: int | None = 0
    while start is not None:
        start = yield from _iter_from(fh, path, start, gzipped, wanted, max_bytes, skipped)


def _iter_from(fh, path: Path, start: int, gzipped: bool, wanted, max_bytes: int, skipped: Counter):
    """Read records from ``start``; return where to resume after a corrupt gzip member, or None at the end."""
    fh.seek(start)
    records = ArchiveIterator(fh)
    current = start  # the member being read when an error comes
    try:
        for record in records:
            if record.format != "warc":
                # warcio would read garbage as an old ARC record; we only take WARC.
                raise ArchiveLoadFailed("not a WARC file (no WARC record header)")
            item = _page_of(record, str(path), wanted, max_bytes)
            # The offset is only known once the record has been read through.
            current = records.get_record_offset()
            source = f"{path}#{current}"
            current += records.get_record_length()
            if isinstance(item, str):
                skipped[item] += 1
            elif isinstance(item, dict):
                yield Page(source=source, **item)
            else:
                yield item.model_copy(update={"source": source})
        return None
    except (ArchiveLoadFailed, EOFError, ValueError, zlib.error) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    if not gzipped:
        if current == 0:
            yield Failure(source=str(path), stage="source", reason=f"cannot read WARC: {problem}")
        else:
            yield Failure(source=f"{path}#{current}", stage="source",
                          reason=f"cannot read WARC after offset {current}: {problem}")
        return None
    resume = _next_member(fh, current + 1)
    end = "the end of the file" if resume is None else f"the next gzip member at {resume}"
    yield Failure(source=f"{path}#{current}", stage="source",
                  reason=f"corrupt gzip member: skipped bytes {current} to {end} ({problem})")
    return resume


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
    if not url or not wanted(url):
        return "not an article URL"
    status = record.http_headers.get_statuscode()
    if status != "200":
        return f"status {status}"
    ctype = record.http_headers.get_header("Content-Type") or ""
    if ctype and ctype.split(";")[0].strip().lower() not in HTML_TYPES:
        return f"not HTML: {ctype.split(';')[0].strip().lower()}"
    cut = record.rec_headers.get_header("WARC-Truncated")
    if cut:
        return Failure(source=source, url=url, stage="source", reason=f"truncated (WARC-Truncated: {cut})")
    try:
        body = record.content_stream().read(max_bytes + 1)
    except zlib.error:
        raise  # the gzip member itself is broken: _iter_from skips it
    except Exception as exc:  # warcio raises assorted errors on broken gzip/chunked payloads
        return Failure(source=source, url=url, stage="source", reason=f"broken WARC record: {type(exc).__name__}")
    if len(body) > max_bytes:
        return Failure(source=source, url=url, stage="source", reason=f"record over the {max_bytes}-byte limit")
    short = _shortfall(record)
    if short:
        return Failure(source=source, url=url, stage="source", reason=f"truncated: {short}")
    return {"content": body, "url": url, "content_type": ctype or None,
            "fetched_at": _warc_date(record), "hints": _hints(record)}


def _shortfall(record) -> str | None:
    """Why a record's payload is shorter than declared (read through already), or None."""
    missing = getattr(record.raw_stream, "limit", 0)
    if missing > 0:  # the file ended before the WARC Content-Length
        return f"{missing} bytes missing of the WARC Content-Length {record.length}"
    declared = record.http_headers.get_header("Content-Length")
    if declared and declared.strip().isdigit() and not record.http_headers.get_header("Transfer-Encoding"):
        if 0 <= record.payload_length < int(declared):
            return f"payload of {record.payload_length} bytes, HTTP Content-Length {declared}"
    return None
