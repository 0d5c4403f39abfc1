"""Stage crawl: the crawl ledger, kept in Elasticsearch, never in memory.

One ledger per write target (``state_index_for``): crawling into a new index starts
from nothing instead of finding every page "done" for another index.

Three kinds of documents, each a typed model:
- ``LedgerDoc`` (kind ``doc``): one per article, its status and how it got there;
- ``WalkState`` (kind ``walk``): how far a listing walk got, so a walk killed half-way
  is not cut short by the known-documents stop when it restarts;
- ``RunState`` (kind ``run``): the last run of a kind and whether it finished, so a
  restarted run carries on as the same run and does not re-check what it finished.

A document's transitions are methods of ``LedgerDoc``, the only place they happen:

    discovered --fetch--> (fetched) --Elasticsearch acknowledged--> indexed
        ^                                                               |
        |                                 next_check_at came (the revisit policy, a run up to now)
        |                                                               v
     (listed)            failed (attempts, last reason, next retry) <- conditional GET
                           |  fetch, extraction, validation, write or blocked;
                           |  retried when due, forever, until it succeeds
                           +--> gone (HTTP 404/410 twice)

A page is ``indexed`` only after Elasticsearch acknowledged its document (or found it
unchanged); every other outcome leaves it ``failed`` with a next-retry time taken from
``settings.crawl_retry_schedule`` (1 h, 6 h, 1 day, then weekly). Every check of an indexed
page (its first indexing, a 304, an unchanged or an edited text) sets when it was checked,
when its text last changed, its revisit interval and ``next_check_at`` (``checked``, by the
revisit policy, crawl/revisit.py); a run up to now revalidates the indexed pages whose
``next_check_at`` has come, listed or not. ``recheck`` is only read from older ledgers (a
listing used to mark every known page of an editable section for a conditional GET). The mapping is
config/elasticsearch/crawlstate.template.json. The ledger's index is read and written
through ``store.ledger`` (this module calls no method of the client): every ledger write goes
through the store's write policy (``store.writer.bulk_write``), as document writes do: a node
away for a while is waited for, up to ``MFA_ES_RETRY_WINDOW``, then the run stops with an
``IndexingError``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from pipeline.context import utc_now
from pipeline.crawl import revisit
from pipeline.model.ids import state_key
from pipeline.profile import IdentityRule, RevisitRules
from pipeline.model.records import ListingHints
from pipeline.settings import DEFAULT_CONFIG_DIR, Settings
from pipeline.store import ledger
from pipeline.store.design import load_config_json, refresh as refresh_index

if TYPE_CHECKING:
    from pipeline.store.client import Elasticsearch  # the client type, named where the store owns it

STATE_FILE = "crawlstate.template.json"
GONE_AFTER = 2  # 404/410 answers in a row before a page counts as removed from the site


def now_utc() -> datetime:
    """The real time (the default of ``RunContext.clock``); a run's stamps come from its context."""
    return utc_now()


def now_iso() -> str:
    return now_utc().isoformat()


def state_index_for(settings: Settings, target: str) -> str:
    """The ledger of a write target: the default one for the live alias, its own for any other."""
    return settings.state_index if target == settings.index_alias else f"{settings.state_index}-{target}"


class Status(str, Enum):
    DISCOVERED = "discovered"
    RECHECK = "recheck"  # older ledgers: listed again, waiting for a conditional GET
    FETCHED = "fetched"  # between the fetch and Elasticsearch's answer; never left behind
    INDEXED = "indexed"
    FAILED = "failed"
    GONE = "gone"
    SKIPPED = "skipped"  # an archive capture that is not read again (crawl/webarchive.py); never due


WAITING = (Status.DISCOVERED, Status.RECHECK)  # due at once; FAILED is due at its next_retry_at


