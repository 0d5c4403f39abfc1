"""Redrive: dead letters back through the one ingest path (``mfa-ingest redrive``, nightly DAG).

A dead letter whose failure came after the fetch (extraction, validation, the index)
is re-processed from the bytes it kept whole, or else from the file its source names
(a text dump); one whose source is a capture of a web archive (a backfill from the
Wayback Machine or Common Crawl, crawl/captures.py) is read again from that archive;
any other one with a URL (a fetch that failed, an anti-bot challenge archived in place
of the page among them, or bytes not kept) is fetched again, politely (robots.txt, rate
limits, retries, network guard). Each re-processed dead letter is marked resolved
with its outcome: ``indexed (created)``, ``unchanged``, or ``failed again: <reason>``
(and the new failure is a dead letter of its own). One refused again for the same reason is
that same letter (its id is the refusal's): it stays open, to be redriven again, with
``redrives`` counting the attempts and ``last_redrive`` the outcome (``failed_again``). A dead letter with neither bytes
nor URL cannot be redriven and stays open, counted as ``skipped``, with the reason
(``left_open``: no URL, and why it has no bytes: none kept, as of a corpus row, or they were
over the dead-letter byte budget, store/deadletter.py). Last, the letters resolved more than
``MFA_DEADLETTER_KEEP_RESOLVED_DAYS`` ago are deleted (``pruned``): nothing else would.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.context import RunContext
from pipeline.crawl.captures import CaptureReader, archive_of, open_reader
from pipeline.crawl.fetch import Fetcher
from pipeline.model.errors import FetchError
from pipeline.model.ids import deadletter_id
from pipeline.ingest import Ingestor
from pipeline.model.records import Failure, Page
from pipeline.report import RunReport
from pipeline.store import deadletter

log = logging.getLogger(__name__)

AFTER_FETCH = ("extract", "validate", "index")


@dataclass
class RedriveResult:
    report: RunReport
    resolved: dict[str, str] = field(default_factory=dict)  # dead-letter id -> outcome
    left_open: dict[str, str] = field(default_factory=dict)  # dead-letter id -> why it cannot be redriven
    failed_again: dict[str, str] = field(default_factory=dict)  # dead-letter id -> the same refusal, still open

    @property
    def skipped(self) -> int:
        return len(self.left_open)


def redrive(ctx: RunContext, *, index: str | None = None, stages: list[str] | None = None,
            limit: int = 1000) -> RedriveResult:
    """Re-process the open dead letters (oldest first, at most ``limit``) into ``index``."""
    ctx = ctx.for_run(ctx.run_report("redrive"))
    settings, es = ctx.settings, ctx.es
    result = RedriveResult(report=ctx.report)
    letters = deadletter.open_dead_letters(es, settings, stages=stages, limit=limit)
    pages: dict[str, Page | Failure] = {}
    refetch = [letter for letter in letters if not _from_raw(letter, pages, settings.max_page_bytes)]
    _fetch_again(ctx, refetch, pages, result)
    with Ingestor(ctx, index=index) as ingestor:
        outcomes = ingestor.ingest(list(pages.values()))
    for letter in letters:
        item = pages.get(letter["_id"])
        if item is None:
            continue
        outcome = outcomes.get(item.source)
        resolution = (f"failed again: {outcome.reason}" if isinstance(outcome, Failure)
                      else f"indexed ({outcome})" if outcome in ("created", "updated")
                      else str(outcome or "no outcome"))
        if isinstance(outcome, Failure) and deadletter_id(outcome) == letter["_id"]:
            # The same refusal again: the failure just written is this letter. It stays open,
            # to be redriven again, with the attempt counted (resolving it would hide the failure).
            deadletter.mark_redriven(es, settings, letter, resolution)
            result.failed_again[letter["_id"]] = resolution
            continue
        deadletter.mark_resolved(es, settings, letter, resolution)
        result.resolved[letter["_id"]] = resolution
    result.report.extra["redriven"] = len(result.resolved)
    result.report.extra["failed_again"] = len(result.failed_again)
    result.report.extra["skipped"] = result.skipped
    result.report.extra["pruned"] = deadletter.prune_resolved(es, settings, settings.deadletter_keep_resolved_days)
    return result


def _from_raw(letter: dict, pages: dict[str, Page | Failure], max_bytes: int) -> bool:
    """Queue the letter's input when its failure came after the fetch and the bytes are at hand
    (kept in the letter, or the dump file its source names); False: fetch it again."""
    if letter.get("stage") not in AFTER_FETCH:
        return False
    raw = deadletter.raw_of(letter)
    if raw is None and not letter.get("url"):
        path = Path(letter["source"])
        if path.is_file() and path.stat().st_size <= max_bytes:
            raw = path.read_bytes()
    if raw is None:
        return False
    pages[letter["_id"]] = Page(source=letter["source"], url=letter.get("url"), content=raw)
    return True


def _fetch_again(ctx: RunContext, letters: list[dict], pages: dict[str, Page | Failure],
                 result: RedriveResult) -> None:
    with_url = [letter for letter in letters if letter.get("url")]
    for letter in letters:
        if not letter.get("url"):
            result.left_open[letter["_id"]] = f"no URL to fetch again, and {_no_bytes_because(letter)}"
    if not with_url:
        return
    with_url = _read_from_archives(ctx, with_url, pages)
    if not with_url:
        return
    # The crawl's own hosts, not the letters': a letter naming another host (a base URL changed
    # since, an edited letter) fails at the network guard with its reason instead of widening it.
    with Fetcher(ctx) as fetcher:
        for letter in with_url:
            url = letter["url"]
            try:
                answer = fetcher.get(url)
            except FetchError as exc:
                pages[letter["_id"]] = Failure.from_error(exc, source=letter["source"], url=url)
                continue
            pages[letter["_id"]] = Page(source=letter["source"], url=url, content=answer.content,
                                        content_type=answer.content_type, fetched_at=answer.fetched_at)


def _no_bytes_because(letter: dict) -> str:
    if letter.get("bytes_dropped"):
        return f"its bytes were not kept: {letter['bytes_dropped']}"
    if letter.get("raw_base64"):
        return f"its kept bytes are not re-processed after a failure at stage {letter.get('stage')}"
    return "no bytes kept"


def _read_from_archives(ctx: RunContext, letters: list[dict], pages: dict[str, Page | Failure]) -> list[dict]:
    """Read again from its web archive every letter whose source is a capture address of a
    configured archive (a backfill from web archives, crawl/webarchive.py), never from the site;
    return the other letters."""
    rest: list[dict] = []
    readers: dict[str, CaptureReader] = {}
    with ExitStack() as stack:
        for letter in letters:
            archive = archive_of(letter["source"], ctx.settings)
            if archive is None:
                rest.append(letter)
                continue
            if archive.name not in readers:
                readers[archive.name] = open_reader(ctx, archive, stack)
            item = readers[archive.name].read(archive.capture_at(letter["source"]))
            if isinstance(item, str):  # nothing to read at that address any more
                item = Failure(source=letter["source"], url=letter["url"], stage="fetch", kind="fetch_error",
                               reason=item)
            pages[letter["_id"]] = item.model_copy(update={"source": letter["source"]})
    return rest
