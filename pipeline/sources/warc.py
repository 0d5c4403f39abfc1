"""Source: WARC files -> Pages, to run the rest of the pipeline without crawling again.

Reads WARC/1.0 and 1.1, gzipped or not, from our crawler (pipeline/warcstore.py)
or from other tools (``wget --warc-file``, heritrix...): every ``response`` record
with HTTP status 200 and an HTML or text body becomes a Page whose bytes are the
payload with transfer and content encodings undone (warcio). With a site profile,
only URLs that match an article pattern of a crawl section are kept, so listing
pages, feeds and robots.txt are left out. Hints written by our crawler (the
``MFA-Hints`` header) come back as ``Page.hints``. A file that cannot be read, or
a record that breaks off, is a Failure and the next record or file goes on.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from pipeline.profile import SiteProfile
from pipeline.ids import host_key
from pipeline.settings import DEFAULT_PAGE_BYTES
from pipeline.records import HTML_TYPES, Failure, Page

# What the listing said about an article, carried in the response record (written by warcstore.py).
HINTS_HEADER = "MFA-Hints"
WARC_SUFFIXES = (".warc", ".warc.gz")


class ArchiveInput(NamedTuple):
    kind: str  # "warc" (a WARC file) or "dumps" (a text-dump folder or file)
    path: Path


def is_warc_name(path: Path | str) -> bool:
    return Path(path).name.endswith(WARC_SUFFIXES)


def expand_archive_inputs(paths: Path | str | Iterable[Path | str]) -> list[ArchiveInput]:
    """The one way to read archive inputs (replay, reindex, backfill partitions).

    A folder holding WARC files gives each of them, in name order; a WARC file is
    itself; anything else (a folder of text dumps, a dump file, a missing path) is
    a dump input, whose reader reports what is wrong with it.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    inputs: list[ArchiveInput] = []
    for raw in paths:
        path = Path(raw)
        warcs = sorted(p for p in path.iterdir() if p.is_file() and is_warc_name(p)) if path.is_dir() else []
        if warcs:
            inputs += [ArchiveInput("warc", p) for p in warcs]
        else:
            inputs.append(ArchiveInput("warc" if is_warc_name(path) else "dumps", path))
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


def _hints(record) -> dict[str, str]:
    raw = record.rec_headers.get_header(HINTS_HEADER)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


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
        path = Path(raw_path)
        if not path.is_file():
            yield Failure(source=str(path), stage="source", reason="WARC file does not exist")
            continue
        yield from _iter_file(path, wanted, max_bytes, skipped)


def _iter_file(path: Path, wanted, max_bytes: int, skipped: Counter) -> Iterator[Page | Failure]:
    try:
        with path.open("rb") as fh:
            records = ArchiveIterator(fh)
            for record in records:
                if record.format != "warc":
                    # warcio would read garbage as an old ARC record; we only take WARC.
                    yield Failure(source=str(path), stage="source", reason="not a WARC file (no WARC record header)")
                    return
                item = _page_of(record, str(path), wanted, max_bytes)
                if isinstance(item, str):
                    skipped[item] += 1
                elif item is not None:
                    # The offset is only known once the record has been read through.
                    source = f"{path}#{records.get_record_offset()}"
                    yield Page(source=source, **item) if isinstance(item, dict) else item.model_copy(
                        update={"source": source})
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
        yield Failure(source=str(path), stage="source", reason=f"cannot read WARC: {type(exc).__name__}: {exc}")


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
    try:
        body = record.content_stream().read(max_bytes + 1)
    except Exception as exc:  # warcio raises assorted errors on broken gzip/chunked payloads
        return Failure(source=source, url=url, stage="source", reason=f"broken WARC record: {type(exc).__name__}")
    if len(body) > max_bytes:
        return Failure(source=source, url=url, stage="source", reason=f"record over the {max_bytes}-byte limit")
    return {"content": body, "url": url, "content_type": ctype or None,
            "fetched_at": _warc_date(record), "hints": _hints(record)}
