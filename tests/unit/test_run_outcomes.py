"""Outcome classes in the run report, the failure share over inputs attempted, --allow-failures,
and the run-level verdicts of a crawl (site unreachable, blocked, nothing listed)."""

from __future__ import annotations

import pytest

from pipeline.errors import Blocked, HttpStatusError, RecordRejected, SiteUnreachable
from pipeline.jobs import add_reports, crawl_problems, deadletter_share, quality_problems
from pipeline.records import Failure
from pipeline.report import RunReport, failures_tolerated, parse_allowance


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
    data = report.as_dict()
    assert data["failures_by_kind"] == {"http_error": 4, "validation_failure": 1}
    assert data["first_by_kind"]["http_error"] == ["http://site/0", "http://site/1", "http://site/2"]
    assert data["attempted"] == 8
    assert report.class_lines()[0] == "failed: http_error 4 (first: http://site/0, http://site/1, http://site/2)"


def test_failure_share_is_over_inputs_attempted_not_pages_fetched():
    data = down_report().as_dict()
    assert data["fetched"] == 0
    assert deadletter_share(data) == 1.0
    problems = quality_problems(data, None, max_quiet_days=7, max_deadletter_share=0.2)
    assert any("dead-letter share 100.0%" in p for p in problems)


@pytest.mark.parametrize("text, expected", [(None, (0, None)), ("3", (3, None)), ("2.5%", (None, 0.025))])
def test_allow_failures_parses_a_count_or_a_share(text, expected):
    assert parse_allowance(text) == expected


@pytest.mark.parametrize("text", ["-1", "abc", "150%"])
def test_allow_failures_refuses_nonsense(text):
    with pytest.raises(ValueError, match="--allow-failures"):
        parse_allowance(text)


def test_failures_tolerated_by_count_and_share():
    data = {"failed": 2, "attempted": 100}
    assert not failures_tolerated(data, None)
    assert failures_tolerated(data, "2") and not failures_tolerated(data, "1")
    assert failures_tolerated(data, "2%") and not failures_tolerated(data, "1%")
    assert failures_tolerated({"failed": 0, "attempted": 0}, None)


def test_a_crawl_without_any_answer_is_site_unreachable_naming_the_first_urls():
    (problem,) = crawl_problems(down_report().as_dict())
    assert problem.startswith("site unreachable")
    assert "http://site/0" in problem


def test_a_crawl_answered_only_with_5xx_is_site_unreachable_whatever_the_failure_class():
    report = RunReport(responses=6, server_errors=6)
    for n in range(3):  # an unreachable robots.txt may still be read as "disallow all"
        report.record_failure(Failure(source=f"http://site/{n}", url=f"http://site/{n}", stage="fetch",
                                      kind="disallowed", reason="disallowed by robots.txt"))
    (problem,) = crawl_problems(report.as_dict())
    assert problem.startswith("site unreachable") and "5xx" in problem


def test_blocked_and_nothing_listed():
    blocked = RunReport(responses=4, listed=2)
    blocked.record_failure(failed(Blocked("challenge page"), "http://site/1"))
    assert [p.split(":")[0] for p in crawl_problems(blocked.as_dict())] == ["blocked"]
    empty = RunReport(responses=3, listed=0)
    (problem,) = crawl_problems(empty.as_dict())
    assert problem.startswith("nothing listed although the site answered")
    quiet = RunReport(responses=3, listed=0, extra={"listing_out_of_range": 20})
    assert crawl_problems(quiet.as_dict()) == []  # the listings had entries, all older than the run's dates
    fine = RunReport(responses=10, listed=5, fetched=5, new=5)
    assert crawl_problems(fine.as_dict()) == []


def test_add_reports_keeps_classes_and_the_share():
    parts = [down_report().as_dict(), RunReport(new=5, responses=5).as_dict()]
    total = add_reports(parts)
    assert total["failures_by_kind"] == {"site_unreachable": 5}
    assert total["attempted"] == 10 and total["failure_share"] == 0.5
