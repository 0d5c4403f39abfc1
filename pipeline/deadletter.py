"""Dead-letter store: every input refused by a stage, with its reason and raw bytes.

A JSON-lines file per run under ``.state/deadletter/`` (one object per refused
input: source, stage, reason, url, raw as base64), so nothing refused is lost and
an engineer can replay or inspect it later. The indexer can also copy failures
into a dead-letter index (see index.py).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

from .records import Failure

MAX_RAW_BYTES = 5 * 1024 * 1024  # keep the evidence, not a whole runaway download


def failure_to_json(failure: Failure) -> dict:
    doc = failure.model_dump(mode="json", exclude={"raw"})
    if failure.raw is not None:
        doc["raw_base64"] = base64.b64encode(failure.raw[:MAX_RAW_BYTES]).decode("ascii")
        doc["raw_truncated"] = len(failure.raw) > MAX_RAW_BYTES
    return doc


class DeadLetterFile:
    """Appends failures to one JSON-lines file, opened lazily (no file when none failed)."""

    def __init__(self, folder: Path, run_name: str = "run"):
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        self.path = Path(folder) / f"{run_name}-{stamp}.jsonl"
        self.count = 0

    def write(self, failure: Failure) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(failure_to_json(failure), ensure_ascii=False) + "\n")
        self.count += 1


def read_dead_letters(path: Path) -> Iterator[dict]:
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def write_all(store: DeadLetterFile, failures: Iterable[Failure]) -> int:
    for failure in failures:
        store.write(failure)
    return store.count
