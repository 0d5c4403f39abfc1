"""The one ingest path: Pages (and Failures) -> extract -> store, with the run report.

Every way in goes through the ``Ingestor``: ``ingest`` of saved pages, ``replay`` of
WARC files, backfill partitions, the crawler (batch by batch) and the blue/green
rebuild (pipeline/jobs/rebuild.py). Every input either becomes an indexed document or a
Failure that goes to the dead-letter stores (a JSON-lines file, and the dead-letter
index) and to the run report, through one outcome loop; one bad input never stops
the run. Memory stays bounded: each stage is a generator and the writer sends
fixed-size bulk chunks.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import Counter, deque
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator

from pipeline.context import RunContext
from pipeline.extract.challenge import archived_challenge
from pipeline.extract.document import Document, parse_document
from pipeline.extract.extractor import extract_record
from pipeline.model.errors import Blocked, PipelineError
from pipeline.model.ids import article_key, canonical_url
from pipeline.model.records import Failure, Page, Transcript
from pipeline.profile import SiteProfile
from pipeline.redact import redact
from pipeline.report import RunReport
from pipeline.settings import Settings
from pipeline.sources.archive import archive_pages
from pipeline.sources.corpus import ColumnMap
from pipeline.store import deadletter, design, writer

log = logging.getLogger(__name__)

# What the ingest path takes: raw pages, failures of the sources, and records that are
# already valid (a rebuild from the current index re-validates stored documents).
Item = Page | Failure | Transcript
# What became of one input: the writer's status (created, updated, unchanged, superseded) or its Failure.
IngestOutcome = str | Failure


def with_provenance(record: Transcript, page: Page, profile: SiteProfile) -> Transcript:
    """The record stamped with where it came from: its article (``event_id``, shared by the
    article's language versions), the URLs that reached it and when it was fetched."""
    urls = list(dict.fromkeys(canonical_url(u) for u in [page.url, *page.aliases] if u))
    return record.model_copy(update={"event_id": article_key(page.url, profile.site.identity), "urls": urls,
                                     "fetched_at": page.fetched_at})


def extract_or_failure(page: Page, profile: SiteProfile, document: Document | None = None) -> Transcript | Failure:
    """One page -> its Transcript, or the Failure that says why not (never raises).
    ``document``: the page as the caller parsed it already (the crawl's blocked check did);
    the challenge tests below read that one parse too.

    An anti-bot challenge in place of the page (a crawl's WARC holds every answer, a dump or a
    web archive may hold one too) is the crawl's Blocked whatever the input path: a fetch
    failure, so a redrive asks the site for the page instead of re-reading the challenge. It
    is looked for before extraction when the body carries a challenge marker, and after it
    when extraction failed or found almost no text (a challenge without a known marker)."""
    document = document or parse_document(page.content, page.content_type, profile)
    if _has_marker(page.content, profile):
        blocked = _blocked(page, document)
        if blocked is not None:
            return blocked
    try:
        record = with_provenance(extract_record(page, profile, document), page, profile)
    except PipelineError as exc:
        return _blocked(page, document, exc.reason) or Failure.from_error(exc, source=page.source, url=page.url,
                                                                          raw=page.content)
    except Exception as exc:  # a bug on one page must not end the run; keep the page
        log.exception("unexpected error extracting %s", page.source)
        return Failure(source=page.source, url=page.url, stage="extract",
                       reason=f"unexpected {type(exc).__name__}: {exc}", raw=page.content)
    if len(record.body) < profile.crawl.blocked.min_text_chars:
        return _blocked(page, document) or record
    return record


def _has_marker(content: bytes, profile: SiteProfile) -> bool:
    return any(marker.encode() in content for marker in profile.crawl.blocked.markers)


def _blocked(page: Page, document: Document, why: str | None = None) -> Failure | None:
    """The Failure of class blocked when the page is an anti-bot challenge, else None. After
    extraction the tree is the one extraction read: a page whose layout it detected is no
    challenge (the layout was found before anything was dropped), any other is as parsed."""
    challenge = archived_challenge(document)
    if challenge is None:
        return None
    detail = f" ({why})" if why else ""
    return Failure.from_error(Blocked(f"blocked: {challenge}, in place of the page{detail}"),
                              source=page.source, url=page.url, raw=page.content)


def transform(items: Iterable[Item], profile: SiteProfile, report: RunReport | None = None, *,
              workers: int = 1, batch_size: int = 16,
              pool: ProcessPoolExecutor | Callable[[], ProcessPoolExecutor] | None = None,
              documents: dict[str, Document] | None = None, workers_after: int = 0,
              ahead: int = 0) -> Iterator[Transcript | Failure]:
    """Extract every Page into a Transcript; pass Failures through; turn errors into Failures.

    ``workers`` > 1 extracts in that many processes (see ``_transform_parallel``) every input
    after the first ``workers_after``, which are extracted here: a short run (a nightly batch)
    never starts the processes, a long stream (a replay) hands them the rest. ``pool``: the
    processes to use, or a function that makes them on first need. The output, its order and
    the report are the same as with one. ``ahead``: inputs the workers may extract ahead of the
    caller (at least two batches each). ``documents``: pages the caller parsed already, by
    ``source`` (the crawl's), each handed to extraction once; worker processes parse their
    pages themselves (a parsed tree does not cross processes).
    """
    if workers > 1:
        items = iter(items)
        if workers_after > 0:
            yield from _transform_here(islice(items, workers_after), profile, report, documents)
        yield from _transform_parallel(items, profile, report, workers=workers, batch_size=batch_size, pool=pool,
                                       ahead=ahead)
        return
    yield from _transform_here(items, profile, report, documents)


def _transform_here(items: Iterable[Item], profile: SiteProfile, report: RunReport | None,
                    documents: dict[str, Document] | None) -> Iterator[Transcript | Failure]:
    """``transform`` in this process."""
    for item in items:
        if report is not None:
            report.read += 1  # every input, a source's Failure too: read is the sum of the outcomes
        if isinstance(item, Failure):
            yield item
            continue
        record = (item if isinstance(item, Transcript)
                  else extract_or_failure(item, profile, documents.pop(item.source, None) if documents else None))
        if report is not None and isinstance(record, Transcript):
            report.extracted += 1
        yield record


# --- extraction in worker processes ------------------------------------------------

_worker_profile: SiteProfile | None = None


def _init_worker(profile: SiteProfile) -> None:
    global _worker_profile
    _worker_profile = profile


def _extract_batch(batch: list[Item]) -> list[tuple[bool, Transcript | Failure]]:
    """(was a page, outcome) per item, in order; Failures and records go through untouched."""
    assert _worker_profile is not None or not any(isinstance(item, Page) for item in batch)
    return [(False, item) if isinstance(item, Failure)
            else (True, item if isinstance(item, Transcript) else extract_or_failure(item, _worker_profile))
            for item in batch]


def _batches(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def make_pool(profile: SiteProfile, workers: int) -> ProcessPoolExecutor:
    """Extraction workers from a fork server that has imported the pipeline once, so none
    pays the import and none is forked from a threaded caller (the crawler's fetch threads)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["pipeline.ingest"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                               initargs=(profile,))


def _transform_parallel(items: Iterable[Item], profile: SiteProfile, report: RunReport | None, *,
                        workers: int, batch_size: int,
                        pool: ProcessPoolExecutor | Callable[[], ProcessPoolExecutor] | None = None,
                        ahead: int = 0) -> Iterator[Transcript | Failure]:
    """``transform`` over a process pool: pages go in batches (one pickle per batch, not per
    page), at most two batches per worker or ``ahead`` inputs, whichever is more, are in flight
    (bounded memory), and results come back in input order. The writer stops taking records
    while it waits for the node, so ``ahead`` (a bulk chunk) keeps the workers extracting
    meanwhile. A ``pool`` given by the caller (an Ingestor reusing it across batches; or its
    factory, called at the first batch) is left running; otherwise one is made at the first
    batch and shut down here."""
    own_pool = pool is None
    batch_size = max(1, batch_size)
    depth = max(2 * workers, -(-ahead // batch_size))
    running: ProcessPoolExecutor | None = None
    in_flight: deque[Future] = deque()
    try:
        for batch in _batches(items, batch_size):
            if not any(isinstance(item, Page) for item in batch):
                # Records and failures only (a rebuild from the index): nothing to extract, no trip
                # to a worker and back, nothing held ahead; a stream of them starts no process.
                if not in_flight:
                    yield from _counted(_extract_batch(batch), report)
                    continue
                in_flight.append(_done(_extract_batch(batch)))
            else:
                if running is None:
                    running = make_pool(profile, workers) if pool is None else pool() if callable(pool) else pool
                in_flight.append(running.submit(_extract_batch, batch))
            if len(in_flight) >= depth:
                yield from _counted(in_flight.popleft().result(), report)
        while in_flight:
            yield from _counted(in_flight.popleft().result(), report)
    finally:
        if own_pool and running is not None:
            running.shutdown(wait=True, cancel_futures=True)
        elif running is not None:
            for future in in_flight:  # an abandoned stream must not leave work queued in the shared pool
                future.cancel()


def _done(result: list[tuple[bool, Transcript | Failure]]) -> Future:
    future: Future = Future()
    future.set_result(result)
    return future


def _counted(outcomes: list[tuple[bool, Transcript | Failure]], report: RunReport | None) -> Iterator[Transcript | Failure]:
    for was_page, outcome in outcomes:
        if report is not None:
            report.read += 1
            if was_page and isinstance(outcome, Transcript):
                report.extracted += 1
        yield outcome


def divert_failures(items: Iterable[Transcript | Failure], on_failure: Callable[[Failure], None]) -> Iterator[Transcript]:
    """Yield the records; hand every Failure to ``on_failure`` as it passes."""
    for item in items:
        if isinstance(item, Failure):
            on_failure(item)
        else:
            yield item


class FailureSink:
    """Where failures go: the report, the dead-letter file, the dead-letter index."""

    def __init__(self, report: RunReport, settings: Settings, es=None, echo: Callable[[str], None] | None = None):
        self.report = report
        self.file = deadletter.DeadLetterFile(settings.deadletter_dir, report.name,
                                              max_bytes=settings.deadletter_max_bytes)
        self.index_sink = deadletter.dead_letter_sink(es, settings) if es is not None else None
        self.echo = echo

    def __call__(self, failure: Failure) -> None:
        self.report.record_failure(failure)
        self.file.write(failure)
        if self.index_sink is not None:
            self.index_sink(failure)
        if self.echo is not None:
            self.echo(redact(f"error: {failure.one_line()}"))


class Ingestor:
    """One run of extract + index fed batch by batch (the crawler hands over a batch at a time).

    Built once per run from the run's context (settings, profile, Elasticsearch client,
    report: ``ctx.report``, else a new one called ``ingest``): one failure sink (one
    dead-letter file, named in the report), one dead-letter index check, one extraction
    pool when ``extract_workers`` > 1, started when a stream first passes
    ``extract_workers_after`` inputs (a crawl's batches never do).
    ``index`` is the alias to write through (default: ``settings.index_alias``); it is
    given the index design when missing (``design.ensure_index``: ``NAME-v1`` behind
    the alias ``NAME``, never an index Elasticsearch makes up). ``prepared=True`` says
    the caller already did that, or writes to a concrete index it just created from the
    template (the rebuild, which also keeps no versions: ``keep_versions=False``). ``close()`` refreshes the index
    and finishes the report once; the client is the context's, closed by whoever built it.
    """

    def __init__(self, ctx: RunContext, *, index: str | None = None, prepared: bool = False,
                 keep_versions: bool = True, echo: Callable[[str], None] | None = None):
        self.settings = ctx.settings
        self.profile = ctx.profile
        self.report = ctx.run_report("ingest")
        self.es = ctx.es
        self._pool: ProcessPoolExecutor | None = None
        try:
            target = index or self.settings.index_alias
            self.target = target if prepared else design.ensure_index(self.es, self.settings, alias=target)
            # Every text a document ever had; a rebuild copies current documents and keeps none.
            self.versions = design.ensure_versions_index(self.es, self.settings, self.target) if keep_versions else None
            self.sink = FailureSink(self.report, self.settings, es=self.es, echo=echo)
        except BaseException:
            self._release()
            raise

    def ingest(self, items: Iterable[Item], documents: dict[str, Document] | None = None) -> dict[str, IngestOutcome]:
        """Extract and index one batch of items; every Failure goes to the sink.

        Returns what became of each input, by its ``source``, once Elasticsearch has
        answered for it: the crawler marks a page done only on that word. The map grows
        with the batch: a stream of any length goes through ``stream``.
        """
        outcomes: dict[str, IngestOutcome] = {}
        self._run(items, outcomes.__setitem__, documents)
        return outcomes

    def stream(self, items: Iterable[Item]) -> None:
        """``ingest`` for inputs of any number (a replay of 100,000 pages): every outcome is
        counted in the report and every failure dead-lettered, and nothing is kept per
        input, so memory stays flat however long the stream."""
        self._run(items, None)

    def _run(self, items: Iterable[Item], note: Callable[[str, IngestOutcome], None] | None,
             documents: dict[str, Document] | None = None) -> None:
        def fail(failure: Failure) -> None:
            self.sink(failure)
            if note is not None:
                note(failure.source, failure)

        records = divert_failures(transform(items, self.profile, self.report, workers=self.settings.extract_workers,
                                            pool=self._worker_pool, documents=documents,
                                            workers_after=self.settings.extract_workers_after,
                                            ahead=self.settings.bulk_chunk_size), fail)
        for outcome in writer.index_records(self.es, records, index=self.target, settings=self.settings,
                                            versions_index=self.versions):
            if self.report.count_outcome(outcome.status):
                fail(Failure(source=outcome.source or outcome.doc_id, stage="index", reason=outcome.reason or "refused"))
            elif outcome.source is not None and note is not None:
                note(outcome.source, outcome.status)

    def _worker_pool(self) -> ProcessPoolExecutor:
        """The run's extraction processes, started when a stream first needs them, then reused."""
        if self._pool is None:
            self._pool = make_pool(self.profile, self.settings.extract_workers)
        return self._pool

    def close(self) -> RunReport:
        """Fold what the writer could not (documents of one transcript written at the same time),
        refresh the index once, name the run's dead-letter file, release the pool.

        The fold runs at the end of every run, so of two runs writing the same transcript at
        once (two backfill partitions on two workers) the one that ends last, having seen
        both writes, leaves one document."""
        try:
            folded = writer.fold_same_transcripts(self.es, self.target, retry_window=self.settings.es_retry_window)
            if folded:
                self.report.extra["folded"] = folded
            design.refresh(self.es, self.target)
            self.report.extra["index"] = self.target
            if self.sink.file.count:
                self.report.extra["deadletter_file"] = str(self.sink.file.path)
            if self.sink.file.raw_dropped:  # the cap's doing, said where the run is read
                self.report.extra["deadletter_raw_dropped"] = self.sink.file.raw_dropped
                self.report.extra["deadletter_max_bytes"] = self.settings.deadletter_max_bytes
            dropped = self.sink.index_sink.raw_dropped if self.sink.index_sink is not None else 0
            if dropped:  # the index's byte budget: letters kept without their bytes
                self.report.extra["deadletter_index_raw_dropped"] = dropped
                self.report.extra["deadletter_index_max_bytes"] = self.settings.deadletter_index_max_bytes
        finally:
            self._release()
        return self.report.finish()

    def _release(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "Ingestor":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.close()
        else:
            self._release()


def ingest(ctx: RunContext, items: Iterable[Item], **kwargs) -> RunReport:
    """Run items through extraction into Elasticsearch in one go; return the report.

    Keyword arguments are the Ingestor's (``index``, ``prepared``, ``keep_versions``, ``echo``).
    """
    ingestor = Ingestor(ctx, **kwargs)
    with ingestor:
        ingestor.stream(items)
    return ingestor.report


def ingest_archive(ctx: RunContext, paths: Path | str | Iterable[Path | str], *, progress=None,
                   any_url: bool = False, columns: ColumnMap | None = None, **kwargs) -> RunReport:
    """Ingest archive inputs: text-dump folders or files, WARC files, corpus files (CSV, JSON
    lines; ``columns`` maps their columns) and folders of them (``ingest``, ``replay`` and the
    archive partitions of a backfill all come here).

    ``progress``: a pipeline.progress.Progress counting the pages (with a total when
    there is no WARC file among the inputs, whose pages are only known by reading them)."""
    ctx = ctx.for_run(ctx.run_report("archive-ingest"))
    skipped: Counter = Counter()
    hosts = set(ctx.site_hosts) if any_url else None
    pages = archive_pages(paths, max_bytes=ctx.settings.max_page_bytes, profile=ctx.profile, skipped=skipped,
                          any_url_hosts=hosts, columns=columns, exclude=[ctx.settings.state_dir])
    if progress is not None:
        pages = progress.track(pages, f"{ctx.report.name}: pages", _dump_file_count(paths))
    report = ingest(ctx, pages, **kwargs)
    account_skipped(report, skipped, kwargs.get("echo"))
    return report


def _dump_file_count(paths: Path | str | Iterable[Path | str]) -> int | None:
    """How many files the dump folders hold (a progress total); None when a WARC file is among the inputs."""
    from pipeline.sources.warc import expand_archive_inputs

    total = 0
    for item in expand_archive_inputs([paths] if isinstance(paths, (str, Path)) else paths):
        if item.kind in ("warc", "corpus"):
            return None  # records and rows are only known by reading them
        total += 1 if item.path.is_file() else sum(1 for f in item.path.rglob("*") if f.is_file())
    return total


def account_skipped(report: RunReport, skipped: Counter, echo: Callable[[str], None] | None) -> None:
    """Every WARC record not taken, by reason, in the report; the response records named on ``echo``."""
    for reason, count in sorted(skipped.items()):
        report.extra[f"skipped: {reason}"] = count
    report.extra["warc_records_skipped"] = sum(skipped.values())
    if echo is None:
        return
    for reason, count in sorted(skipped.items()):
        if reason.startswith("not a response record"):
            continue  # requests and warcinfo: every exchange has them
        hint = (" (pages outside the profile's article patterns: add the section to config/site.yaml "
                "or replay with --any-url)" if reason == "not an article URL" else "")
        echo(f"skipped {count} WARC records: {reason}{hint}")