class LedgerDoc(BaseModel):
    """One article in the ledger: what the listing said, where it stands, what the last attempt gave."""

    model_config = ConfigDict(use_enum_values=False)

    kind: Literal["doc"] = "doc"
    key: str  # ids.state_key: every path to one article (in one language) is one entry
    url: str
    urls: list[str] = Field(default_factory=list)  # every URL a listing gave for it, the first one first
    section: str
    language: str
    hints: ListingHints = Field(default_factory=ListingHints)
    listed_at: AwareDatetime | date | None = None
    status: Status = Status.DISCOVERED
    first_seen: AwareDatetime = Field(default_factory=now_utc)
    attempts: int = 0  # failed attempts since the last success
    last_reason: str | None = None
    last_kind: str | None = None  # the Failure's class: site_unreachable, blocked, index_failure...
    next_retry_at: AwareDatetime | None = None
    gone_count: int = 0
    # Validators of the version that was indexed: only a page Elasticsearch took gets them,
    # so a failed write is fetched in full again, never answered "not modified".
    etag: str | None = None
    last_modified: str | None = None
    content_sha: str | None = None
    indexed_at: AwareDatetime | None = None
    indexed_run_id: str | None = None
    # The revisit policy's memory (crawl/revisit.py): the last check of the indexed version (its
    # first indexing, a 304, an unchanged or an edited text), the last edit a check caught, the
    # interval in days and the next check (None: not revisited, frozen or settled), edits caught.
    checked_at: AwareDatetime | None = None
    changed_at: AwareDatetime | None = None
    revisit_days: float | None = None
    next_check_at: AwareDatetime | None = None
    edits: int = 0

    def due(self, now: datetime, *, revisit_before: datetime | None = None) -> bool:
        """Whether a run at ``now`` fetches it: waiting, failed and due for a retry, or (a run up to
        now, ``revisit_before``) indexed and due for a revisit."""
        if self.status in WAITING:
            return True
        if self.status is Status.INDEXED:
            return (revisit_before is not None and self.next_check_at is not None
                    and self.next_check_at <= revisit_before)
        return self.status is Status.FAILED and (self.next_retry_at is None or self.next_retry_at <= now)

    # ---- transitions -----------------------------------------------------
    def listed_again(self, url: str) -> "LedgerDoc | None":
        """What a known page needs when a listing shows it again, maybe by another path (None: nothing).
        Whether it is fetched again is the revisit policy's word (``next_check_at``), not the listing's."""
        return self.model_copy(update={"urls": [*self.urls, url]}) if url not in self.urls else None

    def fetched(self) -> "LedgerDoc":
        return self.model_copy(update={"status": Status.FETCHED})

    def indexed(self, *, run_id: str, content_sha: str | None = None, etag: str | None = None,
                last_modified: str | None = None, at: datetime | None = None) -> "LedgerDoc":
        """Elasticsearch acknowledged the document (or had it unchanged): done until listed again."""
        update = {"status": Status.INDEXED, "attempts": 0, "last_reason": None, "last_kind": None,
                  "next_retry_at": None, "gone_count": 0, "indexed_at": at or now_utc(), "indexed_run_id": run_id}
        if content_sha is not None:
            update.update(content_sha=content_sha, etag=etag, last_modified=last_modified)
        return self.model_copy(update=update)

    def unchanged(self, *, run_id: str) -> "LedgerDoc":
        """A 304, or the same bytes as the indexed version: still indexed, checked by this run."""
        return self.indexed(run_id=run_id, at=self.indexed_at)

    def checked(self, rules: RevisitRules, *, changed: bool, now: datetime, frozen: bool = False) -> "LedgerDoc":
        """The indexed version was checked at ``now`` (first indexed, or revalidated: ``changed`` when
        its text changed): the next check by the revisit policy (none for a frozen section)."""
        first = self.checked_at is None
        edit = changed and not first
        changed_at = now if edit else self.changed_at
        published = revisit.published_at(self.listed_at or self.hints.published, self.first_seen)
        quiet_since = max(published, changed_at) if changed_at else published
        interval = None if frozen else revisit.next_interval(
            rules, previous=None if first else self.revisit_days, changed=changed,
            age_days=revisit.days(now - published), quiet_days=revisit.days(now - quiet_since))
        return self.model_copy(update={
            "checked_at": now, "changed_at": changed_at, "revisit_days": interval, "edits": self.edits + int(edit),
            "next_check_at": None if interval is None else now + timedelta(days=interval)})

    def scheduled(self, rules: RevisitRules, *, now: datetime, frozen: bool = False) -> "LedgerDoc":
        """An entry indexed before the revisit policy: its first schedule, counted from ``now`` (so an
        old ledger's pages are spread over their intervals, not all due on the first night)."""
        return self.checked(rules, changed=False, now=now, frozen=frozen).model_copy(
            update={"checked_at": self.indexed_at or now})

    def failed(self, reason: str, kind: str, *, schedule: list[float], now: datetime | None = None) -> "LedgerDoc":
        """Any attempt that did not end acknowledged: pending again, due after the next delay of the schedule."""
        now = now or now_utc()
        attempts = self.attempts + 1
        delay = schedule[min(attempts, len(schedule)) - 1] if schedule else 0.0
        return self.model_copy(update={"status": Status.FAILED, "attempts": attempts, "last_reason": reason,
                                       "last_kind": kind, "next_retry_at": now + timedelta(seconds=delay)})

    def not_found(self, reason: str, *, schedule: list[float], now: datetime | None = None) -> "LedgerDoc":
        """HTTP 404/410: gone at the second answer in a row, until then an ordinary failure."""
        if self.gone_count + 1 >= GONE_AFTER:
            return self.model_copy(update={"status": Status.GONE, "gone_count": self.gone_count + 1,
                                           "last_reason": reason, "last_kind": "gone", "next_retry_at": None})
        failed = self.failed(reason, "http_error", schedule=schedule, now=now)
        return failed.model_copy(update={"gone_count": self.gone_count + 1})


