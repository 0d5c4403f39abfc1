"""Stage crawl: listings -> article pages -> ingest.Ingestor (extract + index), incrementally.

Reads the ``crawl:`` section of the site profile and the crawl settings; keeps its
state in Elasticsearch (state.py, the ledger) so nothing lives only in memory. Every
component gets the run's context (pipeline/context.py): the fetcher, the ingestor, the ledger.

A run has two phases:
1. **Discover**: walk the listings of the chosen sections and languages newest
   first (plus the RSS feeds when the run goes up to now, i.e. no ``until``). New
   URLs enter the ledger as ``discovered``; a known one only gains the URL it was listed by.
   Without dates a listing stops after ``crawl_known_streak`` known documents in a
   row; with ``since`` it stops at the first page older than that day (the nightly
   DAG passes a look-back ``since``); ``since``+``until`` is a backfill of that range.
2. **Fetch**: take the due documents from the ledger in batches (waiting ones, failed
   ones whose retry time has come and, in a run up to now, the indexed ones of editable
   sections whose revisit the policy scheduled: crawl/revisit.py), fetch them (conditional
   requests for indexed ones; 304 or the same bytes as the indexed version = nothing to do), hand
   the new and changed pages to the run's ``Ingestor`` and settle each page by what
   happened to it: ``indexed`` only when Elasticsearch acknowledged its document (and its
   next check set by the revisit policy), ``failed`` with the reason and a next-retry time
   otherwise (crawl/state.py). An
   edited page keeps its document id, so the writer stores it as the next version.
   A fetched article's own language list (``?lang=`` links, the layout's ``languages``
   selectors) names its other versions: those in the run's languages that robots.txt
   allows enter the ledger like listed ones (folded by ``ids.state_key``, so a version
   also listed, or linked from several pages, is one entry, fetched once) and are
   fetched in the following batches of the same run.

Killed half-way, the next run carries on as the same run: settled documents are
neither fetched nor re-checked again, waiting ones are fetched, and an unfinished
listing walk is not cut short. Every response goes to the WARC archive. The ledger
belongs to the write target, so a crawl into a new index starts from nothing.

"Now" is the run context's clock (``RunContext.now``): the run's night (``Crawler.now``: which
revisits are due, the last day a window lists) and the ledger's stamps, so tests and the
bench simulate nights with a shifted clock.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable
from urllib.parse import urlsplit

from pipeline.context import RunContext
from pipeline.crawl.blocked import raise_if_blocked
from pipeline.crawl.fetch import Fetcher, FetchResult
from pipeline.crawl.listings import (ListingBatch, ListingEntry, in_range, iter_feeds, iter_listing, oldest_day,
                                     window_before)
from pipeline.crawl.revisit import days, due_before, published_at
from pipeline.crawl.state import CrawlState, LedgerDoc, Revisit, RunState, Status, WalkState, state_index_for
from pipeline.crawl.warcwriter import WarcStore
from pipeline.model.errors import FetchError, HttpStatusError, PipelineError
from pipeline.extract.document import Document, parse_document
from pipeline.extract.extractor import language_links
from pipeline.model.ids import article_key, host_key, url_language
from pipeline.ingest import IngestOutcome, Ingestor
from pipeline.profile import CrawlSection, SiteProfile
from pipeline.model.records import MOSCOW, Failure, ListingHints, Page
from pipeline.report import RunReport
from pipeline.settings import Settings
from pipeline.store import design

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class CrawlPlan:
    sections: list[CrawlSection]
    languages: list[str]
    since: date | None
    until: date | None

    @property
    def incremental(self) -> bool:
        """Up to now (no ``until``): the nightly kind of run, with the feeds; ``since`` only bounds the walk."""
        return self.until is None

    @property
    def stops_at_known(self) -> bool:
        """Without any date bound a listing ends at the first run of known documents."""
        return self.since is None and self.until is None

    @property
    def kind(self) -> str:
        # One kind per backfill range; every incremental run shares one, so a killed nightly run resumes.
        return "crawl" if self.incremental else f"backfill-{self.since or 'start'}-{self.until}"


def make_plan(profile: SiteProfile, *, since: date | None, until: date | None,
              sections: list[str] | None, languages: list[str] | None) -> CrawlPlan:
    """Named sections, else the nightly ones (a bounded backfill: all); languages default to the profile's."""
    if sections:
        chosen = [profile.crawl.section(name) for name in sections]
    else:
        chosen = [s for s in profile.crawl.sections if s.nightly or until is not None]
    return CrawlPlan(chosen, list(languages or profile.crawl.languages), since, until)


