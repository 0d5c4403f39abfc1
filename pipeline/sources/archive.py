"""Source: archive inputs -> Pages. The one reader behind ingest, replay, backfill partitions
and reindex from archives.

An archive input is a text-dump folder or file, a WARC file, a corpus file (CSV or
JSON lines, a row per transcript), or a folder of WARC or corpus files (``warc.expand_archive_inputs`` decides which). Every input is read under the
one size cap of the settings (``max_page_bytes``); with a site profile, WARC files
give only the article pages of the profile's crawl sections.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Iterable, Iterator

from pipeline import storage
from pipeline.profile import SiteProfile
from pipeline.model.records import Failure, Page
from pipeline.sources.corpus import ColumnMap, iter_corpus
from pipeline.sources.dumps import iter_dump_folder
from pipeline.sources.warc import expand_archive_inputs, iter_warc


def unsafe_input(path: str | Path, state_dir: Path) -> tuple[str, bool] | None:
    """Why a local input is no archive to read as it stands, and whether ``--yes`` may
    override that; None when it may be read. An empty path and the node's folder under the
    state folder (its data, passwords, keys) are never read; the current, a home or the root
    folder, the state folder and a folder holding it are read only when asked twice."""
    text = str(path)
    if not text.strip():
        return "an empty path (it would read the current folder)", False
    if "://" in text and not text.startswith("file://"):
        return None
    where = Path(storage.normalize(text)).expanduser().resolve()
    state = state_dir.expanduser().resolve()
    if where.is_relative_to(state / "es"):
        return f"{text} is the Elasticsearch node's folder ({state / 'es'}: its data and passwords)", False
    if where.is_relative_to(state):
        return f"{text} is in the state folder {state} (dead letters, WARC files, the node's data)", True
    if state.is_relative_to(where):
        return f"{text} holds the state folder {state}", True
    if where == Path.cwd().resolve():
        return f"{text} is the current folder", True
    if where == Path.home().resolve() or where.parent == Path("/home"):
        return f"{text} is a home folder", True
    if where == Path(where.anchor):
        return f"{text} is the root folder", True
    return None


def archive_pages(paths: Path | str | Iterable[Path | str], *, max_bytes: int,
                  profile: SiteProfile | None = None, skipped: Counter | None = None,
                  any_url_hosts: Iterable[str] | None = None, columns: ColumnMap | None = None,
                  exclude: Iterable[Path] = ()) -> Iterator[Page | Failure]:
    """Pages of archive inputs, in the order given (a folder of WARC files in name order).

    A corpus file (CSV, JSON lines) gives a Page per row, its columns read as ``columns`` says.
    WARC records not taken are counted by reason in ``skipped`` (see ``warc.iter_warc``); a
    folder in ``exclude`` (the state folder) is never walked."""
    for item in expand_archive_inputs(paths):
        if item.kind == "warc":
            yield from iter_warc([item.path], profile=profile, max_bytes=max_bytes, skipped=skipped,
                                 any_url_hosts=any_url_hosts)
        elif item.kind == "corpus":
            yield from iter_corpus(item.path, columns, max_bytes=max_bytes)
        else:
            yield from iter_dump_folder(item.path, max_bytes=max_bytes, exclude=exclude)
