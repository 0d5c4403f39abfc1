"""The run report: what a run listed, fetched, indexed and refused, and why.

Every entry point (CLI, DAG task) builds one, prints it at the end and returns it
as data (``as_dict``) so a DAG can log it and push it to XCom.

Every input has exactly one outcome: indexed (new or updated), unchanged, not
modified, or failed. Failures are counted per stage and per outcome class
(``Failure.kind``: site_unreachable, blocked, http_error, extraction_failure...),
with the first sources of each class, so a summary can name the class and the URLs.
The failure share is over inputs *attempted* (every outcome), not over pages
fetched: a run that fetched nothing and failed everything has a share of 1.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timezone

from pydantic import BaseModel, Field

from pipeline.records import Failure

MAX_KEPT_FAILURES = 200  # the report keeps the first ones; the dead-letter store keeps all
FIRST_PER_KIND = 3  # sources kept per outcome class, for the one-line summaries


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
    failures_by_kind: Counter = Field(default_factory=Counter)
    first_by_kind: dict[str, list[str]] = Field(default_factory=dict)
    # HTTP answers of a crawl (any status) and those that were 5xx or 429: a crawl whose
    # answers were all of the second kind never reached the site.
    responses: int = 0
    server_errors: int = 0
    failures: list[str] = Field(default_factory=list)
    extra: dict[str, int | float | str] = Field(default_factory=dict)

    _t0: float = 0.0

    def model_post_init(self, __context) -> None:
        self._t0 = time.monotonic()

    def record_failure(self, failure: Failure) -> None:
        self.failed += 1
        self.failures_by_stage[failure.stage] += 1
        self.failures_by_kind[failure.kind] += 1
        first = self.first_by_kind.setdefault(failure.kind, [])
        if len(first) < FIRST_PER_KIND:
            first.append(failure.url or failure.source)
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

    @property
    def attempted(self) -> int:
        """Inputs that reached an outcome: the outcomes of inputs read, and pages not modified (304)."""
        return self.outcomes + self.not_modified

    @property
    def failure_share(self) -> float:
        return self.failed / self.attempted if self.attempted else 0.0

    def as_dict(self) -> dict:
        data = self.model_dump(mode="json")
        data["failures_by_stage"] = dict(self.failures_by_stage)
        data["failures_by_kind"] = dict(self.failures_by_kind)
        data["indexed"] = self.indexed
        data["attempted"] = self.attempted
        data["failure_share"] = round(self.failure_share, 4)
        return data

    def class_lines(self) -> list[str]:
        """One line per outcome class that failed: count and the first sources."""
        return class_lines(self.as_dict())

    def summary_lines(self) -> list[str]:
        dur = self.extra.get("duration_s", "?")
        crawl = (f"listed {self.listed}, fetched {self.fetched}, not modified {self.not_modified}, "
                 if self.listed or self.fetched else "")
        lines = [
            f"{self.name}: {crawl}read {self.read}, extracted {self.extracted}",
            f"indexed: new {self.new}, updated {self.updated}, unchanged {self.unchanged}"
            + (f", superseded {self.superseded}" if self.superseded else "") + "; "
            f"failed {self.failed} of {self.attempted} {dict(self.failures_by_kind) or ''}".rstrip(),
            f"retries {self.retries}, bytes {self.bytes}, duration {dur}s",
        ]
        lines += [f"  failed: {line}" for line in self.failures]
        return lines


def class_lines(report: dict) -> list[str]:
    """``failed: <kind> <n> (first: a, b, c)`` per outcome class of a report in its as_dict form."""
    first = report.get("first_by_kind") or {}
    return [f"failed: {kind} {n} (first: {', '.join(first.get(kind, [])) or '-'})"
            for kind, n in sorted((report.get("failures_by_kind") or {}).items(), key=lambda kv: -kv[1])]


def parse_allowance(text: str | None) -> tuple[int | None, float | None]:
    """``--allow-failures``: ``N`` failed inputs or ``P%`` of the inputs attempted; None: none allowed."""
    if text is None or not str(text).strip():
        return 0, None
    text = str(text).strip()
    try:
        if text.endswith("%"):
            share = float(text[:-1]) / 100
            if not 0 <= share <= 1:
                raise ValueError
            return None, share
        count = int(text)
        if count < 0:
            raise ValueError
        return count, None
    except ValueError:
        raise ValueError(f"--allow-failures takes a count (5) or a percentage (2%), not {text!r}") from None


def failures_tolerated(report: dict, allowance: str | None) -> bool:
    """Whether the report's failures stay within ``allowance`` (see parse_allowance)."""
    failed = int(report.get("failed", 0))
    if not failed:
        return True
    count, share = parse_allowance(allowance)
    if share is not None:
        attempted = int(report.get("attempted", 0)) or failed
        return failed / attempted <= share
    return failed <= (count or 0)
