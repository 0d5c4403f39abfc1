"""Dead-letter store: every input refused by a stage, with its reason and raw bytes.

A JSON-lines file per run under ``.state/deadletter/`` (one object per refused
input, ``failure_document``: source, stage, reason, url, at, the raw input as
base64 and as readable text), so nothing refused is lost and an engineer can
replay or inspect it later. The indexer copies the same documents into the
dead-letter index (``dead_letter_sink``; mapping in
config/elasticsearch/deadletter.template.json).

Both keep the inputs' bytes within a budget: the file up to ``MFA_DEADLETTER_MAX_BYTES`` per
run, the index up to ``MFA_DEADLETTER_INDEX_MAX_BYTES`` for its open letters together (a
damaged archive of 100,000 bad pages would otherwise put ~100 GB of evidence in it). Past the
budget a letter keeps its source, URL, stage and reason but not its bytes, and says so
(``bytes_dropped``); the run report counts those letters; ``redrive`` fetches such a letter
again from its URL. A resolved letter (its input went through again; a new failure is a letter
of its own) no longer counts: ``prune_resolved`` deletes it once it is older than the kept age.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import datetime, timezone
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError, helpers

from pipeline import storage
from pipeline.model.ids import deadletter_id
from pipeline.model.records import Failure
from pipeline.redact import redact
from pipeline.settings import Settings
from pipeline.store.client import scan
from pipeline.store.design import DEADLETTER_FILE, create_index_if_missing, grow_mapping, load_config_json

log = logging.getLogger(__name__)

# Keep the evidence, not a whole runaway download (and stay a reasonable Elasticsearch document).
MAX_RAW_BYTES = 1024 * 1024
MAX_RAW_TEXT = 4000  # the readable excerpt shown next to the base64
RAW_FIELDS = ("raw_base64", "raw_text", "raw_bytes", "raw_truncated")
OVER_FILE_BUDGET = "over the dead-letter file's byte budget"  # bytes_dropped: why a letter has no bytes
OVER_INDEX_BUDGET = "over the dead-letter byte budget"


def failure_document(failure: Failure) -> dict:
    """One dead letter, the same in the JSON-lines file and in the dead-letter index."""
    # What the run says about an input is redacted; the input's own bytes are evidence, kept as they came.
    doc: dict[str, Any] = {
        "source": redact(failure.source), "stage": failure.stage, "kind": failure.kind,
        "reason": redact(failure.reason), "url": failure.url and redact(failure.url), "at": failure.at.isoformat(),
    }
    if failure.raw is not None:
        doc["raw_bytes"] = len(failure.raw)
        doc["raw_truncated"] = len(failure.raw) > MAX_RAW_BYTES
        doc["raw_base64"] = base64.b64encode(failure.raw[:MAX_RAW_BYTES]).decode("ascii")
        doc["raw_text"] = failure.raw[:MAX_RAW_TEXT].decode("utf-8", errors="replace")
    return doc


class DeadLetterFile:
    """Appends failures to one JSON-lines file, opened lazily (no file when none failed).

    The file is readable by its owner only (mode 600: it holds whatever the refused inputs
    held). Past ``max_bytes`` a letter keeps what failed and why but not the input's bytes
    (``raw_truncated``, no ``raw_base64``); ``raw_dropped`` counts those for the report.
    """

    def __init__(self, folder: storage.Location, run_name: str = "run", *, max_bytes: int | None = None):
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        self.folder = storage.normalize(folder)  # a path, or a URL (s3://...): docs/deployment.md
        self.path = storage.join(self.folder, f"{run_name}-{stamp}.jsonl")
        self.max_bytes = max_bytes
        self.count = 0
        self.size = 0
        self.raw_dropped = 0
        self._lines: list[str] = []  # kept for stores that cannot append

    def write(self, failure: Failure) -> None:
        # Open, write, close per failure: failures are rare, and a run killed right
        # after one has still written it. An object store cannot append: the file is
        # written whole again each time.
        line = self._line(failure)
        storage.make_folder(self.folder)
        if storage.can_append(self.path):
            with storage.open_private(self.path, "a") as fh:
                fh.write(line)
        else:
            self._lines.append(line)
            with storage.open_file(self.path, "w", encoding="utf-8") as fh:
                fh.write("".join(self._lines))
        self.count += 1
        self.size += len(line.encode("utf-8"))

    def _line(self, failure: Failure) -> str:
        doc = failure_document(failure)
        line = json.dumps(doc, ensure_ascii=False) + "\n"
        if self.max_bytes is not None and "raw_base64" in doc and self.size + len(line.encode("utf-8")) > self.max_bytes:
            doc = without_bytes(doc, OVER_FILE_BUDGET)
            line = json.dumps(doc, ensure_ascii=False) + "\n"
            self.raw_dropped += 1
        return line


def without_bytes(doc: dict, why: str) -> dict:
    """The letter without the input's bytes (its size stays), saying why in ``bytes_dropped``."""
    return {k: v for k, v in doc.items() if k not in ("raw_base64", "raw_text")} | {
        "raw_truncated": True, "bytes_dropped": why}


