"""The run report: what a run listed, fetched, indexed and refused, and why.

Every entry point (CLI, DAG task) builds one (in its run context), prints it at the
end and returns it as data: a ``RunReport`` crosses XCom as ``model_dump(mode="json")``
and comes back whole with ``RunReport.model_validate``; several partitions' reports
add up with ``merge``. The verdicts on a run are the report's own methods: the failure
classes (``class_lines``), whether the failures stay within an allowance
(``tolerates``), why a crawl could not do its job (``crawl_problems``) and why a
nightly run must fail loudly (``quality_problems``).

Every input has exactly one outcome: indexed (new or updated), unchanged, not
modified, or failed. A crawl's revalidations (conditional GETs of known pages the revisit
policy scheduled, crawl/revisit.py) are inputs like any fetch and end in one of those
outcomes; they are also counted apart (scheduled, sent, the edits they caught). A known
page a listing showed that the policy did not schedule (``not_due``) is no input: it is
listed, not read. Failures are counted per stage and per outcome class
(``Failure.kind``: site_unreachable, blocked, http_error, extraction_failure...),
with the first sources of each class, so a summary can name the class and the URLs.
The failure share is over inputs *attempted* (every outcome), not over pages
fetched: a run that fetched nothing and failed everything has a share of 1.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from pydantic import BaseModel, Field, computed_field, field_serializer

from pipeline.model.errors import printable
from pipeline.model.records import Failure
from pipeline.redact import redact

MAX_KEPT_FAILURES = 200  # the report keeps the first ones; the dead-letter store keeps all
FIRST_PER_KIND = 3  # sources kept per outcome class, for the one-line summaries
# Outcome classes that mean the site itself could not be crawled (not one bad page).
UNREACHABLE_KINDS = ("site_unreachable", "robots_unreachable")
# What an operator does about each class a crawl fails on (in the problem's one line).
CRAWL_ADVICE = {
    "site unreachable": "check that the site is up and MFA_CRAWL_BASE_URL (or the mfa_site connection) "
                        "names it; the next run tries again",
    "blocked": "slow down (MFA_CRAWL_RATE_PER_HOST), change the User-Agent (MFA_CRAWL_USER_AGENT) or try later",
    "layout changed": "run mfa-ingest check-site and update the named selector in the site profile; "
                      "no retry mends it",
    "nothing listed": "run mfa-ingest check-site: the listing layout changed or the sections are empty",
}


class RunReport(BaseModel):
    name: str = "run"
    started_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    finished_at: datetime | None = None
    # crawl side
    listed: int = 0
    fetched: int = 0
    not_modified: int = 0
    # The revisit policy (a run up to now): known indexed pages it scheduled for a conditional GET,
    # those the site answered (sent), the edits they caught (updated documents), and the known
    # pages the listings showed that were not due (listed, not fetched: no input, no outcome).
    revalidations_scheduled: int = 0
    revalidations_fresh: int = 0  # of the scheduled: items younger than the policy's fresh_days (nightly)
    revalidations_sent: int = 0
    revalidation_edits: int = 0
    not_due: int = 0
    retries: int = 0
    bytes: int = 0
    # extract / index side
    read: int = 0
    extracted: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    superseded: int = 0  # an input fetched before the stored version of its document (an old replay)
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
            first.append(redact(printable(failure.url or failure.source)))
        if len(self.failures) < MAX_KEPT_FAILURES:
            self.failures.append(redact(failure.one_line()))

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

    def merge(self, other: RunReport) -> RunReport:
        """Add ``other``'s counts to this report (a backfill's partitions into one total): every
        counter field summed, failure classes and stages merged, the first sources of each class
        and the kept failure lines up to their caps, numeric extras summed. Returns self."""
        for name, info in type(self).model_fields.items():
            if info.annotation is int:
                setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures_by_stage.update(other.failures_by_stage)
        self.failures_by_kind.update(other.failures_by_kind)
        for kind, sources in other.first_by_kind.items():
            self.first_by_kind[kind] = (self.first_by_kind.get(kind, []) + list(sources))[:FIRST_PER_KIND]
        self.failures = (self.failures + other.failures)[:MAX_KEPT_FAILURES]
        for key, value in other.extra.items():
            if isinstance(value, (int, float)) and isinstance(self.extra.get(key, 0), (int, float)):
                self.extra[key] = self.extra.get(key, 0) + value
        return self

    @classmethod
    def total(cls, reports: list[RunReport], name: str = "total") -> RunReport:
        """One report adding up ``reports`` (``extra["partitions"]``: how many)."""
        total = cls(name=name)
        for report in reports:
            total.merge(report)
        total.extra["partitions"] = len(reports)
        return total

    @computed_field
    @property
    def indexed(self) -> int:
        return self.new + self.updated

    @property
    def outcomes(self) -> int:
        """One outcome per input read: this equals ``read`` in every finished run."""
        return self.new + self.updated + self.unchanged + self.superseded + self.failed

    @computed_field
    @property
    def attempted(self) -> int:
        """Inputs that reached an outcome: the outcomes of inputs read, and pages not modified (304)."""
        return self.outcomes + self.not_modified

    @computed_field
    @property
    def failure_share(self) -> float:
        """Failed inputs over inputs attempted (every outcome), not over pages fetched: a run that could
        fetch nothing and failed every input has a share of 1."""
        return self.failed / self.attempted if self.attempted else 0.0

    @field_serializer("failure_share")
    def _rounded_share(self, share: float) -> float:
        return round(share, 4)

    def class_lines(self) -> list[str]:
        """``failed: <kind> <n> (first: a, b, c)`` per outcome class that failed, the largest first."""
        return [f"failed: {kind} {n} (first: {', '.join(self.first_by_kind.get(kind, [])) or '-'})"
                for kind, n in sorted(self.failures_by_kind.items(), key=lambda kv: -kv[1])]

    def tolerates(self, allowance: str | None) -> bool:
        """Whether the failures stay within ``allowance`` (``--allow-failures``: see parse_allowance)."""
        if not self.failed:
            return True
        count, share = parse_allowance(allowance)
        if share is not None:
            return self.failed / (self.attempted or self.failed) <= share
        return self.failed <= (count or 0)

    def _first(self, *kinds: str) -> str:
        urls = [u for kind in (kinds or tuple(self.first_by_kind)) for u in self.first_by_kind.get(kind, [])]
        return f"; first: {', '.join(urls[:3])}" if urls else ""

    def crawl_problems(self) -> list[str]:
        """Why a crawl run must fail whatever the thresholds (empty when the site was crawled); each
        problem is one line: its class, what happened, the first URLs and the advice (CRAWL_ADVICE).

        - site unreachable: inputs failed and no answer from the site was a usable one
          (no answer at all, or only 5xx/429), or a failure class says so;
        - blocked: the site answered with anti-bot challenges;
        - layout changed: pages that were neither content nor a challenge lacked their
          container (crawl/blocked.py names the selector);
        - nothing listed although the site answered (listing layout changed, or empty).

        A backfill from a web archive (``extra["source"]``, crawl/webarchive.py) fails when the
        archive could not be read; a challenge it captured is a page the archive holds, not the
        site blocking this run (a failure like any other), and a window may hold no capture.
        """
        kinds = self.failures_by_kind
        usable = self.responses - self.server_errors
        archive = self.extra.get("source") not in (None, "site")
        problems = []
        if self.failed and (usable <= 0 or any(kinds.get(k) for k in UNREACHABLE_KINDS)):
            detail = ", ".join(f"{k} {n}" for k, n in kinds.items())
            problems.append(f"{'archive' if archive else 'site'} unreachable: {self.responses} answers, "
                            f"{self.server_errors} of them 5xx/429; {self.failed} failed ({detail}){self._first()}"
                            + ("" if archive else f": {CRAWL_ADVICE['site unreachable']}"))
        if archive:
            return problems
        if kinds.get("blocked"):
            problems.append(f"blocked: {kinds['blocked']} anti-bot answers{self._first('blocked')}: "
                            f"{CRAWL_ADVICE['blocked']}")
        if kinds.get("layout_changed"):
            reason = self.extra.get("layout_changed") or "pages without their expected container"
            problems.append(f"layout changed: {kinds['layout_changed']} pages without their container"
                            f"{self._first('layout_changed')}: {reason}; {CRAWL_ADVICE['layout changed']}")
        if (not problems and usable > 0 and self.listed == 0
                and not int(self.extra.get("listing_out_of_range", 0) or 0)):
            problems.append(f"nothing listed although the site answered ({usable} answers): "
                            f"{CRAWL_ADVICE['nothing listed']}")
        return problems

    def quality_problems(self, newest: datetime | None, *, now: datetime | None = None, max_quiet_days: int,
                         max_deadletter_share: float) -> list[str]:
        """Why a nightly run must fail loudly (empty when it is fine).

        - nothing new for too long: this run indexed nothing and the newest
          document was indexed more than ``max_quiet_days`` ago (or never);
        - too many refusals: the failure share is above ``max_deadletter_share``.
        """
        now = now or datetime.now(timezone.utc)
        problems = []
        if self.indexed == 0:
            if newest is None:
                problems.append(f"nothing indexed yet (listed {self.listed} this run)")
            elif now - newest > timedelta(days=max_quiet_days):
                problems.append(f"nothing new for {(now - newest).days} days (limit {max_quiet_days}); "
                                f"listed {self.listed} this run")
        if self.failure_share > max_deadletter_share:
            problems.append(f"dead-letter share {self.failure_share:.1%} above {max_deadletter_share:.1%} "
                            f"({self.failed} of {self.attempted} failed: "
                            f"{dict(self.failures_by_kind or self.failures_by_stage)}){self._first()}")
        return problems

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
        if self.revalidations_scheduled or self.not_due:
            lines.insert(1, f"revisits: scheduled {self.revalidations_scheduled} ({self.revalidations_fresh} fresh, "
                            f"{self.revalidations_scheduled - self.revalidations_fresh} at their interval), "
                            f"sent {self.revalidations_sent}, "
                            f"edits caught {self.revalidation_edits}; known and not due {self.not_due} "
                            "(the revisit policy, crawl.revisit in the site profile)")
        lines += [f"  failed: {line}" for line in self.failures]
        return lines


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
