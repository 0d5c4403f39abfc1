"""Dead-letter store: every input refused by a stage, with its reason and raw bytes.

A JSON-lines file per run under ``.state/deadletter/`` (one object per refused
input, ``failure_document``: source, stage, reason, url, at, the raw input as
base64 and as readable text), so nothing refused is lost and an engineer can
replay or inspect it later. The indexer copies the same documents into the
dead-letter index (``dead_letter_sink``; mapping in
config/elasticsearch/deadletter.template.json).
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import datetime, timezone
from typing import Any, Callable

from elasticsearch import ApiError, Elasticsearch, TransportError

from pipeline import storage
from pipeline.model.ids import deadletter_id
from pipeline.model.records import Failure
from pipeline.redact import redact
from pipeline.settings import Settings
from pipeline.store.design import DEADLETTER_FILE, create_index_if_missing, load_config_json

log = logging.getLogger(__name__)

# Keep the evidence, not a whole runaway download (and stay a reasonable Elasticsearch document).
MAX_RAW_BYTES = 1024 * 1024
MAX_RAW_TEXT = 4000  # the readable excerpt shown next to the base64


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
            doc = {k: v for k, v in doc.items() if k not in ("raw_base64", "raw_text")} | {"raw_truncated": True}
            line = json.dumps(doc, ensure_ascii=False) + "\n"
            self.raw_dropped += 1
        return line


def ensure_deadletter_index(es: Elasticsearch, settings: Settings) -> str:
    name = settings.deadletter_index
    create_index_if_missing(es, name, load_config_json(settings, DEADLETTER_FILE))
    return name


def dead_letter_sink(es: Elasticsearch, settings: Settings) -> Callable[[Failure], None]:
    """A callable writing each Failure to the dead-letter index.

    A failure to write a dead letter is logged, not raised: the JSON-lines
    dead-letter file (deadletter.py) still holds it, and the run goes on.
    """
    name = ensure_deadletter_index(es, settings)

    def sink(failure: Failure) -> None:
        try:
            es.index(index=name, id=deadletter_id(failure), document=failure_document(failure))
        except (ApiError, TransportError) as exc:
            log.error("could not write dead letter for %s: %s", failure.source, exc)

    return sink


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


def mark_resolved(es: Elasticsearch, settings: Settings, letter_id: str, resolution: str) -> None:
    es.update(index=settings.deadletter_index, id=letter_id,
              doc={"resolved": True, "resolved_at": datetime.now(timezone.utc).isoformat(), "resolution": resolution})