class Revisit(BaseModel):
    """What a run up to now revalidates: the indexed entries of ``sections`` (the editable ones it
    crawls) whose ``next_check_at`` is at or before ``before`` (crawl/revisit.py ``due_before``)."""

    sections: list[str]
    before: AwareDatetime


class WalkState(BaseModel):
    kind: Literal["walk"] = "walk"
    section: str
    language: str
    page: int = 0
    complete: bool = False
    # A date-windowed walk (crawler._walk_windows): the run that listed, the end of the next
    # window to ask for (every later day is listed) and the entries listed so far.
    run_id: str | None = None
    window_end: date | None = None
    listed: int = 0


class RunState(BaseModel):
    kind: Literal["run"] = "run"
    run_id: str
    finished: bool = False
    started_at: AwareDatetime | None = None
    finished_at: AwareDatetime | None = None


class CrawlState:
    """The ledger of one write target in its Elasticsearch index."""

    def __init__(self, es: Elasticsearch, index: str, *, config_dir: Path | None = None,
                 identity: Iterable[IdentityRule] = (), retry_window: float = Settings.model_fields["es_retry_window"].default):
        """``retry_window``: how long a ledger write waits for a node that does not answer (the
        store's write policy, as for documents; ``MFA_ES_RETRY_WINDOW``)."""
        self.es = es
        self.index = index
        self.retry_window = retry_window
        self.config_dir = config_dir or DEFAULT_CONFIG_DIR
        self.identity = list(identity)

    def key_of(self, url: str) -> str:
        return state_key(url, self.identity)

    def new_doc(self, url: str, **fields) -> LedgerDoc:
        return LedgerDoc(key=self.key_of(url), url=url, urls=[url], **fields)

    def ensure(self) -> None:
        """Create the ledger index from its mapping when missing (a parallel run may have just created it);
        an existing one gains the fields the mapping added since (the revisit policy's dates)."""
        ledger.ensure_ledger(self.es, self.index, load_config_json(self.config_dir, STATE_FILE))

    def refresh(self) -> None:
        refresh_index(self.es, self.index)

    # ---- article documents ----------------------------------------------
    def get_docs(self, urls: Iterable[str]) -> dict[str, LedgerDoc]:
        """Stored ledger documents by key, for those URLs that have one."""
        return self.get_keys(self.key_of(u) for u in urls)

    def get_keys(self, keys: Iterable[str]) -> dict[str, LedgerDoc]:
        """Stored ledger documents by their own keys (the archive backfill keys captures, not URLs)."""
        found = ledger.sources_by_key(self.es, self.index, list(dict.fromkeys(keys)))
        return {key: LedgerDoc.model_validate(source) for key, source in found.items()}

    def save(self, docs: Iterable[LedgerDoc], *, refresh: bool = False) -> None:
        """Write whole ledger documents (each transition returns the whole new document)."""
        stamp = now_iso()
        ledger.write_sources(self.es, self.index, [(doc.key, {**doc.model_dump(mode="json"), "updated_at": stamp})
                                                   for doc in docs],
                             retry_window=self.retry_window, refresh=refresh)

    def due(self, sections: list[str], languages: list[str], size: int, *, now: datetime | None = None,
            exclude: Iterable[str] = (), revisit: "Revisit | None" = None) -> list[LedgerDoc]:
        """The next documents to fetch in these sections and languages, newest first: the waiting
        ones, the failed ones whose retry is due and, with ``revisit``, the indexed ones of its
        sections whose next check has come (``LedgerDoc.due`` says the same of one document)."""
        query = self._due_query(sections, languages, now, exclude, revisit)
        return [LedgerDoc.model_validate(s) for s in ledger.newest_first(self.es, self.index, query, size)]

    def count_due(self, sections: list[str], languages: list[str], *, now: datetime | None = None,
                  exclude: Iterable[str] = (), revisit: "Revisit | None" = None, revisits_only: bool = False) -> int:
        """How many documents ``due`` would hand out in these sections and languages (the estimate);
        ``revisits_only``: of them, the indexed ones the revisit policy schedules."""
        query = self._due_query(sections, languages, now, exclude, revisit, revisits_only)
        return ledger.count(self.es, self.index, query)

    @staticmethod
    def _due_query(sections: list[str], languages: list[str], now: datetime | None, exclude: Iterable[str],
                   revisit: "Revisit | None" = None, revisits_only: bool = False) -> dict:
        return ledger.due_query(sections, languages, now or now_utc(), waiting=[s.value for s in WAITING],
                                failed=Status.FAILED.value, indexed=Status.INDEXED.value, exclude=exclude,
                                revisit_sections=revisit.sections if revisit is not None else [],
                                revisit_before=revisit.before if revisit is not None else None,
                                revisits_only=revisits_only)

    def unscheduled(self, sections: list[str]) -> Iterator[LedgerDoc]:
        """Indexed entries of these sections never checked under the revisit policy (an older ledger)."""
        query = ledger.unchecked_query(sections, indexed=Status.INDEXED.value)
        for source in ledger.scan_sources(self.es, self.index, query):
            yield LedgerDoc.model_validate(source)

    def count(self, status: Status | None = None) -> int:
        return ledger.count(self.es, self.index, ledger.docs_query(status.value if status else None))

    def iter_docs(self, status: Status | None = None) -> Iterator[LedgerDoc]:
        for source in ledger.scan_sources(self.es, self.index, ledger.docs_query(status.value if status else None)):
            yield LedgerDoc.model_validate(source)

    # ---- walks and runs ---------------------------------------------------
    def _get(self, key: str) -> dict | None:
        return ledger.source_of(self.es, self.index, key)

    def _put(self, key: str, model: BaseModel) -> None:
        ledger.write_sources(self.es, self.index, [(key, {**model.model_dump(mode="json"), "updated_at": now_iso()})],
                             retry_window=self.retry_window)

    def get_walk(self, key: str) -> WalkState | None:
        found = self._get(key)
        return WalkState.model_validate(found) if found else None

    def put_walk(self, key: str, walk: WalkState) -> None:
        self._put(key, walk)

    def get_run(self, key: str) -> RunState | None:
        found = self._get(key)
        return RunState.model_validate(found) if found else None

    def put_run(self, key: str, run: RunState) -> None:
        self._put(key, run)