def run_crawl(ctx: RunContext, *, since: date | None = None, until: date | None = None,
              sections: list[str] | None = None, languages: list[str] | None = None,
              index: str | None = None) -> RunReport:
    """Crawl the site into ``index`` (default: the live alias); return the run report
    (``ctx.report``, else a new one called ``crawl`` or ``backfill``)."""
    plan = make_plan(ctx.profile, since=since, until=until, sections=sections, languages=languages)
    ctx = ctx.for_run(ctx.run_report("crawl" if plan.incremental else "backfill"))
    target = design.ensure_index(ctx.es, ctx.settings, alias=index)
    Crawler(ctx, plan, target).run()
    return ctx.report.finish()


class Crawler:
    """One crawl run; every component it builds (fetcher, ingestor, ledger) gets the run's context."""

    def __init__(self, ctx: RunContext, plan: CrawlPlan, target: str):
        assert ctx.report is not None, "a crawl's context carries its report"
        self.ctx, self.plan, self.report = ctx, plan, ctx.report
        self.settings, self.profile = ctx.settings, ctx.profile
        self.es, self.target = ctx.es, target
        self.state = CrawlState(self.es, state_index_for(self.settings, target), config_dir=self.settings.config_dir,
                                identity=ctx.identity, retry_window=self.settings.es_retry_window)
        self.sections = {s.name: s for s in self.profile.crawl.sections}
        # The run's night, from the context's clock: which revisits are due (a run up to now only).
        self.now = ctx.now()
        self.revisit_rules = self.profile.crawl.revisit
        editable = [s.name for s in plan.sections if not s.frozen]
        self.revisit = (Revisit(sections=editable, before=due_before(self.revisit_rules, self.now))
                        if plan.incremental and editable else None)
        self.loose_failures: list[Failure] = []  # listing failures, reported with the first batch
        # Listing hints of the article fetches in flight, by the URL asked for: the WARC record of
        # every exchange that fetch causes (redirect hops included) carries them; the fetcher knows nothing of hints.
        self._hints_in_flight: dict[str, ListingHints] = {}
        self._blocked_streak: dict[str, int] = {}  # [site] challenges in a row per host in this run
        self._lock = threading.Lock()
        self.run_id = ""
        self.warc: WarcStore | None = None
        self.fetcher: Fetcher | None = None
        self.progress = None
        self.ingestor: Ingestor | None = None

    # ---- run ------------------------------------------------------------
    def run(self) -> None:
        self.state.ensure()
        run_key = f"run-{self.plan.kind}"
        self._begin(run_key)
        if self.revisit is not None:
            self._schedule_unscheduled()
        with ExitStack() as stack:
            if self.settings.warc_enabled:
                self.warc = stack.enter_context(WarcStore(self.settings.warc_dir, max_bytes=self.settings.warc_max_bytes))
            self.fetcher = stack.enter_context(Fetcher(self.ctx, recorder=self._on_response,
                                                       on_retry=self._on_retry))
            self.progress = stack.enter_context(_progress(self.settings))
            # One Ingestor for the whole run: one dead-letter file, one extraction pool, one refresh at the end.
            self.ingestor = stack.enter_context(Ingestor(self.ctx, index=self.target, prepared=True))
            self.discover()
            self.fetch_waiting()
            if self.loose_failures:
                self._ingest([])
        self.state.put_run(run_key, RunState(run_id=self.run_id, finished=True, finished_at=self.ctx.now()))
        self.report.extra["run_id"] = self.run_id
        self.report.extra["index"] = self.target
        self.report.extra["ledger"] = self.state.index
        verdict = self.blocked_verdict()  # [site] a run that was mostly blocked fails loudly
        if verdict:
            self.report.extra["verdict"] = verdict
            log.error(verdict)
        if self.warc is not None:
            self.report.extra["warc_files"] = len(self.warc.files)
            if self.warc.files:
                self.report.extra["warc_first"] = str(self.warc.files[0])

    def _begin(self, run_key: str) -> None:
        last = self.state.get_run(run_key)
        if last and not last.finished:
            self.run_id = last.run_id
            self.report.extra["resumed"] = 1
            log.info("resuming unfinished run %s", self.run_id)
        else:
            self.run_id = uuid.uuid4().hex[:16]
        self.state.put_run(run_key, RunState(run_id=self.run_id, started_at=self.ctx.now()))

    def _schedule_unscheduled(self) -> None:
        """Pages an older ledger holds as indexed without a revisit schedule get one, counted from now."""
        docs = [doc.scheduled(self.revisit_rules, now=self.now, frozen=self._frozen(doc.section))
                for doc in self.state.unscheduled(self.revisit.sections)]
        if docs:
            self.state.save(docs, refresh=True)
            log.info("revisit policy: scheduled %d pages indexed before it", len(docs))

    def _fresh(self, doc: LedgerDoc) -> bool:
        """Younger than the policy's ``fresh_days``: checked every night for that reason."""
        published = published_at(doc.listed_at or doc.hints.published, doc.first_seen)
        return days(self.now - published) < self.revisit_rules.fresh_days

    def _frozen(self, section: str) -> bool:
        known = self.sections.get(section)
        return known is not None and known.frozen

    # ---- callbacks from the fetcher's threads ----------------------------
    def _on_response(self, result: FetchResult) -> None:
        with self._lock:
            self.report.bytes += len(result.raw_body)
            self.report.responses += 1
            if result.status >= 500 or result.status == 429:
                self.report.server_errors += 1
            if result.status == 200:
                self.report.fetched += 1
            hints = self._hints_in_flight.get(result.requested_url)
        if self.warc is not None:
            self.warc.record(result, hints)

    def _on_retry(self, host: str | None, why: str) -> None:
        with self._lock:
            self.report.retries += 1

    # ---- phase 1: discover ------------------------------------------------
    def discover(self) -> None:
        seen: set[str] = set()
        task = self.progress.add_task("listing pages", total=None) if self.progress else None
        for section in self.plan.sections:
            for language in self.plan.languages:
                if language not in section.listings:
                    continue
                if self._windowed(section):  # [site] backfill, look-back: adaptive date windows
                    self._walk_windows(section, language, seen, task)
                else:
                    self._walk(section, language, seen, task)
        if self.plan.incremental and self.settings.crawl_rss:
            for batch in iter_feeds(self.fetcher, self.ctx, self.plan.sections, self.plan.languages):
                if batch.failure:
                    self._note_blocked(batch.failure)
                    self.loose_failures.append(batch.failure)
                else:
                    self._register([e for e in batch.entries if in_range(e.published, self.plan.since, None)], seen)
        self.state.refresh()

    def _windowed(self, section: CrawlSection) -> bool:
        """[site] A bounded run over a layout with a date filter lists by date windows."""
        return self.plan.since is not None and self.profile.crawl.layouts[section.layout].date_filter is not None

    def _walk_windows(self, section: CrawlSection, language: str, seen: set[str], task) -> bool:
        """[site] List [since, until or today] by adaptive date windows, newest first.

        A window of the section's estimate (``window_days``, else the layout's) is asked for
        whole; a page that is not full ends it. A full page is followed by the next page where
        robots.txt allows; where it does not, the window is split at the oldest day that page
        reached (everything newer is listed, so the rest is [start, that day]), which costs one
        request where halving would cost one per half. A single day that fills a page whose
        next page is forbidden cannot be listed further: counted in ``extra.listing_truncated``
        and left for the day before.
        The cursor (the end of the next window) is in the ledger after every window, so a
        resumed run lists only what it had not. False when a page failed or was blocked.
        """
        layout = self.profile.crawl.layouts[section.layout]
        span = section.window_days or layout.date_filter.window_days
        since, end = self.plan.since, self.plan.until or self.now.astimezone(MOSCOW).date()
        key = f"walk-{self.plan.kind}-{section.name}-{language}"
        previous = self.state.get_walk(key)
        listed = 0
        if previous is not None and previous.run_id == self.run_id:  # the same run, resumed
            if previous.complete:
                return True
            end, listed = previous.window_end or end, previous.listed
        while end >= since:
            first, last = window_before(end, since, span)
            batches = self._list_window(section, language, seen, task, (first, last))
            if batches is None:  # failed or blocked: the cursor stays, the next run lists from here
                return False
            listed += sum(len(b.entries) for b in batches)
            end = first - timedelta(days=1)
            if bool(batches) and layout.page_size is not None and batches[-1].items >= layout.page_size:
                # The walk stopped at a full page: robots.txt forbids the next one.
                reached = oldest_day(batches[-1].entries)
                if reached is not None and reached < last:
                    end = reached  # split: [first, reached] is the rest of this window
                else:  # one day fills the page: its later items are out of reach
                    self._count("listing_truncated")
                    end = last - timedelta(days=1)
                    log.warning("%s/%s: %s fills a listing page and robots.txt forbids the next one; "
                                "its later items cannot be listed", section.name, language, last)
            self.state.put_walk(key, WalkState(section=section.name, language=language, run_id=self.run_id,
                                               window_end=end, listed=listed, complete=end < since))
        return True

    def _list_window(self, section: CrawlSection, language: str, seen: set[str], task,
                     days: tuple[date, date]) -> list[ListingBatch] | None:
        """Every page of one date window that may be asked for; None when a page failed."""
        layout = self.profile.crawl.layouts[section.layout]
        batches = []
        for batch in iter_listing(self.fetcher, self.ctx, section, language, since=self.plan.since,
                                  until=self.plan.until, days=days, page_size=layout.page_size):
            self._count("listing_pages")
            self._count("listing_windows", int(batch.page == layout.first_page))
            if task is not None:
                self.progress.advance(task)
            if batch.failure:
                self._note_blocked(batch.failure)
                self.loose_failures.append(batch.failure)
                return None
            if batch.skipped_out_of_range:
                self._count("listing_out_of_range", batch.skipped_out_of_range)
            self._register(batch.entries, seen)
            batches.append(batch)
        return batches

    def _count(self, name: str, n: int = 1) -> None:
        self.report.extra[name] = int(self.report.extra.get(name, 0)) + n

    def _walk(self, section: CrawlSection, language: str, seen: set[str], task) -> bool:
        """Walk one listing without date windows; False when a page failed or was blocked."""
        key = f"walk-{self.plan.kind}-{section.name}-{language}"
        previous = self.state.get_walk(key)
        # A walk killed half-way reached this page; do not stop early before it again.
        reached = previous.page if previous and not previous.complete else 0
        streak, pages, complete = 0, 0, True
        # [site] nightly without a look-back reads first pages only (robots.txt may forbid ?PAGEN paging)
        first_only = self.plan.stops_at_known and self.profile.crawl.layouts[section.layout].date_filter is not None
        for batch in iter_listing(self.fetcher, self.ctx, section, language,
                                  since=self.plan.since, until=self.plan.until,
                                  max_pages=1 if first_only else None):
            pages += 1
            if task is not None:
                self.progress.advance(task)
            walked = WalkState(section=section.name, language=language, page=max(batch.page, reached))
            if batch.failure:
                # Left incomplete: the next run walks past this page before it may stop early.
                self._note_blocked(batch.failure)
                self.loose_failures.append(batch.failure)
                self.state.put_walk(key, walked)
                complete = False
                break
            self._note_answer(batch.url)
            if batch.skipped_out_of_range:  # listed, but outside the run's dates: the site did answer
                self.report.extra["listing_out_of_range"] = (int(self.report.extra.get("listing_out_of_range", 0))
                                                             + batch.skipped_out_of_range)
            for known in self._register(batch.entries, seen):
                streak = streak + 1 if known else 0
            self.state.put_walk(key, walked)
            if self.plan.stops_at_known and streak >= self.settings.crawl_known_streak and batch.page >= reached:
                log.info("%s/%s: %d known documents in a row, stopping at page %d",
                         section.name, language, streak, batch.page)
                break
        if complete:
            self.state.put_walk(key, WalkState(section=section.name, language=language, complete=True))
        self.report.extra["listing_pages"] = int(self.report.extra.get("listing_pages", 0)) + pages
        return complete

    def _register(self, entries: Iterable[ListingEntry], seen: set[str], *, listed: bool = True) -> list[bool]:
        """Record listed entries in the ledger; return, per entry, whether it was already known.

        Entries are folded by ledger key: an article listed under two section paths (or
        two language prefixes asking for one language) is one entry, fetched once.
        ``listed=False``: entries an article's language links gave (not counted as listed)."""
        fresh: dict[str, ListingEntry] = {}
        for entry in entries:
            key = self.state.key_of(entry.url)
            if key not in seen:
                seen.add(key)
                fresh[key] = entry
        stored = self.state.get_docs(e.url for e in fresh.values())
        changed: list[LedgerDoc] = []
        known_flags = []
        for key, entry in fresh.items():
            self.report.listed += int(listed)
            old = stored.get(key)
            known_flags.append(old is not None)
            if old is None:
                changed.append(self.state.new_doc(entry.url, section=entry.section, language=entry.language,
                                                  hints=entry.hints(), listed_at=entry.published,
                                                  first_seen=self.ctx.now()))
                continue
            if listed and old.status is Status.INDEXED:
                if self.revisit is None:
                    # a backfill fetches no page it indexed: settled by an earlier run, counted as the
                    # web-archive backfill counts them, so a run again is done, not "nothing"
                    self.report.not_modified += 1
                elif not self._frozen(old.section) and not (
                        old.section in self.revisit.sections and old.due(self.now, revisit_before=self.revisit.before)):
                    self.report.not_due += 1  # known, and the revisit policy has not scheduled it tonight
            again = old.listed_again(entry.url)
            if again is not None:
                changed.append(again)
        self.state.save(changed)
        return known_flags

    # ---- phase 2: fetch ----------------------------------------------------
    def fetch_waiting(self) -> None:
        names = [s.name for s in self.plan.sections]
        task = None
        if self.progress:
            total = sum(self.state.count(s) for s in (Status.DISCOVERED, Status.RECHECK, Status.FAILED))
            if self.revisit is not None:  # and the revalidations the revisit policy scheduled
                total += self.state.count_due(names, self.plan.languages, now=self.now, revisit=self.revisit,
                                              revisits_only=True)
            task = self.progress.add_task("pages", total=total)
        handled: set[str] = set()
        workers = ThreadPoolExecutor(self.settings.crawl_concurrency, thread_name_prefix="fetch")
        try:
            while True:
                # Excluded in the query, not filtered here: a page of handled ids must not end the loop.
                batch = self.state.due(names, self.plan.languages, self.settings.crawl_batch_size,
                                       now=self.ctx.now(), exclude=handled, revisit=self.revisit)
                if not batch:
                    break
                handled.update(doc.key for doc in batch)
                revisits = [doc for doc in batch if doc.status is Status.INDEXED]
                self.report.revalidations_scheduled += len(revisits)
                self.report.revalidations_fresh += sum(self._fresh(doc) for doc in revisits)
                attempts = list(workers.map(self._fetch_guarded, batch))
                outcomes = self._ingest([a.item for a in attempts if a.item is not None],
                                        {a.doc.url: a.document for a in attempts if a.document is not None})
                self.state.save([self._settle(a, outcomes) for a in attempts], refresh=True)
                self._register_versions(attempts)  # due in the next batches
                if task is not None:
                    self.progress.advance(task, len(batch))
        finally:
            workers.shutdown(wait=True)

    def _fetch_guarded(self, doc: LedgerDoc) -> "_Attempt":
        try:
            return self._fetch_one(doc)
        except Exception as exc:  # a bug on one page must not end the run; it is reported and retried
            log.exception("unexpected error fetching %s", doc.url)
            return self._fetch_failed(doc, FetchError(f"unexpected {type(exc).__name__}: {exc}"))

    def _fetch_one(self, doc: LedgerDoc) -> "_Attempt":
        # Conditional requests only for a version Elasticsearch holds: a page whose write
        # failed must come back whole, not as "not modified".
        recheck = doc.status in (Status.RECHECK, Status.INDEXED) or (doc.status is Status.FAILED and doc.content_sha)
        revisit = doc.status is Status.INDEXED  # scheduled by the revisit policy
        with self._lock:
            self._hints_in_flight[doc.url] = doc.hints
        try:
            result = self.fetcher.get(doc.url, etag=doc.etag if recheck else None,
                                      last_modified=doc.last_modified if recheck else None)
        except FetchError as exc:
            if revisit and isinstance(exc, HttpStatusError):  # the site answered, with an error
                self._count_sent()
            return self._fetch_failed(doc, exc)
        finally:
            with self._lock:
                del self._hints_in_flight[doc.url]
        if revisit:
            self._count_sent()
        if result.not_modified or hashlib.sha256(result.content).hexdigest() == doc.content_sha:
            with self._lock:
                self.report.not_modified += 1
            settled = doc.unchanged(run_id=self.run_id).checked(self.revisit_rules, changed=False, now=self.ctx.now(),
                                                               frozen=self._frozen(doc.section))
            return _Attempt(doc, settled=settled, revisit=revisit)
        # One parse of the page for the blocked check, its language links and extraction.
        document = parse_document(result.content, result.content_type, self.profile)
        try:  # [site] a challenge (Blocked) or a page without its container (LayoutChanged): never extracted
            raise_if_blocked(document, "article", doc.url)
        except FetchError as exc:
            return self._fetch_failed(doc, exc)
        self._note_answer(doc.url)
        page = Page(source=doc.url, content=result.content, url=doc.url, content_type=result.content_type,
                    fetched_at=result.fetched_at, hints=doc.hints, aliases=[u for u in doc.urls if u != doc.url])
        return _Attempt(doc.fetched(), item=page, document=document, revisit=revisit,
                        content_sha=hashlib.sha256(result.content).hexdigest(),
                        etag=result.etag, last_modified=result.last_modified,
                        versions=self._versions_of(doc, document))

    def _count_sent(self) -> None:
        with self._lock:
            self.report.revalidations_sent += 1

    def _fetch_failed(self, doc: LedgerDoc, exc: FetchError) -> "_Attempt":
        failure = Failure.from_error(exc, source=doc.url, url=doc.url)
        self._note_blocked(failure)
        schedule, now = self.settings.crawl_retry_schedule, self.ctx.now()
        if isinstance(exc, HttpStatusError) and exc.status in (404, 410):
            return _Attempt(doc, item=failure, settled=doc.not_found(exc.reason, schedule=schedule, now=now))
        return _Attempt(doc, item=failure, settled=doc.failed(exc.reason, failure.kind, schedule=schedule, now=now))

    # ---- [site] other language versions (the article's own ?lang= links) ----------------
    def _versions_of(self, doc: LedgerDoc, document: Document) -> list[ListingEntry]:
        """The article's versions its language list links to, in the run's other languages,
        on article URLs the profile's identity names (so they fold), that robots.txt allows."""
        try:
            links = language_links(document, doc.url)
        except PipelineError as exc:  # the extract stage reports the page itself
            log.debug("no language links read from %s: %s", doc.url, exc)
            return []
        found = []
        for language, url in links.items():
            if (language == doc.language or language not in self.plan.languages or url_language(url) != language
                    or article_key(url, self.profile.site.identity) is None):
                continue
            try:
                self.fetcher.check_url(url)
                if not self.fetcher.robots_allows(url):
                    continue
            except FetchError:  # another host, or robots.txt unreachable or blocked: not now
                continue
            found.append(ListingEntry(url=url, section=doc.section, language=language,
                                      layout=doc.hints.layout or self.sections[doc.section].layout,
                                      article_id=doc.hints.article_id, listing_url=doc.url,
                                      kind=doc.hints.kind or self.sections[doc.section].kind))
        return found

    def _register_versions(self, attempts: list["_Attempt"]) -> None:
        """Enter the versions this batch's pages link to in the ledger (known ones fold)."""
        entries = [entry for attempt in attempts for entry in attempt.versions]
        if entries:
            known = self._register(entries, set(), listed=False)
            self.state.refresh()  # the next due() must see them
            new = known.count(False)
            if new:
                self.report.extra["language_versions"] = int(self.report.extra.get("language_versions", 0)) + new

    # ---- [site] blocked responses (crawl/blocked.py) ----------------------------
    def _note_blocked(self, failure: Failure) -> None:
        """Count a blocked response and back its host off: the interval doubles per challenge
        (profile crawl.blocked), scaled and capped by the politeness settings, never below
        the politeness interval."""
        if failure.kind == "layout_changed":  # no backoff: slowing down mends no selector
            with self._lock:
                self.report.extra.setdefault("layout_changed", failure.reason)
            return
        if failure.kind != "blocked":
            return
        rules = self.profile.crawl.blocked
        host = host_key(urlsplit(failure.url or failure.source).hostname or "")
        with self._lock:
            self.report.extra["blocked"] = int(self.report.extra.get("blocked", 0)) + 1
            streak = self._blocked_streak.get(host, 0) + 1
            self._blocked_streak[host] = streak
        if self.fetcher is not None and host:
            if streak >= rules.give_up_after:  # the host keeps challenging: stop asking it in this run
                self.fetcher.give_up(host, f"{host} answered {streak} challenges in a row")
                return
            delay = min(rules.backoff_max_s, self.settings.crawl_backoff_max,
                        rules.backoff_s * self.settings.crawl_backoff_factor * 2 ** (streak - 1))
            self.fetcher.limiter.set_interval(host, delay)
            log.warning("blocked by %s (%d so far): waiting %.1f s between requests", host, streak, delay)

    def _note_answer(self, url: str) -> None:
        """A real page from the host: its challenges are no longer "in a row"."""
        host = host_key(urlsplit(url).hostname or "")
        with self._lock:
            self._blocked_streak.pop(host, None)

    def blocked_verdict(self) -> str | None:
        """A message when blocked responses dominate the run (share of the responses)."""
        blocked = int(self.report.extra.get("blocked", 0))
        asked = max(blocked, self.report.fetched + self.report.not_modified)  # challenges are 200s: in fetched
        if not blocked or blocked / max(asked, 1) < self.profile.crawl.blocked.dominant_share:
            return None
        return (f"blocked: {blocked} of {asked} responses were anti-bot challenges or pages without their "
                "content; slow down (MFA_CRAWL_RATE_PER_HOST), change the User-Agent (MFA_CRAWL_USER_AGENT) "
                "or try later")

    def _settle(self, attempt: "_Attempt", outcomes: dict[str, "IngestOutcome"]) -> LedgerDoc:
        """The ledger document after this run's attempt: indexed only on Elasticsearch's word."""
        if attempt.settled is not None:
            return attempt.settled
        doc, outcome = attempt.doc, outcomes.get(attempt.doc.url)
        schedule, now = self.settings.crawl_retry_schedule, self.ctx.now()
        if isinstance(outcome, Failure):
            return doc.failed(outcome.reason, outcome.kind, schedule=schedule, now=now)
        if outcome in ("created", "updated", "unchanged"):
            if attempt.revisit and outcome == "updated":
                self.report.revalidation_edits += 1  # an edit the revisit policy's check caught
            indexed = doc.indexed(run_id=self.run_id, content_sha=attempt.content_sha, etag=attempt.etag,
                                  last_modified=attempt.last_modified, at=now)
            return indexed.checked(self.revisit_rules, changed=outcome != "unchanged", now=now,
                                   frozen=self._frozen(doc.section))
        # No word from the ingest path (superseded by another copy, or lost): not done, try again.
        return doc.failed(f"no acknowledgement from the index ({outcome or 'no outcome'})", "index_failure",
                          schedule=schedule, now=now)

    def _ingest(self, items: list[Page | Failure],
                documents: dict[str, Document] | None = None) -> dict[str, "IngestOutcome"]:
        items = self.loose_failures + items
        self.loose_failures = []
        if not items:
            return {}
        return self.ingestor.ingest(items, documents)


@dataclass
class _Attempt:
    """One page's fetch in this run: what goes to the ingest path, or how it already settled."""

    doc: LedgerDoc
    item: Page | Failure | None = None
    settled: LedgerDoc | None = None
    content_sha: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    # Other language versions the page links to (``Crawler._versions_of``), for the ledger.
    versions: list[ListingEntry] = field(default_factory=list)
    # The page's one parse, read by the blocked check and the language links; extraction reads it last.
    document: Document | None = None
    revisit: bool = False  # a conditional GET the revisit policy scheduled


def _progress(settings: Settings):
    """A rich bar on stderr for interactive runs, periodic log lines otherwise (pipeline.progress)."""
    from pipeline.progress import Progress

    return Progress.wanted(settings.crawl_progress)