def kept_bytes(doc: dict) -> int:
    """The input's bytes a letter keeps (what counts against the budget)."""
    return min(doc.get("raw_bytes") or 0, MAX_RAW_BYTES) if doc.get("raw_base64") else 0


def ensure_deadletter_index(es: Elasticsearch, settings: Settings) -> str:
    """Create the dead-letter index when missing; an existing one gains the fields the mapping
    added since (``bytes_dropped``): the mapping is strict."""
    name = settings.deadletter_index
    body = load_config_json(settings, DEADLETTER_FILE)
    if not create_index_if_missing(es, name, body):
        grow_mapping(es, name, body)
    return name


def index_raw_bytes(es: Elasticsearch, name: str) -> int:
    """The raw bytes the open letters of the index keep, all together (the budget's spent part)."""
    es.indices.refresh(index=name)
    aggs = {"whole": {"filter": {"term": {"raw_truncated": False}}, "aggs": {"bytes": {"sum": {"field": "raw_bytes"}}}},
            "cut": {"filter": {"term": {"raw_truncated": True}}}}  # a cut letter keeps MAX_RAW_BYTES
    # A resolved letter's input went through again: its bytes wait for the prune, they do not
    # stop an open letter from keeping its own.
    resp = es.search(index=name, size=0, aggs=aggs,
                     query={"bool": {"must_not": [{"exists": {"field": "bytes_dropped"}}, {"term": {"resolved": True}}]}})
    return int(resp["aggregations"]["whole"]["bytes"]["value"]) + resp["aggregations"]["cut"]["doc_count"] * MAX_RAW_BYTES


class DeadLetterIndex:
    """Writes each Failure to the dead-letter index, its bytes within the index's byte budget.

    The budget's spent part (the open letters' bytes) is read from the index when the sink
    opens, then counted here: runs in parallel each spend from what was left when they opened,
    so N runs at once keep at most N times that remainder (docs/indexing.md). The same refusal written again (a re-run; the
    letter's id is stable) replaces its letter: it counts once, and past the budget it keeps
    the bytes its letter had. ``raw_dropped`` counts the letters written without their bytes.

    A failure to write a dead letter is logged, not raised: the JSON-lines dead-letter file
    still holds it, and the run goes on.
    """

    def __init__(self, es: Elasticsearch, settings: Settings):
        self.es = es
        self.name = ensure_deadletter_index(es, settings)
        self.max_bytes = settings.deadletter_index_max_bytes
        self.used = index_raw_bytes(es, self.name)
        self.raw_dropped = 0

    def __call__(self, failure: Failure) -> None:
        letter_id = deadletter_id(failure)
        doc = failure_document(failure)
        kept = kept_bytes(doc)
        if kept and self.used + kept > self.max_bytes:
            doc, kept = self._past_budget(letter_id, doc, kept)
        try:
            self.es.index(index=self.name, id=letter_id, document=doc)
        except (ApiError, TransportError) as exc:
            log.error("could not write dead letter for %s: %s", failure.source, exc)
            return
        self.used += kept

    def _past_budget(self, letter_id: str, doc: dict, kept: int) -> tuple[dict, int]:
        """The letter to write when its bytes do not fit, and the bytes it keeps."""
        try:
            stored = self.es.options(ignore_status=404).get(index=self.name, id=letter_id,
                                                            source_includes=list(RAW_FIELDS)).body.get("_source")
        except (ApiError, TransportError):  # not known to be there: counted as a new letter
            stored = None
        before = {k: v for k, v in (stored or {}).items() if k in RAW_FIELDS}
        had = kept_bytes(before)
        self.used -= had  # the letter it replaces is counted already
        if had and self.used + kept <= self.max_bytes:
            return doc, kept
        if had:  # the same refusal again: it keeps the bytes its letter had
            return {k: v for k, v in doc.items() if k not in RAW_FIELDS} | before, had
        self.raw_dropped += 1
        return without_bytes(doc, OVER_INDEX_BUDGET), 0


