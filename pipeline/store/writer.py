"""Stage store: validated Transcripts -> Elasticsearch, through the read/write alias.

Indexing streams: records are taken in chunks of ``settings.bulk_chunk_size``; for
each chunk the stored documents of its transcripts are looked up (a search by match key,
then one ``mget`` of those found) so unchanged documents are skipped, and the rest go in
one ``_bulk`` request, their kept versions in another (``bulk_bodies``). An
outcome is yielded per record only once Elasticsearch has answered for it.

Writes have ONE retry policy (``write_policy``): the client's own retries and
the bulk helpers' are not used on this path; a chunk whose request got no answer, or
whose items were refused as busy (429/5xx), is sent again with exponential backoff
until ``settings.es_retry_window`` seconds have passed: one window per outage for the
whole run (``RetryWindow``), not one per call or chunk. Then a node that never
answered raises IndexingError (the run stops), once every input read has its
outcome (``failed`` for those without an answer); items still refused as busy come
out as failed with the node's reason.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import islice
from typing import Any, Callable, Iterable, Iterator, Literal

import orjson
from elasticsearch import ApiError, Elasticsearch, TransportError, helpers
from tenacity import RetryError, Retrying, retry_if_exception, wait_exponential

from pipeline.model.errors import IndexingError
from pipeline.model.ids import text_id, version_id
from pipeline.model.records import Transcript
from pipeline.settings import Settings
from pipeline.store.client import RETRY_STATUSES

log = logging.getLogger(__name__)

Status = Literal["created", "updated", "unchanged", "superseded", "failed"]


@dataclass(frozen=True)
class IndexOutcome:
    doc_id: str
    source: str | None
    status: Status
    reason: str | None = None


class _StillBusy(Exception):
    """Some items of a bulk round were refused as busy: worth another round."""


def _worth_retrying(exc: BaseException) -> bool:
    if isinstance(exc, _StillBusy):
        return True
    if isinstance(exc, ApiError):  # an answer: only busy/unavailable statuses are worth waiting for
        return exc.status_code in RETRY_STATUSES
    return isinstance(exc, TransportError)  # no answer at all: the node is away, starting or recovering


class RetryWindow:
    """One retry window per outage, shared by every write of a run (``index_records``: its look-ups,
    document and version writes, every chunk in flight): the window opens at the first attempt
    that got no answer (or a busy one) and closes ``seconds`` later for all of them; once one
    call has given up, the others give up at their next failed attempt instead of opening a
    window of their own. An answer closes the outage."""

    def __init__(self, seconds: float):
        self.seconds = float(seconds)
        self._since: float | None = None
        self._spent = False
        self._lock = threading.Lock()

    def __float__(self) -> float:
        return self.seconds

    def failed(self) -> None:
        with self._lock:
            if self._since is None:
                self._since = time.monotonic()

    def answered(self) -> None:
        with self._lock:
            self._since, self._spent = None, False

    def give_up(self) -> None:
        with self._lock:
            self._spent = True

    def left(self) -> float:
        """Seconds the window has left (all of it before an outage, none once spent)."""
        with self._lock:
            if self._spent:
                return 0.0
            return self.seconds if self._since is None else max(0.0, self.seconds - (time.monotonic() - self._since))

    def over(self) -> bool:
        return self.left() <= 0


Window = float | RetryWindow


def _window(retry_window: Window) -> RetryWindow:
    return retry_window if isinstance(retry_window, RetryWindow) else RetryWindow(retry_window)


def write_policy(retry_window: Window) -> Retrying:
    """The one retry policy of Elasticsearch writes (and the look-ups they depend on): exponential
    backoff while the window (``RetryWindow``, or seconds for a window of this call's own) is open."""
    window = _window(retry_window)

    def worth_retrying(exc: BaseException) -> bool:
        worth = _worth_retrying(exc)
        if worth:
            window.failed()
        return worth

    backoff = wait_exponential(multiplier=0.5, max=10.0)
    return Retrying(
        retry=retry_if_exception(worth_retrying),
        wait=lambda state: min(backoff(state), window.left()),  # the last try as the window closes
        stop=lambda state: window.over(),
        before_sleep=lambda state: log.warning("Elasticsearch write: %s; retrying in %.1fs",
                                               state.outcome.exception(), state.next_action.sleep),
        reraise=False,
    )


def _under_policy(retry_window: Window, call: Callable[..., Any], *args) -> Any:
    """``call`` under the write policy; RetryError when the window closed (the window is then spent)."""
    window = _window(retry_window)

    def attempt() -> Any:
        result = call(*args)
        window.answered()
        return result

    try:
        return write_policy(window)(attempt)
    except RetryError:
        window.give_up()
        raise


_NO_RETRIES: "weakref.WeakKeyDictionary[Elasticsearch, Elasticsearch]" = weakref.WeakKeyDictionary()


def _without_client_retries(es: Elasticsearch) -> Elasticsearch:
    """The client with its own retries off (the write policy retries), made once per client:
    ``options`` builds a new client with its few dozen API namespaces, a chunk asks several times."""
    client = _NO_RETRIES.get(es)
    if client is None:
        client = _NO_RETRIES[es] = es.options(max_retries=0, retry_on_timeout=False)
    return client


def with_write_policy(call: Callable[[], Any], what: str, retry_window: Window) -> Any:
    """Run ``call`` under the write policy; a node that never answers becomes IndexingError.
    Every write of the pipeline goes through it (documents, versions, folds, the rebuild's
    provenance, the crawl ledger)."""
    try:
        return _under_policy(retry_window, call)
    except RetryError as exc:
        cause = exc.last_attempt.exception()
        raise IndexingError(f"{what}: Elasticsearch did not answer for {float(retry_window):.0f}s: {cause}") from cause


def bulk_write(es: Elasticsearch, actions: list[dict], *, what: str, retry_window: float,
               refresh: bool = False) -> None:
    """Side documents (the crawl ledger's) in one bulk request under the write policy, the client's
    own retries off; an item refused raises (``helpers.BulkIndexError``), as a plain bulk does."""
    if actions:
        with_write_policy(lambda: helpers.bulk(_without_client_retries(es), actions, max_retries=0,
                                               refresh="wait_for" if refresh else False), what, retry_window)


def document_json(record: Transcript, *, doc_version: int, indexed_at: datetime,
                  stored: dict | None = None) -> str:
    """The stored document, serialised as the bulk body takes it: pydantic's own serialiser
    writes the record, the writer's fields are appended. Kibana counts documents, not
    nested turns, hence the per-document turn and question counts to sum. ``stored``
    (the version it replaces) passes on what accumulates: every source and URL that
    brought the transcript, and the first publication date."""
    stored = stored or {}
    extra = orjson.dumps({
        "turn_count": len(record.turns),
        "question_count": sum(1 for turn in record.turns if turn.role == "question"),
        "doc_version": doc_version,
        "indexed_at": indexed_at.isoformat(),
        "last_changed": indexed_at.isoformat(),
        "first_published": stored.get("first_published") or record.published_at.isoformat(),
        "match_key": record.match_key,
        "sources": merged(stored.get("sources"), [record.source]),
        "urls": merged(record.urls, stored.get("urls")),
    }).decode()  # orjson: the same compact, non-ASCII-preserving text as json.dumps, several times faster
    return record.model_dump_json(exclude={"urls"})[:-1] + "," + extra[1:]


def merged(first: list | None, then: list | None) -> list:
    """The items of both lists, each once, in order (sources and URLs a document accumulates)."""
    return list(dict.fromkeys(v for v in [*(first or []), *(then or [])] if v))


def version_document(record: Transcript, doc_id: str, *, doc_version: int | None, at: datetime) -> dict:
    """One kept version of a document (``history``): its text and where and when it was seen;
    ``doc_version`` None for a text the document never had (an older replay's)."""
    return {"doc_id": doc_id, "doc_version": doc_version, "content_hash": record.content_hash,
            "title": record.title, "body": record.body, "published_at": record.published_at.isoformat(),
            "url": record.url, "source": record.source,
            "fetched_at": record.fetched_at.isoformat() if record.fetched_at else None,
            "first_seen": at.isoformat(), "last_seen": at.isoformat()}


def _chunks(records: Iterable[Transcript], size: int) -> Iterator[list[Transcript]]:
    it = iter(records)
    while chunk := list(islice(it, max(1, size))):
        yield chunk


def _reason(info: dict) -> str:
    error = info.get("error")
    if isinstance(error, dict):
        text = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        cause = error.get("caused_by")
        if isinstance(cause, dict):
            text += f" ({cause.get('type')}: {cause.get('reason')})"
        return f"status {info.get('status')}: {text}"
    return f"status {info.get('status')}: {error or 'refused'}"


STORED_FIELDS = ["content_hash", "doc_version", "word_count", "sources", "urls", "first_published", "fetched_at",
                 "event_id"]


def _stored_state(es: Elasticsearch, index: str, ids: list[str], retry_window: Window) -> dict[str, dict]:
    """What the writer needs of the documents already stored, by id (realtime, no refresh needed)."""
    client = _without_client_retries(es)
    resp = with_write_policy(lambda: client.mget(index=index, ids=ids, source_includes=STORED_FIELDS),
                        "looking up stored hashes", retry_window)
    # with the version read (``_seq_no``, ``_primary_term``): updates of what accumulates are conditional on it
    return {d["_id"]: {**d.get("_source", {}), "_seq_no": d["_seq_no"], "_primary_term": d["_primary_term"]}
            for d in resp.body["docs"] if d.get("found")}


def _same_transcripts(es: Elasticsearch, index: str, keys: list[str], retry_window: Window) -> dict[str, list[dict]]:
    """Stored documents by match key (language, day, title): how an input without a URL (a text
    dump) finds the crawled document of the same transcript, and the reverse."""
    client = _without_client_retries(es)
    resp = with_write_policy(lambda: client.search(index=index, size=10 * len(keys), query={"terms": {"match_key": keys}},
                                              source_includes=["match_key", *STORED_FIELDS]),
                        "looking up the same transcripts", retry_window)
    found: dict[str, list[dict]] = {}
    for hit in resp.body["hits"]["hits"]:
        found.setdefault(hit["_source"]["match_key"], []).append({**hit["_source"], "_id": hit["_id"]})
    return found


def _entry_candidates(doc_id: str, record: Transcript, old: dict | None) -> list[str]:
    """The kept entries an input may touch rather than add (``_Plan.document`` picks one): for the
    stored text, the stored version's entry and one an older writer kept under (document, text);
    for an older replay, every numbered entry its text may have, and its unnumbered one."""
    if old is None or "content_hash" not in old:
        return []
    number = int(old.get("doc_version") or 1)
    if old["content_hash"] == record.content_hash:
        return [version_id(doc_id, number, record.content_hash), text_id(doc_id, record.content_hash)]
    if _older(record, old):
        return [version_id(doc_id, k, record.content_hash) for k in range(1, number + 1)] + [
            text_id(doc_id, record.content_hash)]
    return []


def _kept_entries(es: Elasticsearch, versions_index: str | None, ids: list[str], retry_window: Window) -> dict[str, int | None]:
    """Which of these history entries exist, with their ``doc_version`` (realtime: an entry the
    round before wrote is found)."""
    if versions_index is None or not ids:
        return {}
    client = _without_client_retries(es)
    resp = with_write_policy(lambda: client.mget(index=versions_index, ids=ids, source_includes=["doc_version"]),
                             "looking up kept versions", retry_window)
    return {d["_id"]: d.get("_source", {}).get("doc_version") for d in resp.body["docs"] if d.get("found")}


@dataclass
class _Answers:
    """What Elasticsearch answered for the actions of one chunk, over the rounds it took."""

    done: list[IndexOutcome] = field(default_factory=list)  # an outcome per document written
    busy: dict[str, str] = field(default_factory=dict)  # refused as busy in the last round: sent again
    side_refused: dict[str, str] = field(default_factory=dict)  # side action -> why it was refused
    conflicts: set[str] = field(default_factory=set)  # actions refused because the document changed (409)


# What the writer reads of a bulk answer per item: the node leaves out the rest (index, version, shards,
# sequence numbers), which the client would parse for nothing, two thirds of each item's bytes.
BULK_ANSWER = "items.*._id,items.*.status,items.*.result,items.*.error"


MAX_BULK_BYTES = 100 * 1024 * 1024  # the node's default http.max_content_length: a chunk over it goes in parts


def bulk_bodies(actions: list[dict], max_bytes: int = MAX_BULK_BYTES) -> Iterator[tuple[list[dict], bytes]]:
    """(actions, NDJSON body) of the ``_bulk`` requests for these actions (each in ``helpers.bulk``'s
    form, read by ``helpers.expand_action``), one request unless the body would pass ``max_bytes``.
    Serialised in one pass: a document's ``_source`` given as JSON text (``document_json``) goes in
    as is.

    Not ``helpers.streaming_bulk``: the writer sends each chunk under its own retry policy, and the
    helper's per-action chunking, serialising line by line and generator plumbing cost the replay
    about as much Python CPU as the bytes themselves (docs/indexing.md)."""
    batch: list[dict] = []
    lines: list[bytes] = []
    size = 0
    for action in actions:
        head, data = helpers.expand_action(action)
        these = [orjson.dumps(head)]
        if data is not None:
            these.append(data.encode("utf-8") if isinstance(data, str) else orjson.dumps(data))
        grow = sum(len(line) + 1 for line in these)
        if batch and size + grow > max_bytes:
            yield batch, b"\n".join(lines) + b"\n"
            batch, lines, size = [], [], 0
        batch.append(action)
        lines += these
        size += grow
    if batch:
        yield batch, b"\n".join(lines) + b"\n"


def _bulk_items(es: Elasticsearch, actions: list[dict]) -> Iterator[tuple[str, dict]]:
    """(operation, item) per action: the node's answer for each, or, when it refused a whole
    request (busy, too large), that refusal for each of its actions as ``helpers.bulk`` reports it."""
    for batch, body in bulk_bodies(actions):
        try:
            resp = es.bulk(operations=body, filter_path=BULK_ANSWER)
        except ApiError as exc:
            for action in batch:
                yield action.get("_op_type", "index"), {"_id": action.get("_id"), "status": exc.status_code,
                                                        "error": str(exc)}
            continue
        for item in resp.body.get("items", []):
            yield next(iter(item.items()))


def _bulk_round(es: Elasticsearch, pending: dict[str, dict], sources: dict[str, str | None],
                answers: _Answers) -> None:
    """Send the pending actions once. Acknowledged and refused items leave ``pending``;
    document writes (the actions ``sources`` names an input of) get an outcome in ``answers.done``;
    side actions (kept versions, an input's source on a stored document) go to
    ``answers.side_refused`` with the reason when refused. Items refused as busy stay (their reason in ``answers.busy``) and
    raise _StillBusy."""
    answers.busy.clear()
    key_of = {(action["_op_type"], action["_id"]): key for key, action in pending.items()}
    for op, info in _bulk_items(es, list(pending.values())):
        key = key_of.get((op, info.get("_id")))
        if key not in pending:
            continue
        ok = 200 <= info.get("status", 500) < 300
        if not ok and info.get("status") in RETRY_STATUSES:
            answers.busy[key] = _reason(info)
            continue
        del pending[key]
        if not ok and info.get("status") == 409:
            answers.conflicts.add(key)
        if key not in sources:  # a side action: its owner's outcome says so (``_Plan.send``)
            if not ok:
                answers.side_refused[key] = _reason(info)
            continue
        if ok:
            status: Status = "created" if info.get("result") == "created" else "updated"
            answers.done.append(IndexOutcome(key, sources.get(key), status))
        else:
            answers.done.append(IndexOutcome(key, sources.get(key), "failed", _reason(info)))
    if pending:
        raise _StillBusy(f"{len(pending)} documents refused as busy, e.g. {next(iter(answers.busy.values()), '')}")


class WriteGates:
    """One ``_bulk`` at a time per index over a run's chunks in flight.

    With ``bulk_in_flight`` > 1 the chunks' requests overlap where they write to different
    indices (a chunk's documents while the chunk before keeps its versions, the next chunk's
    look-ups meanwhile), never two writes to one index: two bulk requests into one shard at
    once cost the node more per document (docs/indexing.md, fourth pass), where a document
    write beside a history write keeps two of its write threads busy on two shards."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def of(self, index: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(index, threading.Lock())


_NO_GATE = contextlib.nullcontext()  # stateless: one for every thread


def _bulk_chunk(es: Elasticsearch, actions: dict[str, dict], sources: dict[str, str | None], *,
                retry_window: Window, gate: threading.Lock | None = None) -> _Answers:
    """Send one chunk under the write policy: an outcome per document once Elasticsearch
    answered for it, the side actions it refused and the actions refused as conflicts.
    ``gate``: held for the whole send (``WriteGates``)."""
    client = _without_client_retries(es)
    pending, answers = dict(actions), _Answers()
    try:
        with gate or _NO_GATE:
            _under_policy(retry_window, _bulk_round, client, pending, sources, answers)
    except RetryError as exc:
        cause = exc.last_attempt.exception()
        if not isinstance(cause, _StillBusy):
            raise IndexingError(f"bulk of {len(pending)} documents: Elasticsearch did not answer "
                                f"for {float(retry_window):.0f}s: {cause}") from cause
        for key, action in pending.items():
            reason = f"still busy after {float(retry_window):.0f}s: {answers.busy.get(key, 'refused')}"
            if key in sources:
                answers.done.append(IndexOutcome(key, sources.get(key), "failed", reason))
            else:
                answers.side_refused[key] = reason
    return answers


def _implausible(record: Transcript, old: dict, max_shrink: float) -> str | None:
    """Why ``record`` must not replace the stored version: its body shrank by more than
    ``max_shrink`` (a page cut short or a template change that lost the speech)."""
    stored = int(old.get("word_count") or 0)
    if stored and record.word_count < stored * (1 - max_shrink):
        return f"implausible: {record.word_count:,} words vs {stored:,} stored"
    return None


def _resolve_identity(chunk: list[Transcript], same: dict[str, list[dict]]) -> tuple[dict[str, str], set[str]]:
    """(document id per input, URL-less documents the chunk's crawled versions absorb).

    A URL-less input joins the stored document of the same transcript when there is one;
    a crawled input takes over a stored URL-less document of the same transcript (its
    sources carried over now; the fold when the run closes deletes it)."""
    ids: dict[str, str] = {}
    absorbed: set[str] = set()
    for record in chunk:
        doc_id = record.doc_id
        for other in same.get(record.match_key, []):
            if record.event_id is None and other.get("event_id"):
                doc_id = other["_id"]
            elif record.event_id is not None and not other.get("event_id") and other["_id"] != doc_id:
                absorbed.add(other["_id"])
        ids[id(record)] = doc_id
    return ids, absorbed


def _index_chunk(es: Elasticsearch, chunk: list[Transcript], *, index: str, retry_window: Window,
                 versions_index: str | None = None, max_shrink: float = 1.0,
                 answered: list[IndexOutcome] | None = None, gates: WriteGates | None = None) -> list[IndexOutcome]:
    """Look up what is stored for one chunk, send what changed, return an outcome per input.

    Every write of a stored document is conditional on the version read (``if_seq_no``):
    when another run changed it meanwhile the write is refused (409), and that document is
    read again and planned again (``CONFLICT_ATTEMPTS`` times), so what the other run added
    (a source, a URL) is never overwritten by a stale copy.

    An input whose transcript the look-up by match key found no document of is taken for new:
    its first round creates the document without reading it first (a replay into a fresh index
    spares the node an ``mget`` per chunk). When it is stored all the same (written since the
    last refresh, or under another title), the create is refused (409) and it is read and
    planned as every conflict is."""
    same = _same_transcripts(es, index, list({r.match_key for r in chunk}), retry_window)
    ids, absorbed = _resolve_identity(chunk, same)
    absorbed_docs = {d["_id"]: d for docs in same.values() for d in docs if d["_id"] in absorbed}
    unseen = {record.doc_id for record in chunk if record.match_key not in same}
    outcomes: list[IndexOutcome] = answered if answered is not None else []
    for k, by_id in enumerate(_rounds(chunk, ids)):
        outcomes += _index_round(es, by_id, absorbed_docs, index=index, retry_window=retry_window,
                                 versions_index=versions_index, max_shrink=max_shrink, gates=gates,
                                 unseen=unseen if k == 0 else set())  # later rounds follow a write: read
    return outcomes


class _ChunkGaveUp(Exception):
    """A chunk whose retry window closed: the outcomes it has (answered rounds, and a failure
    for every input without an answer), and the IndexingError that ends the run."""

    def __init__(self, outcomes: list[IndexOutcome], error: IndexingError):
        super().__init__(error.reason)
        self.outcomes = outcomes
        self.error = error


def _index_chunk_or_give_up(es: Elasticsearch, chunk: list[Transcript], **kwargs) -> list[IndexOutcome]:
    """``_index_chunk``; when Elasticsearch stops answering, ``_ChunkGaveUp`` with an outcome for
    every input of the chunk (what was answered before, "failed" for the rest)."""
    answered: list[IndexOutcome] = []
    try:
        return _index_chunk(es, chunk, answered=answered, **kwargs)
    except IndexingError as exc:
        raise _ChunkGaveUp(answered + _unanswered(chunk, answered, exc), exc) from exc


def _unanswered(records: list[Transcript], answered: list[IndexOutcome], exc: IndexingError) -> list[IndexOutcome]:
    """A failed outcome for each input without one: its write may or may not have reached the
    node (no answer came), and running again finds out (unchanged or written)."""
    have = [o.source for o in answered]
    missing = []
    for record in records:
        if record.source in have:
            have.remove(record.source)
        else:
            missing.append(IndexOutcome(record.doc_id, record.source, "failed",
                                        f"no answer from Elasticsearch, not known to be stored: {exc.reason}"))
    return missing


def _rounds(chunk: list[Transcript], ids: dict[int, str]) -> list[dict[str, Transcript]]:
    """The chunk's inputs in rounds of at most one input per document: the copies of one
    transcript in the order they were fetched or captured (undated ones first, in input order),
    so each is planned against what the one before it wrote, as with chunks of one: the newest
    text becomes the document whatever the input order, every text goes to the history and
    every copy's source and URLs to the document."""
    copies: dict[str, list[Transcript]] = {}
    for record in chunk:
        copies.setdefault(ids[id(record)], []).append(record)
    for records in copies.values():
        records.sort(key=lambda r: r.fetched_at.timestamp() if r.fetched_at else float("-inf"))
    depth = max((len(records) for records in copies.values()), default=0)
    return [{doc_id: records[k] for doc_id, records in copies.items() if len(records) > k} for k in range(depth)]


def _index_round(es: Elasticsearch, by_id: dict[str, Transcript], absorbed_docs: dict[str, dict], *, index: str,
                 retry_window: Window, versions_index: str | None, max_shrink: float,
                 unseen: set[str] = frozenset(), gates: WriteGates | None = None) -> list[IndexOutcome]:
    """Plan and send one round of a chunk (one input per document); an outcome per input.
    ``unseen``: documents taken for new, planned without reading them (a 409 reads them)."""
    to_read = [doc_id for doc_id in by_id if doc_id not in unseen]
    stored = _stored_state(es, index, to_read, retry_window) if to_read else {}
    for doc_id, record in by_id.items():
        carried = [d for d in absorbed_docs.values() if d["match_key"] == record.match_key]
        if doc_id not in stored and carried:
            # The URL-less documents it absorbs: their sources are carried into this write. They are
            # not deleted here (the write may be refused): the fold when the run closes deletes each
            # once its sources are listed on the crawled document, conditionally on what it read.
            stored[doc_id] = {"sources": merged([s for d in carried for s in d.get("sources") or []], None),
                              "first_published": carried[0].get("first_published"), "urls": []}
    final: dict[str, IndexOutcome] = {}
    todo = list(by_id)
    attempts = CONFLICT_ATTEMPTS + (1 if len(to_read) < len(by_id) else 0)  # a guess refused is no conflict
    for attempt in range(attempts + 1):
        candidates = [vid for doc_id in todo for vid in _entry_candidates(doc_id, by_id[doc_id], stored.get(doc_id))]
        plan = _Plan(index=index, versions_index=versions_index, max_shrink=max_shrink,
                     now=datetime.now(timezone.utc), gates=gates,
                     kept=_kept_entries(es, versions_index, candidates, retry_window))
        for doc_id in todo:
            plan.document(doc_id, by_id[doc_id], stored.get(doc_id))
        results = plan.send(es, retry_window)
        todo = [doc_id for doc_id in todo if plan.conflicted(doc_id) and attempt < attempts]
        final.update({doc_id: outcome for doc_id, outcome in results.items() if doc_id not in todo})
        if not todo:
            break
        stored = _stored_state(es, index, todo, retry_window)
    return [final[doc_id] for doc_id in by_id]


CONFLICT_ATTEMPTS = 5


@dataclass
class _Plan:
    """What one round of a chunk sends: the actions, which input each side action belongs to,
    and the outcomes decided without a write (unchanged, superseded, implausible)."""

    index: str
    versions_index: str | None
    max_shrink: float
    now: datetime
    kept: dict[str, int | None] = field(default_factory=dict)  # history entries found, with their number
    actions: dict[str, dict] = field(default_factory=dict)  # the documents and the sources added to them
    versions: dict[str, dict] = field(default_factory=dict)  # kept versions, sent after the documents
    touches: dict[str, dict] = field(default_factory=dict)  # a new entry's update, should it exist already
    owners: dict[str, tuple[str, str]] = field(default_factory=dict)  # side action -> (document, what it keeps)
    sources: dict[str, str | None] = field(default_factory=dict)  # document written -> its input
    decided: dict[str, IndexOutcome] = field(default_factory=dict)
    answers: _Answers = field(default_factory=_Answers)
    gates: WriteGates | None = None  # one bulk per index at a time over the run's chunks in flight

    def document(self, doc_id: str, record: Transcript, old: dict | None) -> None:
        """Plan one input against what is stored for its document (``old``, None when nothing)."""
        same_text = old is not None and old.get("content_hash") == record.content_hash
        if same_text or (old is not None and record.event_id is None and old.get("event_id")):
            # The stored text stays (the same text, or a dump of a transcript the crawl has, whose
            # crawled text wins); the input is one more source of it, its URLs more URLs.
            if same_text:
                number = int(old.get("doc_version") or 1)
                self._keep_version(self._stored_entry(doc_id, record, number), doc_id, record, number)
            self._add_provenance(doc_id, old, record)
            self.decided[doc_id] = IndexOutcome(doc_id, record.source, "unchanged")
            return
        if _older(record, old):
            self._add_provenance(doc_id, old, record)
            # never the document's text: kept without a number (a text it had keeps its own)
            vid, number = self._older_entry(doc_id, record, int(old.get("doc_version") or 1))
            self._keep_version(vid, doc_id, record, number)
            self.decided[doc_id] = IndexOutcome(doc_id, record.source, "superseded",
                                                f"fetched {record.fetched_at.isoformat()}, before the stored version")
            return
        shrank = _implausible(record, old, self.max_shrink) if old is not None else None
        if shrank:  # the stored document stays; the new version goes to the dead letters
            self.decided[doc_id] = IndexOutcome(doc_id, record.source, "failed", shrank)
            return
        version = int(old.get("doc_version") or 0) + 1 if old is not None and "content_hash" in old else 1
        # A document not stored when read is created, never replaced: two runs writing one new
        # transcript at once get one 409, and that one plans again against the other's write.
        exists = old is not None and "_seq_no" in old
        self.actions[doc_id] = _conditional({
            "_op_type": "index" if exists else "create", "_index": self.index, "_id": doc_id,
            "_source": document_json(record, doc_version=version, indexed_at=self.now, stored=old),
        }, old)
        self.sources[doc_id] = record.source
        self._keep_version(version_id(doc_id, version, record.content_hash), doc_id, record, version, new=True)

    def send(self, es: Elasticsearch, retry_window: Window) -> dict[str, IndexOutcome]:
        """Send the round's actions; an outcome per planned document. A refused side action
        fails the input it belongs to: its document may be stored, but a version or a source
        it brought is not, and only a failure makes the ledger and the dead letters try it
        again (the retry finds the text stored and writes what is missing).

        The documents go first, their kept versions after: only an input whose writes went
        through keeps its text in the history. A write refused because another run changed
        the document is planned again under another version number; its text kept before
        that would stay numbered from the stale read."""
        if self.actions:
            self.answers = _bulk_chunk(es, self.actions, self.sources, retry_window=retry_window,
                                       gate=self._gate(self.index))
        results = {**self.decided, **{outcome.doc_id: outcome for outcome in self.answers.done}}
        written = {doc_id for doc_id, outcome in results.items() if outcome.status != "failed"
                   and not self.conflicted(doc_id) and f"sources:{doc_id}" not in self.answers.side_refused}
        versions = {key: action for key, action in self.versions.items() if self.owners[key][0] in written}
        try:
            self._send_versions(es, versions, retry_window)
        except IndexingError as exc:  # the documents are stored: their inputs fail as a refusal would
            self.answers.side_refused.update({key: f"no answer: {exc.reason}" for key in versions})
        for key, reason in self.answers.side_refused.items():
            doc_id, what = self.owners[key]
            outcome = results[doc_id]
            if outcome.status != "failed":
                results[doc_id] = IndexOutcome(doc_id, outcome.source, "failed", f"{outcome.status}, but {what} "
                                               f"refused: {reason}")
        return results

    def _send_versions(self, es: Elasticsearch, versions: dict[str, dict], retry_window: Window) -> None:
        """Write the kept versions of the documents written; a new entry the history has already
        (``create`` refused, 409) is touched instead, as the entries found stored are."""
        while versions:
            kept = _bulk_chunk(es, versions, {}, retry_window=retry_window, gate=self._gate(self.versions_index))
            touch = {key: self.touches[key] for key in kept.conflicts & self.touches.keys()
                     if versions[key]["_op_type"] == "create"}
            self.answers.side_refused.update({key: reason for key, reason in kept.side_refused.items()
                                              if key not in touch})
            versions = touch

    def _gate(self, index: str | None) -> threading.Lock | None:
        return self.gates.of(index) if self.gates is not None and index else None

    def conflicted(self, doc_id: str) -> bool:
        """Whether a write of this document was refused because it changed after it was read."""
        return doc_id in self.answers.conflicts or f"sources:{doc_id}" in self.answers.conflicts

    def _add_provenance(self, doc_id: str, stored: dict, record: Transcript) -> None:
        """Add the input's source and URLs to the stored document when it lacks them."""
        sources = merged(stored.get("sources"), [record.source])
        urls = merged(stored.get("urls"), record.urls)
        if sources == (stored.get("sources") or []) and urls == (stored.get("urls") or []):
            return
        key = f"sources:{doc_id}"
        self.actions[key] = _conditional({"_op_type": "update", "_index": self.index, "_id": doc_id,
                                          "doc": {"sources": sources, "urls": urls}}, stored)
        self.owners[key] = (doc_id, "adding its source to the stored document")

    def _stored_entry(self, doc_id: str, record: Transcript, number: int) -> str:
        """The entry of the stored version: its own, or the one a writer before December 2026 kept
        under (document, text) with that number (touched, never duplicated)."""
        own, legacy = version_id(doc_id, number, record.content_hash), text_id(doc_id, record.content_hash)
        if own not in self.kept and legacy in self.kept and self.kept[legacy] == number:
            return legacy
        return own

    def _older_entry(self, doc_id: str, record: Transcript, number: int) -> tuple[str, int | None]:
        """Where an older replay's text is kept, and its number: the latest numbered version with
        that text (the document had it), else the text's unnumbered entry."""
        for k in range(number, 0, -1):
            if version_id(doc_id, k, record.content_hash) in self.kept:
                return version_id(doc_id, k, record.content_hash), k
        return text_id(doc_id, record.content_hash), None

    def _keep_version(self, vid: str, doc_id: str, record: Transcript, doc_version: int | None, *,
                      new: bool = False) -> None:
        """Keep the input's text in the history as entry ``vid``, or touch that entry's ``last_seen``.

        One entry per version (``ids.version_id``: a text the page goes back to is a new version,
        v1 keeps its own), one per text the document never had (``doc_version`` None, an older
        replay's: ``ids.text_id``). Writing a version again (the same input twice, a retry after a
        refused history write) only touches its entry: the document's ``doc_version`` always
        names an entry of its history.

        ``new``: the version of a document written now, whose entry is not expected: it is created
        (``create``), which spares the node the update's look-up of the entry (about 0.2 CPU ms per
        document, docs/indexing.md); an entry there already (the document left the index and came
        back) refuses it, and ``_send_versions`` touches it as the update would."""
        if self.versions_index is None:
            return
        key = f"version:{vid}"
        self.owners[key] = (doc_id, "keeping its version in the history")
        entry = version_document(record, doc_id, doc_version=doc_version, at=self.now)
        # retry_on_conflict: two runs meeting the same text touch its last_seen at once (the node
        # retries the update on the newer version; the upsert is the same either way)
        touch = {"_op_type": "update", "_index": self.versions_index, "_id": vid, "retry_on_conflict": 5,
                 "doc": {"last_seen": self.now.isoformat()}, "upsert": entry}
        if new:
            self.touches[key] = touch
            self.versions[key] = {"_op_type": "create", "_index": self.versions_index, "_id": vid, "_source": entry}
        else:
            self.versions[key] = touch


def _conditional(action: dict, stored: dict | None) -> dict:
    """The action, conditional on the version of the stored document it was planned from."""
    if stored is not None and "_seq_no" in stored:
        action.update(if_seq_no=stored["_seq_no"], if_primary_term=stored["_primary_term"])
    return action


def _older(record: Transcript, stored: dict | None) -> bool:
    """True when the stored version was fetched after this input (a replay of an old WARC)."""
    if stored is None or record.fetched_at is None or not stored.get("fetched_at"):
        return False
    return record.fetched_at < datetime.fromisoformat(stored["fetched_at"])


# --- folding: one document per transcript, whatever order the writes came in -------------------

FOLD_PAGE = 500
_FOLD_FIELDS = ["match_key", "event_id", "sources", "first_published", "published_at"]


def fold_same_transcripts(es: Elasticsearch, index: str, *, retry_window: float) -> int:
    """Fold every URL-less document into the crawled document of the same transcript; return how many.

    The per-chunk folding (``_same_transcripts``) finds the other document by a search,
    which sees only refreshed documents: a dump and a crawled page of one transcript
    written at the same time (two workers, two runs, or one chunk) each miss the other and
    both get a document. This pass converges after the fact: it refreshes, finds the match
    keys held both by a document with an article (``event_id``) and by one without, merges
    the latter's ``sources`` into the crawled document (the crawled text stays, as when the
    writer folds), keeps the earliest ``first_published``, then deletes the URL-less
    document. Every update and delete is conditional on the sequence number read, so a
    document that changed meanwhile is left to the next pass, never overwritten, and a
    URL-less document is deleted only once its sources are in the crawled one. Idempotent:
    a pass over a folded index changes nothing. Its cost follows the URL-less documents
    (a composite aggregation over their match keys, ``FOLD_PAGE`` at a time).
    """
    client = _without_client_retries(es)
    with_write_policy(lambda: client.indices.refresh(index=index), "refreshing before folding", retry_window)
    bare = {"bool": {"must_not": [{"exists": {"field": "event_id"}}]}}
    after: dict | None = None
    folded = 0
    while True:
        composite: dict = {"size": FOLD_PAGE, "sources": [{"key": {"terms": {"field": "match_key"}}}]}
        if after:
            composite["after"] = after
        resp = with_write_policy(lambda: client.search(index=index, size=0, query=bare, aggs={"keys": {"composite": composite}}),
                            "listing URL-less documents", retry_window)
        page = resp.body["aggregations"]["keys"]
        keys = [b["key"]["key"] for b in page["buckets"]]
        if keys:
            folded += _fold_keys(client, index, keys, retry_window)
        after = page.get("after_key")
        if len(keys) < FOLD_PAGE or after is None:
            break
    if folded:
        log.info("folded %d URL-less documents into the crawled documents of the same transcripts", folded)
    return folded


def _earliest(docs: list[dict]) -> str | None:
    stamps = [d.get("first_published") or d.get("published_at") for d in docs]
    return min((s for s in stamps if s), key=datetime.fromisoformat, default=None)


def _fold_keys(client: Elasticsearch, index: str, keys: list[str], retry_window: float) -> int:
    """Fold the documents of these match keys (one page of the pass); return how many were deleted."""
    resp = with_write_policy(lambda: client.search(index=index, size=10 * len(keys), seq_no_primary_term=True,
                                              query={"terms": {"match_key": keys}}, source_includes=_FOLD_FIELDS),
                        "looking up the same transcripts", retry_window)
    groups: dict[str, list[dict]] = {}
    for hit in resp.body["hits"]["hits"]:
        groups.setdefault(hit["_source"]["match_key"], []).append(hit)
    updates: list[dict] = []
    deletes: dict[str, list[dict]] = {}  # target id -> the URL-less documents it absorbs
    for hits in groups.values():
        crawled = sorted((h for h in hits if h["_source"].get("event_id")), key=lambda h: h["_id"])
        absorbed = [h for h in hits if not h["_source"].get("event_id")]
        if not crawled or not absorbed:
            continue
        target = crawled[0]  # two articles with one title on one day: the same one every pass
        kept = target["_source"]
        sources = merged(kept.get("sources"), [s for h in absorbed for s in h["_source"].get("sources") or []])
        first = _earliest([kept] + [h["_source"] for h in absorbed])
        if sources != kept.get("sources") or first != kept.get("first_published"):
            updates += [{"update": {"_index": target["_index"], "_id": target["_id"], "if_seq_no": target["_seq_no"],
                                    "if_primary_term": target["_primary_term"]}},
                        {"doc": {"sources": sources, "first_published": first}}]
        deletes[target["_id"]] = absorbed
    if not deletes:
        return 0
    if updates:  # the sources first: a URL-less document goes only once the crawled one lists them
        for item in _fold_bulk(client, updates, retry_window):
            info = item["update"]
            if info.get("status", 500) >= 300:
                log.warning("folding into %s left for the next pass: %s", info.get("_id"), _reason(info))
                deletes.pop(info.get("_id"), None)
    ops = [{"delete": {"_index": h["_index"], "_id": h["_id"], "if_seq_no": h["_seq_no"],
                       "if_primary_term": h["_primary_term"]}} for absorbed in deletes.values() for h in absorbed]
    if not ops:
        return 0
    done = 0
    for item in _fold_bulk(client, ops, retry_window):
        info = item["delete"]
        if info.get("status") == 200 or info.get("status") == 404:  # 404: another pass folded it first
            done += info.get("status") == 200
        else:  # changed since it was read (409), or busy: the next pass sees it again
            log.warning("folding %s left for the next pass: %s", info.get("_id"), _reason(info))
    return done


def _fold_bulk(client: Elasticsearch, operations: list[dict], retry_window: float) -> list[dict]:
    return with_write_policy(lambda: client.bulk(operations=operations), "folding the same transcripts",
                        retry_window).body["items"]


def index_records(
    es: Elasticsearch,
    records: Iterable[Transcript],
    *,
    index: str,
    settings: Settings,
    retry_window: float | None = None,
    versions_index: str | None = None,
) -> Iterator[IndexOutcome]:
    """Index ``records`` into ``index`` (normally the alias); yield one outcome per record.

    Unchanged documents (same content hash as stored) are not re-sent; a new version
    whose body shrank by more than ``settings.index_max_shrink`` is not sent either and
    comes out "failed" (``implausible: ...``), the stored one kept. Documents
    refused by Elasticsearch come out as "failed" with its reason; a node that
    stays unreachable for ``retry_window`` seconds (default: ``settings.es_retry_window``)
    raises IndexingError. With ``versions_index`` every version a document ever had is kept
    there (``history``: one entry per version, ``_Plan._keep_version``), and an input fetched
    before the stored version never replaces it.

    Chunks are sent by worker threads while the caller's generator builds the next
    (extraction overlaps the wait for Elasticsearch): up to ``settings.bulk_in_flight``
    at once, each its look-ups then its _bulk requests (documents, then their versions; one
    request per index at a time over the chunks, ``WriteGates``), outcomes yielded in input order.
    A chunk that shares a document id or a match key with a chunk in flight waits for
    it (and those before it): its look-ups must see what the earlier chunk wrote, as
    when chunks go one at a time. At most ``bulk_in_flight`` + 1 chunks are in memory.
    """
    window = RetryWindow(settings.es_retry_window if retry_window is None else retry_window)
    gates = WriteGates()
    depth = max(1, settings.bulk_in_flight)
    pool = ThreadPoolExecutor(max_workers=depth, thread_name_prefix="mfa-bulk")
    in_flight: deque[tuple[Future, set[str], list[Transcript]]] = deque()
    gave_up: list[IndexingError] = []

    def oldest() -> list[IndexOutcome]:
        future, _, chunk = in_flight.popleft()
        try:
            return future.result()
        except _ChunkGaveUp as exc:
            gave_up.append(exc.error)
            return exc.outcomes

    try:
        for chunk in _chunks(records, settings.bulk_chunk_size):
            keys = _chunk_keys(chunk) if depth > 1 else set()
            while not gave_up and any(keys & earlier for _, earlier, _ in in_flight):
                yield from oldest()
            if gave_up:  # read already: each input has its outcome, none is sent
                yield from _unanswered(chunk, [], gave_up[0])
                break
            future = pool.submit(_index_chunk_or_give_up, es, chunk, index=index, retry_window=window,
                                 versions_index=versions_index, max_shrink=settings.index_max_shrink,
                                 gates=gates)
            in_flight.append((future, keys, chunk))
            while len(in_flight) > depth:  # backpressure: the caller waits for the oldest chunk
                yield from oldest()
            if gave_up:
                break
        while in_flight:  # every chunk in flight answers for its inputs, before and after an outage
            yield from oldest()
    finally:
        # On an error or an abandoned generator: drop the queued chunks, let the running ones finish.
        pool.shutdown(wait=True, cancel_futures=True)
    if gave_up:
        raise gave_up[0]


def _chunk_keys(chunk: list[Transcript]) -> set[str]:
    """What a chunk's look-ups and writes depend on: its document ids and match keys (a
    URL-less input joins, and a crawled one absorbs, the stored document of its match key)."""
    return {record.doc_id for record in chunk} | {"match:" + record.match_key for record in chunk}
