"""Jobs the DAGs wire: backfill partitions and one partition's run.

Reads archive inputs (text-dump folders, WARC files) and, through the run context,
the settings and the site profile. The verdicts on a run (crawl problems, the
nightly quality check, the failure share) are the RunReport's own methods. Plain library
code, no Airflow: the DAG files in dags/ only call these functions, so every
piece is testable and runnable without a scheduler.

A partition is a small JSON-able dict, so it can travel through XCom and be
expanded by dynamic task mapping: ``{"kind": "range", "since": "2021-03-01",
"until": "2021-03-31"}`` (crawl that month) or ``{"kind": "archive", "path":
"/data/crawl-0001.warc.gz"}`` (replay that input). Each partition is idempotent:
document ids are stable and unchanged documents are skipped, so a retried or
repeated partition never duplicates anything.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Iterable

from pipeline.context import RunContext
from pipeline.report import RunReport
from pipeline.sources.warc import expand_archive_inputs

def _as_date(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def month_partitions(since: date | str, until: date | str, source: str = "site") -> list[dict]:
    """One partition per calendar month touching [since, until], clipped to the range; ``source``
    other than the site itself (``wayback``, ``commoncrawl``) backfills the months from that web archive."""
    start, end = _as_date(since), _as_date(until)
    if end < start:
        raise ValueError(f"until {end} is before since {start}")
    parts = []
    cursor = start
    while cursor <= end:
        last = date(cursor.year, cursor.month, calendar.monthrange(cursor.year, cursor.month)[1])
        parts.append({"kind": "range", "since": cursor.isoformat(), "until": min(last, end).isoformat(),
                      "label": cursor.strftime("%Y-%m") + ("" if source == "site" else f" {source}"),
                      **({} if source == "site" else {"source": source})})
        cursor = last + timedelta(days=1)
    return parts


def archive_partitions(inputs: Iterable[str | Path]) -> list[dict]:
    """One partition per WARC file (a folder of WARCs gives one per file) or per text-dump folder."""

    from pipeline.storage import name_of

    return [{"kind": "archive", "path": str(item.path), "label": name_of(item.path)}
            for item in expand_archive_inputs(inputs)]


def run_partition(
    ctx: RunContext,
    partition: dict,
    *,
    index: str | None = None,
    sections: list[str] | None = None,
    languages: list[str] | None = None,
) -> RunReport:
    """Run one partition into ``index`` (default: the alias) and return its report."""
    ctx = ctx.for_run(RunReport(
        name=f"backfill {partition.get('label') or partition.get('path') or partition.get('since')}"))
    if partition["kind"] == "archive":
        from pipeline.ingest import ingest_archive
        from pipeline.progress import Progress

        # under a scheduler: a log line every so many pages, so a long partition is seen moving
        with Progress.wanted(ctx.settings.crawl_progress) as progress:
            return ingest_archive(ctx, [partition["path"]], index=index, progress=progress)
    if partition["kind"] == "range" and partition.get("source", "site") != "site":
        from pipeline.crawl.webarchive import run_archive_crawl

        return run_archive_crawl(ctx, source=partition["source"], since=_as_date(partition["since"]),
                                 until=_as_date(partition["until"]), sections=sections, languages=languages,
                                 index=index)
    if partition["kind"] == "range":
        from pipeline.crawl.crawler import run_crawl

        return run_crawl(ctx, since=_as_date(partition["since"]), until=_as_date(partition["until"]),
                         sections=sections, languages=languages, index=index)
    raise ValueError(f"unknown partition kind {partition['kind']!r}")
