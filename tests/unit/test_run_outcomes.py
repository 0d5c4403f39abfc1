"""Outcome classes in the run report, the failure share over inputs attempted, --allow-failures,
and the run-level verdicts of a crawl (site unreachable, blocked, nothing listed)."""

from __future__ import annotations

import pytest

from pipeline.model.errors import Blocked, HttpStatusError, RecordRejected, SiteUnreachable
from pipeline.model.records import Failure
from pipeline.report import RunReport, parse_allowance


def failed(exc, url: str) -> Failure:
    return Failure.from_error(exc, source=url, url=url)


def down_report() -> RunReport:
    """What a crawl of a site that never answered looks like: nothing fetched, every input failed."""
    report = RunReport(name="nightly")
    for n in range(5):
        report.record_failure(failed(SiteUnreachable(f"no answer from /{n}"), f"http://site/{n}"))
    return report.finish()


def test_report_counts_failures_per_class_with_the_first_sources():
    report = RunReport()
    report.new = 3
    for n in range(4):
        report.record_failure(failed(HttpStatusError(f"HTTP 500 for /{n}", 500), f"http://site/{n}"))
    report.record_failure(failed(RecordRejected("no title"), "dump/7.txt"))
    data = report.model_dump(mode="json")
    assert data["failures_by_kind"] == {"http_error": 4, "validation_failure": 1}
    assert data["first_by_kind"]["http_error"] == ["http://site/0", "http://site/1", "http://site/2"]
    assert data["attempted"] == 8
    assert report.class_lines()[0] == "failed: http_error 4 (first: http://site/0, http://site/1, http://site/2)"


def test_failure_share_is_over_inputs_attempted_not_pages_fetched():
    report = down_report()
    assert report.fetched == 0
    assert report.failure_share == 1.0
    problems = report.quality_problems(None, max_quiet_days=7, max_deadletter_share=0.2)
    assert any("dead-letter share 100.0%" in p for p in problems)


@pytest.mark.parametrize("text, expected", [(None, (0, None)), ("3", (3, None)), ("2.5%", (None, 0.025))])
def test_allow_failures_parses_a_count_or_a_share(text, expected):
    assert parse_allowance(text) == expected


@pytest.mark.parametrize("text", ["-1", "abc", "150%"])
def test_allow_failures_refuses_nonsense(text):
    with pytest.raises(ValueError, match="--allow-failures"):
        parse_allowance(text)


def test_failures_tolerated_by_count_and_share():
    report = RunReport(failed=2, new=98)  # 2 of 100 attempted
    assert not report.tolerates(None)
    assert report.tolerates("2") and not report.tolerates("1")
    assert report.tolerates("2%") and not report.tolerates("1%")
    assert RunReport().tolerates(None)


def test_a_crawl_without_any_answer_is_site_unreachable_naming_the_first_urls():
    (problem,) = down_report().crawl_problems()
    assert problem.startswith("site unreachable")
    assert "http://site/0" in problem


def test_a_crawl_answered_only_with_5xx_is_site_unreachable_whatever_the_failure_class():
    report = RunReport(responses=6, server_errors=6)
    for n in range(3):  # an unreachable robots.txt may still be read as "disallow all"
        report.record_failure(Failure(source=f"http://site/{n}", url=f"http://site/{n}", stage="fetch",
                                      kind="disallowed", reason="disallowed by robots.txt"))
    (problem,) = report.crawl_problems()
    assert problem.startswith("site unreachable") and "5xx" in problem


def test_blocked_and_nothing_listed():
    blocked = RunReport(responses=4, listed=2)
    blocked.record_failure(failed(Blocked("challenge page"), "http://site/1"))
    assert [p.split(":")[0] for p in blocked.crawl_problems()] == ["blocked"]
    empty = RunReport(responses=3, listed=0)
    (problem,) = empty.crawl_problems()
    assert problem.startswith("nothing listed although the site answered")
    quiet = RunReport(responses=3, listed=0, extra={"listing_out_of_range": 20})
    assert quiet.crawl_problems() == []  # the listings had entries, all older than the run's dates
    fine = RunReport(responses=10, listed=5, fetched=5, new=5)
    assert fine.crawl_problems() == []


def test_reports_add_up_keeping_classes_the_share_and_the_failure_lines():
    listed = RunReport(new=5, responses=5, listed=7, extra={"warc_records_skipped": 2, "run_id": "a"})
    total = RunReport.total([down_report(), listed], name="backfill")
    assert total.failures_by_kind == {"site_unreachable": 5}
    assert total.attempted == 10 and total.failure_share == 0.5
    assert (total.listed, total.responses, total.new) == (7, 5, 5)
    # what the old dict helper (a hand-kept list of keys) dropped: the failure lines and the extras
    assert total.failures[0] == "http://site/0: fetch: no answer from /0" and len(total.failures) == 5
    assert total.extra["warc_records_skipped"] == 2 and total.extra["partitions"] == 2
    assert total.class_lines() == ["failed: site_unreachable 5 (first: http://site/0, http://site/1, http://site/2)"]


def test_every_counter_of_the_report_adds_up():
    """A counter added to RunReport later is merged without anyone keeping a list of keys."""
    counters = [name for name, info in RunReport.model_fields.items() if info.annotation is int]
    assert {"listed", "fetched", "read", "new", "failed", "responses", "server_errors"} <= set(counters)
    one = RunReport(**{name: 1 for name in counters})
    two = RunReport(**{name: 2 for name in counters})
    merged = one.merge(two)
    assert all(getattr(merged, name) == 3 for name in counters)


def test_the_report_crosses_xcom_whole():
    """model_dump(mode="json") on one side of XCom, model_validate on the other: the same report."""
    report = down_report()
    report.listed, report.extra["run_id"] = 4, "abc"
    data = report.model_dump(mode="json")
    assert (data["attempted"], data["failure_share"], data["indexed"]) == (5, 1.0, 0)
    back = RunReport.model_validate(data)
    assert back.model_dump(mode="json") == data
    assert back.crawl_problems() == report.crawl_problems() and back.class_lines() == report.class_lines()


def test_a_page_without_its_container_is_a_changed_layout_naming_the_selector_with_its_advice():
    """Neither content nor a challenge: the site's layout changed. Named as such (not blocked, no
    advice to slow down), with the selector to look at and what to run."""
    from pipeline.model.errors import LayoutChanged

    report = RunReport(responses=3, listed=0)
    reason = "listing container 'ul.announce' matched nothing: check crawl.layouts.current.container"
    report.record_failure(failed(LayoutChanged(reason), "http://site/list"))
    report.extra["layout_changed"] = reason
    (problem,) = report.crawl_problems()
    assert problem.startswith("layout changed:"), problem
    assert "crawl.layouts.current.container" in problem and "check-site" in problem
    assert "slow down" not in problem and "http://site/list" in problem


def test_every_crawl_problem_carries_its_advice():
    blocked = RunReport(responses=4, listed=2)
    blocked.record_failure(failed(Blocked("challenge page"), "http://site/1"))
    (problem,) = blocked.crawl_problems()
    assert "MFA_CRAWL_RATE_PER_HOST" in problem and "try later" in problem
    (problem,) = down_report().crawl_problems()
    assert "MFA_CRAWL_BASE_URL" in problem and "next run" in problem
    (problem,) = RunReport(responses=3, listed=0).crawl_problems()
    assert "check-site" in problem
