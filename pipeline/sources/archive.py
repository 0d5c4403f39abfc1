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

from pipeline.profile import SiteProfile
from pipeline.model.records import Failure, Page
from pipeline.sources.corpus import ColumnMap, iter_corpus
from pipeline.sources.dumps import iter_dump_folder
from pipeline.sources.warc import expand_archive_inputs, iter_warc


def archive_pages(paths: Path | str | Iterable[Path | str], *, max_bytes: int,
                  profile: SiteProfile | None = None, skipped: Counter | None = None,
                  any_url_hosts: Iterable[str] | None = None,
                  columns: ColumnMap | None = None) -> Iterator[Page | Failure]:
    """Pages of archive inputs, in the order given (a folder of WARC files in name order).

    A corpus file (CSV, JSON lines) gives a Page per row, its columns read as ``columns`` says.
    WARC records not taken are counted by reason in ``skipped`` (see ``warc.iter_warc``)."""
    for item in expand_archive_inputs(paths):
        if item.kind == "warc":
            yield from iter_warc([item.path], profile=profile, max_bytes=max_bytes, skipped=skipped,
                                 any_url_hosts=any_url_hosts)
        elif item.kind == "corpus":
            yield from iter_corpus(item.path, columns, max_bytes=max_bytes)
        else:
            yield from iter_dump_folder(item.path, max_bytes=max_bytes)