def dead_letter_sink(es: Elasticsearch, settings: Settings) -> DeadLetterIndex:
    """A callable writing each Failure to the dead-letter index (``DeadLetterIndex``)."""
    return DeadLetterIndex(es, settings)


def open_dead_letters(es: Elasticsearch, settings: Settings, *, stages: list[str] | None = None,
                      limit: int = 1000) -> list[dict]:
    """Dead letters not yet resolved (oldest first), each with its ``_id``; none while there is no
    dead-letter index (the run's failure sink creates it, once)."""
    name = settings.deadletter_index
    if not es.indices.exists(index=name):
        return []
    es.indices.refresh(index=name)
    filters: list[dict] = [{"terms": {"stage": stages}}] if stages else []
    query = {"bool": {"filter": filters, "must_not": [{"term": {"resolved": True}}]}}
    hits = es.search(index=name, query=query, size=limit, sort=[{"at": "asc"}])["hits"]["hits"]
    return [{**hit["_source"], "_id": hit["_id"]} for hit in hits]


def raw_of(letter: dict) -> bytes | None:
    """The input's bytes as the dead letter kept them; None when not kept whole."""
    if not letter.get("raw_base64") or letter.get("raw_truncated"):
        return None
    return base64.b64decode(letter["raw_base64"])


def mark_resolved(es: Elasticsearch, settings: Settings, letter: dict, resolution: str) -> None:
    """The letter's input went through again (``resolution`` says how); its attempt is counted."""
    at = _now()
    es.update(index=settings.deadletter_index, id=letter["_id"],
              doc={**_attempt(letter, resolution, at), "resolved": True, "resolved_at": at, "resolution": resolution})


def mark_redriven(es: Elasticsearch, settings: Settings, letter: dict, outcome: str) -> None:
    """A redrive refused again for the letter's own reason: the letter stays open, its attempts
    (``redrives``) counted and the outcome kept as ``last_redrive``. The count is taken from the
    letter as read before the redrive: the failure written again replaced its document."""
    es.update(index=settings.deadletter_index, id=letter["_id"], doc=_attempt(letter, outcome, _now()))


def _attempt(letter: dict, outcome: str, at: str) -> dict:
    return {"redrives": int(letter.get("redrives") or 0) + 1, "last_redrive": outcome, "last_redrive_at": at}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def prune_resolved(es: Elasticsearch, settings: Settings, older_than_days: float, *, dry_run: bool = False) -> int:
    """Delete the resolved letters resolved more than ``older_than_days`` days ago (an open
    letter stays, however old); return how many (would be) deleted."""
    name = settings.deadletter_index
    if not es.indices.exists(index=name):
        return 0
    es.indices.refresh(index=name)
    age = f"now-{int(older_than_days * 86400)}s"
    query = {"bool": {"filter": [{"term": {"resolved": True}}, {"range": {"resolved_at": {"lt": age}}}]}}
    if dry_run:
        return int(es.count(index=name, query=query)["count"])
    # Ids, then a bulk of deletes: the node the scripts install has no reindex module (no
    # _delete_by_query).
    actions = ({"_op_type": "delete", "_index": name, "_id": hit["_id"]}
               for hit in scan(es, name, query))
    deleted, _ = helpers.bulk(es, actions, refresh=True, raise_on_error=False)
    return deleted
