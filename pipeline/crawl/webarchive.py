"""Stage crawl, from web archives: CDX discovery -> captures -> the one ingest path.

``mfa-ingest crawl --source wayback|commoncrawl`` (and the backfill DAG's ``source``)
backfill from what a web archive holds of the site, for when the site itself answers
with its anti-bot challenge. One run:

1. **Discover**: one CDX query per chosen section and language (the profile's listing
   path as a URL prefix, on the current site's host or the old portal's) and, for the
   current site, the ``/foreign_policy/news/`` cross-posts of the same articles
   (``sources/cdx.py`` reads both answer shapes). Captures are taken from ``since`` on:
   a page is captured after it was published, never before. Each capture gets one
   outcome: a capture of another URL, of a 404 or of something not HTML is skipped
   with its reason, and so is one whose text (content digest) is the text of the
   capture before it of the same page.
2. **Fetch, in capture order per page** (every path to one article in one language,
   ``ids.state_key``) by ``crawl/captures.py``: a Wayback capture raw at
   ``{replay}{timestamp}id_/{url}``, a Common Crawl capture by an HTTP Range request for
   its WARC record (given to ``sources/warc.py``). A captured anti-bot challenge (``extract/challenge.py``) is a
   ``blocked`` failure, never indexed, and the page's next capture is tried; a redirect
   capture is followed inside the archive, never to the site. The window is the
   publication date read from the page: the first capture read gives it, the page's
   later captures outside the window are skipped unread.
3. **Ingest**: each text in the window goes through the one ingest path
   (``ingest.Ingestor``) in capture order, so an edited transcript keeps its earlier
   texts as versions and shows the latest; the record's ``source`` is the capture's
   address in the archive (its timestamp and the original URL in it), ``fetched_at``
   the capture time.

Politeness per archive host: the crawl's ``Fetcher`` (one retry policy, Retry-After,
backoff, the project's User-Agent, the network guard: only the archive's hosts) at
``archive_rate_per_host``. The ledger (``crawl/state.py``, one entry per capture, in its
own index beside the site crawl's: ``capture_ledger_for``) makes a run resumable: a
capture settled by an earlier run is not fetched again (it counts as not modified).
A CDX query that fails is a failure of its own, beside the captures.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from pipeline.context import RunContext
from pipeline.crawl.captures import ARCHIVE_SOURCES, Archive, CaptureReader, archive_for, open_reader
from pipeline.crawl.crawler import make_plan
from pipeline.crawl.fetch import REDIRECT_STATUSES, FetchResult
from pipeline.crawl.listings import in_range
from pipeline.crawl.state import CrawlState, LedgerDoc, RunState, Status, state_index_for
from pipeline.model.errors import FetchError
from pipeline.model.ids import article_key, host_key, state_key, url_language
from pipeline.ingest import Ingestor, extract_or_failure
from pipeline.profile import CrawlSection
from pipeline.model.records import MOSCOW, Failure, ListingHints, Page, Transcript
from pipeline.report import RunReport
from pipeline.settings import Settings
from pipeline.sources.cdx import Capture
from pipeline.store import design

log = logging.getLogger(__name__)

SOURCES = ("site", *ARCHIVE_SOURCES)
OUTSIDE = "outside_window"  # last_kind of a capture skipped for its publication date


def run_archive_crawl(ctx: RunContext, *, source: str, since: date | None = None, until: date | None = None,
                      sections: list[str] | None = None, languages: list[str] | None = None,
                      index: str | None = None) -> RunReport:
    """Backfill ``index`` (default: the live alias) from a web archive; return the run report
    (``ctx.report``, else a new one called ``backfill``)."""
    archive = archive_for(source, ctx.settings)
    # Every section by default: an archive holds the old portal's pages as well as the current site's.
    plan = make_plan(ctx.profile, since=since, until=until,
                     sections=sections or [s.name for s in ctx.profile.crawl.sections], languages=languages)
    ctx = ctx.for_run(ctx.run_report("backfill"))
    target = design.ensure_index(ctx.es, ctx.settings, alias=index)
    ArchiveCrawler(ctx, archive, plan, target).run()
    return ctx.report.finish()


@dataclass(frozen=True)
class _Candidate:
    """A capture to read: its page (ledger key of the original URL) and its section and language."""

    capture: Capture
    page_key: str
    section: CrawlSection
    language: str


class ArchiveCrawler:
    """One backfill run from one archive; its fetcher, ingestor and ledger get the run's context."""

    def __init__(self, ctx: RunContext, archive: Archive, plan, target: str):
        assert ctx.report is not None, "a backfill's context carries its report"
        self.ctx, self.archive, self.plan, self.report = ctx, archive, plan, ctx.report
        self.settings, self.profile = ctx.settings, ctx.profile
        self.es, self.target = ctx.es, target
        self.state = CrawlState(self.es, capture_ledger_for(self.settings, target),
                                config_dir=self.settings.config_dir, identity=ctx.identity,
                                retry_window=self.settings.es_retry_window)
        self.skipped: Counter = Counter()
        self.reader: CaptureReader | None = None
        self.ingestor: Ingestor | None = None
        self.run_id = ""

    # ---- run ------------------------------------------------------------
    def run(self) -> None:
        self.state.ensure()
        run_key = f"run-{self.archive.name}-{self.plan.since or 'start'}-{self.plan.until or 'now'}"
        last = self.state.get_run(run_key)
        if last and not last.finished:
            self.run_id = last.run_id
            self.report.extra["resumed"] = 1
        else:
            self.run_id = uuid.uuid4().hex[:16]
        self.state.put_run(run_key, RunState(run_id=self.run_id, started_at=self.ctx.now()))
        self.report.extra["source"] = self.archive.name
        with ExitStack() as stack:
            # The archive's hosts only, at the archive's rate: never the site itself.
            self.reader = open_reader(self.ctx, self.archive, stack, recorder=self._on_response,
                                      on_retry=self._on_retry)
            progress = stack.enter_context(_progress(self.settings))
            self.ingestor = stack.enter_context(Ingestor(self.ctx, index=self.target, prepared=True))
            pages, loose = self.discover()
            if loose:
                self.ingestor.ingest(loose)
            task = progress.add_task("captures", total=sum(len(c) for c in pages.values()))
            for candidates in pages.values():
                self._read_page(candidates)
                progress.advance(task, len(candidates))
        self.state.refresh()  # captures are saved one by one without waiting for a refresh (mget reads them)
        self.state.put_run(run_key, RunState(run_id=self.run_id, finished=True, finished_at=self.ctx.now()))
        for reason, count in sorted(self.skipped.items()):
            self.report.extra[f"skipped: {reason}"] = count
        self.report.extra["captures_skipped"] = sum(self.skipped.values())
        self.report.extra.update(run_id=self.run_id, index=self.target, ledger=self.state.index)

    def _on_response(self, result: FetchResult) -> None:
        self.report.bytes += len(result.raw_body)
        self.report.responses += 1
        if result.status >= 500 or result.status == 429:
            self.report.server_errors += 1
        if result.status in (200, 206):
            self.report.fetched += 1

    def _on_retry(self, host: str | None, why: str) -> None:
        self.report.retries += 1

    def _skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] += n

    # ---- phase 1: discover -------------------------------------------------
    def discover(self) -> tuple[dict[str, list[_Candidate]], list[Failure]]:
        """The captures to read, by page in capture order, and the CDX queries that failed."""
        chosen = {s.name for s in self.plan.sections}
        found: dict[tuple[str, str], Capture] = {}
        failures: list[Failure] = []
        for prefix in self._prefixes():
            try:
                for capture in self._query(prefix):
                    found.setdefault((capture.timestamp, capture.url), capture)
            except (FetchError, ValueError) as exc:
                failures.append(Failure.from_error(exc if isinstance(exc, FetchError) else FetchError(
                    f"unreadable CDX answer for {prefix}: {exc}"), source=self.archive.cdx_url, url=prefix))
        self.report.extra["captures"] = len(found)
        candidates: list[_Candidate] = []
        for capture in sorted(found.values(), key=lambda c: (c.timestamp, c.url)):
            candidate = self._candidate(capture)
            if candidate is not None:
                candidates.append(candidate)
        # News cross-posts: a capture of a section not chosen counts when it is an article a chosen section has.
        articles = {article_key(c.capture.url, self.profile.site.identity) for c in candidates
                    if c.section.name in chosen}
        pages: dict[str, list[_Candidate]] = {}
        for candidate in candidates:
            if (candidate.section.name not in chosen
                    and article_key(candidate.capture.url, self.profile.site.identity) not in articles):
                self._skip("a section not asked for")
                continue
            pages.setdefault(candidate.page_key, []).append(candidate)
        self.report.listed = sum(len(c) for c in pages.values())
        return {key: self._collapsed(group) for key, group in pages.items()}, failures

    def _prefixes(self) -> list[str]:
        """URL prefixes of the chosen sections' pages in the run's languages (and the news cross-posts)."""
        crawl = self.profile.crawl
        # The archive holds the real site's addresses, whatever base URL the crawl is pointed at.
        hosts = {"current": _host(self.profile.site.base_url), "archive": _host(crawl.archive_base_url)}
        sections = list(self.plan.sections)
        if any(crawl.layouts[s.layout].site == "current" for s in sections):
            sections += [s for s in crawl.sections if s.kind == "news" and crawl.layouts[s.layout].site == "current"
                         and s not in sections]
        prefixes = []
        for section in sections:
            site = crawl.layouts[section.layout].site
            for language in self.plan.languages:
                if language in section.listings:
                    prefixes.append(hosts[site] + section.listings[language].path)
        return list(dict.fromkeys(prefixes))

    def _query(self, prefix: str) -> list[Capture]:
        params = {"url": prefix, "matchType": "prefix"}
        if self.plan.since is not None:
            params["from"] = self.plan.since.strftime("%Y%m%d")  # a capture comes after its publication
        return self.reader.query(**params)

    def _candidate(self, capture: Capture) -> _Candidate | None:
        """The capture's page, or None when it is skipped (with its reason)."""
        section = self.profile.crawl.section_of(capture.url)
        language = url_language(capture.url)
        if section is None:
            self._skip("not an article URL")
        elif language not in self.plan.languages:
            self._skip("a language not asked for")
        elif capture.status in ("404", "410"):
            self._skip(f"capture of HTTP {capture.status}")
        elif capture.status == "-" or capture.mime == "warc/revisit":
            self._skip("revisit record (the same text as an earlier capture)")
        elif not (capture.status == "200" or capture.status.isdigit() and int(capture.status) in REDIRECT_STATUSES):
            self._skip(f"capture of HTTP {capture.status}")
        elif capture.status == "200" and not capture.is_html:
            self._skip(f"not HTML: {capture.mime}")
        else:
            return _Candidate(capture, state_key(capture.url, self.profile.site.identity), section, language)
        return None

    def _collapsed(self, group: list[_Candidate]) -> list[_Candidate]:
        """The page's captures without those whose text is the text of the capture before them."""
        kept: list[_Candidate] = []
        for candidate in group:
            previous = kept[-1].capture if kept else None
            if (previous is not None and candidate.capture.status == "200" and previous.status == "200"
                    and candidate.capture.digest and candidate.capture.digest == previous.digest):
                self._skip("the same text as the capture before it (content digest)")
                continue
            kept.append(candidate)
        return kept

    # ---- phase 2: read one page's captures, oldest first -----------------------
    def _read_page(self, candidates: list[_Candidate]) -> None:
        keys = {capture_key(self.archive.name, c.capture): c for c in candidates}
        stored = self.state.get_keys(list(keys))
        published: date | None = next((d.hints.published for d in stored.values()
                                       if d.hints.published is not None), None)
        now = self.ctx.now()
        for key, candidate in keys.items():
            if published is not None and not in_range(published, self.plan.since, self.plan.until):
                self._skip(f"published outside the window ({_day(published)})")
                continue
            doc = stored.get(key)
            if doc is not None and _settled(doc, now) and doc.last_kind != OUTSIDE:
                self.report.not_modified += 1  # settled by an earlier run: not read again
                continue
            day = self._read_capture(candidate, doc or self._ledger_doc(key, candidate))
            published = published or day

    def _read_capture(self, candidate: _Candidate, doc: LedgerDoc) -> date | None:
        """Fetch, check, extract and ingest one capture; settle it in the ledger; its publication day."""
        item = self.reader.read(candidate.capture)
        if isinstance(item, Page):
            item = item.model_copy(update={"hints": doc.hints})
        if isinstance(item, str):  # skipped with this reason
            self._skip(item)
            self.state.save([doc.model_copy(update={"status": Status.SKIPPED, "last_reason": item,
                                                    "last_kind": "skipped"})])
            return None
        record = item if isinstance(item, Failure) else extract_or_failure(item, self.profile)
        day = record.published_at.astimezone(MOSCOW).date() if isinstance(record, Transcript) else None
        if day is not None:
            doc = doc.model_copy(update={"hints": doc.hints.model_copy(update={"published": day})})
            if not in_range(day, self.plan.since, self.plan.until):
                self._skip(f"published outside the window ({day})")
                self.state.save([doc.model_copy(update={"status": Status.SKIPPED, "last_kind": OUTSIDE,
                                                        "last_reason": f"published {day}"})])
                return day
        outcome = self.ingestor.ingest([record]).get(record.source)
        schedule = self.settings.crawl_retry_schedule
        if isinstance(outcome, Failure):
            settled = doc.failed(outcome.reason, outcome.kind, schedule=schedule)
        elif outcome in ("created", "updated", "unchanged", "superseded"):
            settled = doc.indexed(run_id=self.run_id)
        else:
            settled = doc.failed(f"no acknowledgement from the index ({outcome or 'no outcome'})", "index_failure",
                                 schedule=schedule)
        self.state.save([settled])
        return day

    def _ledger_doc(self, key: str, candidate: _Candidate) -> LedgerDoc:
        capture = candidate.capture
        hints = ListingHints(section=candidate.section.name, language=candidate.language,
                             layout=candidate.section.layout, kind=candidate.section.kind)
        return LedgerDoc(key=key, url=self.archive.address(capture), urls=[capture.url],
                         section=candidate.section.name, language=candidate.language, hints=hints,
                         listed_at=capture.captured_at)


def capture_ledger_for(settings: Settings, target: str) -> str:
    """The captures' ledger of a write target: beside the site crawl's, never in it, so a site
    crawl never takes a capture for a page to fetch (nor an archive run a page)."""
    return f"{state_index_for(settings, target)}-captures"


def capture_key(archive: str, capture: Capture) -> str:
    """The ledger key of one capture: archive, time and original URL."""
    return "capture-" + hashlib.sha256(f"{archive}\x1f{capture.timestamp}\x1f{capture.url}".encode()).hexdigest()[:32]


def _settled(doc: LedgerDoc, now) -> bool:
    """Done with by an earlier run: indexed, skipped, gone, or failed and not due yet."""
    return doc.status in (Status.INDEXED, Status.SKIPPED, Status.GONE) or (
        doc.status is Status.FAILED and not doc.due(now))


def _day(value) -> date:
    return value if not hasattr(value, "astimezone") else value.astimezone(MOSCOW).date()


def _host(url: str) -> str:
    return host_key(urlsplit(url).hostname or "")


def _progress(settings: Settings):
    from pipeline.progress import Progress

    return Progress.wanted(settings.crawl_progress)
