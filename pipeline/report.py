"""The run report: what a run listed, fetched, indexed and refused, and why.

Every entry point (CLI, DAG task) builds one, prints it at the end and returns it
as data (``as_dict``) so a DAG can log it and push it to XCom.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timezone

from pydantic import BaseModel, Field

from pipeline.records import Failure

MAX_KEPT_FAILURES = 200  # the report keeps the first ones; the dead-letter store keeps all


class RunReport(BaseModel):
    name: str = "run"
    started_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    finished_at: datetime | None = None
    # crawl side
    listed: int = 0
    fetched: int = 0
    not_modified: int = 0
    retries: int = 0
    bytes: int = 0
    # extract / index side
    read: int = 0
    extracted: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    superseded: int = 0  # an earlier copy of a document a later input of the same chunk replaced
    failed: int = 0
    failures_by_stage: Counter = Field(default_factory=Counter)
    failures: list[str] = Field(default_factory=list)
    extra: dict[str, int | float | str] = Field(default_factory=dict)

    _t0: float = 0.0

    def model_post_init(self, __context) -> None:
        self._t0 = time.monotonic()

    def record_failure(self, failure: Failure) -> None:
        self.failed += 1
        self.failures_by_stage[failure.stage] += 1
        if len(self.failures) < MAX_KEPT_FAILURES:
            self.failures.append(failure.one_line())

    def count_outcome(self, status: str) -> bool:
        """Count one indexing outcome (created / updated / unchanged / superseded / failed); True when it failed.

        The caller sends a failed one to its dead letters (the report only counts it there).
        """
        if status == "created":
            self.new += 1
        elif status == "updated":
            self.updated += 1
        elif status == "unchanged":
            self.unchanged += 1
        elif status == "superseded":
            self.superseded += 1
        else:
            return True
        return False

    def finish(self) -> "RunReport":
        self.finished_at = datetime.now(timezone.utc)
        self.extra["duration_s"] = round(time.monotonic() - self._t0, 3)
        return self

    @property
    def indexed(self) -> int:
        return self.new + self.updated

    @property
    def outcomes(self) -> int:
        """One outcome per input read: this equals ``read`` in every finished run."""
        return self.new + self.updated + self.unchanged + self.superseded + self.failed

    def as_dict(self) -> dict:
        data = self.model_dump(mode="json")
        data["failures_by_stage"] = dict(self.failures_by_stage)
        data["indexed"] = self.indexed
        return data

    def summary_lines(self) -> list[str]:
        dur = self.extra.get("duration_s", "?")
        crawl = (f"listed {self.listed}, fetched {self.fetched}, not modified {self.not_modified}, "
                 if self.listed or self.fetched else "")
        lines = [
            f"{self.name}: {crawl}read {self.read}, extracted {self.extracted}",
            f"indexed: new {self.new}, updated {self.updated}, unchanged {self.unchanged}"
            + (f", superseded {self.superseded}" if self.superseded else "") + "; "
            f"failed {self.failed} {dict(self.failures_by_stage) or ''}".rstrip(),
            f"retries {self.retries}, bytes {self.bytes}, duration {dur}s",
        ]
        lines += [f"  failed: {line}" for line in self.failures]
        return lines
