"""Dead-letter store: every input refused by a stage, with its reason and raw bytes.

A JSON-lines file per run under ``.state/deadletter/`` (one object per refused
input, ``failure_document``: source, stage, reason, url, at, the raw input as
base64 and as readable text), so nothing refused is lost and an engineer can
replay or inspect it later. The indexer copies the same documents into the
dead-letter index (index.dead_letter_sink; mapping in
config/elasticsearch/deadletter.template.json).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pipeline.records import Failure

# Keep the evidence, not a whole runaway download (and stay a reasonable Elasticsearch document).
MAX_RAW_BYTES = 1024 * 1024
MAX_RAW_TEXT = 4000  # the readable excerpt shown next to the base64


def failure_document(failure: Failure) -> dict:
    """One dead letter, the same in the JSON-lines file and in the dead-letter index."""
    doc: dict[str, Any] = {
        "source": failure.source, "stage": failure.stage, "reason": failure.reason,
        "url": failure.url, "at": failure.at.isoformat(),
    }
    if failure.raw is not None:
        doc["raw_bytes"] = len(failure.raw)
        doc["raw_truncated"] = len(failure.raw) > MAX_RAW_BYTES
        doc["raw_base64"] = base64.b64encode(failure.raw[:MAX_RAW_BYTES]).decode("ascii")
        doc["raw_text"] = failure.raw[:MAX_RAW_TEXT].decode("utf-8", errors="replace")
    return doc


class DeadLetterFile:
    """Appends failures to one JSON-lines file, opened lazily (no file when none failed)."""

    def __init__(self, folder: Path, run_name: str = "run"):
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        self.path = Path(folder) / f"{run_name}-{stamp}.jsonl"
        self.count = 0

    def write(self, failure: Failure) -> None:
        # Open, append, close per failure: failures are rare, and a run killed right
        # after one has still written it.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(failure_document(failure), ensure_ascii=False) + "\n")
        self.count += 1
