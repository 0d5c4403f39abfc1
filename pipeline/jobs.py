"""Jobs the DAGs wire: backfill partitions, one partition's run, the nightly data-quality check.

Reads the settings, the site profile, archive inputs (text-dump folders, WARC
files) and the index (newest document, for the quality check). Plain library
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
from datetime import date, datetime, timedelta, timezone
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


def month_partitions(since: date | str, until: date | str) -> list[dict]:
    """One partition per calendar month touching [since, until], clipped to the range."""
    start, end = _as_date(since), _as_date(until)
    if end < start:
        raise ValueError(f"until {end} is before since {start}")
    parts = []
    cursor = start
    while cursor <= end:
        last = date(cursor.year, cursor.month, calendar.monthrange(cursor.year, cursor.month)[1])
        parts.append({"kind": "range", "since": cursor.isoformat(), "until": min(last, end).isoformat(),
                      "label": cursor.strftime("%Y-%m")})
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
    if partition["kind"] == "range":
        from pipeline.crawl.crawler import run_crawl

        return run_crawl(ctx, since=_as_date(partition["since"]), until=_as_date(partition["until"]),
                         sections=sections, languages=languages, index=index)
    raise ValueError(f"unknown partition kind {partition['kind']!r}")


def add_reports(reports: Iterable[dict]) -> dict:
    """Totals of several reports (as_dict form): counters summed, failures by stage merged."""
    keys = ("listed", "fetched", "not_modified", "retries", "bytes", "read", "extracted", "new", "updated",
            "unchanged", "superseded", "failed", "indexed", "attempted", "responses", "server_errors")
    total: dict = {k: 0 for k in keys}
    total.update(failures_by_stage={}, failures_by_kind={}, first_by_kind={}, partitions=0)
    for rep in reports:
        total["partitions"] += 1
        for k in keys:
            total[k] += int(rep.get(k, 0) or 0)
        for field in ("failures_by_stage", "failures_by_kind"):
            for name, n in (rep.get(field) or {}).items():
                total[field][name] = total[field].get(name, 0) + n
        for kind, sources in (rep.get("first_by_kind") or {}).items():
            total["first_by_kind"][kind] = (total["first_by_kind"].get(kind, []) + list(sources))[:3]
    total["failure_share"] = round(deadletter_share(total), 4)
    return total


def deadletter_share(report: dict) -> float:
    """Failed inputs over inputs attempted (every outcome: indexed, unchanged, not modified, failed).

    Not over pages fetched: a run that could fetch nothing and failed every input has a share of 1.
    """
    failed = int(report.get("failed", 0))
    attempted = int(report.get("attempted") or sum(int(report.get(k, 0) or 0) for k in
                                                  ("new", "updated", "unchanged", "superseded", "not_modified", "failed")))
    return failed / attempted if attempted else 0.0


# Outcome classes that mean the site itself could not be crawled (not one bad page).
UNREACHABLE_KINDS = ("site_unreachable", "robots_unreachable")


def _first(report: dict, *kinds: str) -> str:
    urls = [u for kind in (kinds or tuple(report.get("first_by_kind") or {}))
            for u in (report.get("first_by_kind") or {}).get(kind, [])]
    return f"; first: {', '.join(urls[:3])}" if urls else ""


def crawl_problems(report: dict) -> list[str]:
    """Why a crawl run must fail whatever the thresholds (empty when the site was crawled).

    - site unreachable: inputs failed and no answer from the site was a usable one
      (no answer at all, or only 5xx/429), or a failure class says so;
    - blocked: the site answered with anti-bot challenges;
    - nothing listed although the site answered (listing layout changed, or empty).
    """
    kinds = report.get("failures_by_kind") or {}
    usable = int(report.get("responses", 0)) - int(report.get("server_errors", 0))
    problems = []
    failed = int(report.get("failed", 0))
    if failed and (usable <= 0 or any(kinds.get(k) for k in UNREACHABLE_KINDS)):
        detail = ", ".join(f"{k} {n}" for k, n in kinds.items())
        problems.append(f"site unreachable: {report.get('responses', 0)} answers, {report.get('server_errors', 0)} "
                        f"of them 5xx/429; {failed} failed ({detail}){_first(report)}")
    if kinds.get("blocked"):
        problems.append(f"blocked: {kinds['blocked']} anti-bot answers{_first(report, 'blocked')}")
    if (not problems and usable > 0 and int(report.get("listed", 0)) == 0
            and not int(report.get("extra", {}).get("listing_out_of_range", 0) or 0)):
        problems.append(f"nothing listed although the site answered ({usable} answers): "
                        "listing layout changed or sections empty")
    return problems


def quality_problems(
    report: dict,
    newest: datetime | None,
    *,
    now: datetime | None = None,
    max_quiet_days: int,
    max_deadletter_share: float,
) -> list[str]:
    """Why a nightly run must fail loudly (empty when it is fine).

    - nothing new for too long: this run indexed nothing and the newest
      document was indexed more than ``max_quiet_days`` ago (or never);
    - too many refusals: the dead-letter share is above ``max_deadletter_share``.
    """
    now = now or datetime.now(timezone.utc)
    problems = []
    if int(report.get("new", 0)) + int(report.get("updated", 0)) == 0:
        if newest is None:
            problems.append(f"nothing indexed yet (listed {report.get('listed', 0)} this run)")
        elif now - newest > timedelta(days=max_quiet_days):
            problems.append(f"nothing new for {(now - newest).days} days (limit {max_quiet_days}); "
                            f"listed {report.get('listed', 0)} this run")
    share = deadletter_share(report)
    if share > max_deadletter_share:
        problems.append(f"dead-letter share {share:.1%} above {max_deadletter_share:.1%} "
                        f"({report.get('failed', 0)} of {report.get('attempted', 0)} failed: "
                        f"{dict(report.get('failures_by_kind') or report.get('failures_by_stage') or {})})"
                        f"{_first(report)}")
    return problems
