"""Which sections, languages and stop rule a crawl uses (crawl.make_plan), from the real profile."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.crawl.crawler import make_plan
from pipeline.model.errors import ConfigError
from pipeline.context import get_profile


def names(plan):
    return [s.name for s in plan.sections]


def test_nightly_takes_the_nightly_sections_and_stops_at_known():
    plan = make_plan(get_profile(), since=None, until=None, sections=None, languages=None)
    assert names(plan) == ["minister_speeches", "deputy_ministers_speeches", "briefings", "answers", "comments",
                           "official_statements", "news"]  # the archive portal is backfill-only
    assert plan.languages == ["en", "ru"]
    assert plan.incremental and plan.stops_at_known and plan.kind == "crawl"


def test_lookback_since_is_still_the_incremental_run():
    plan = make_plan(get_profile(), since=date(2024, 1, 1), until=None, sections=None, languages=["ru"])
    assert plan.incremental and not plan.stops_at_known and plan.kind == "crawl"
    assert plan.languages == ["ru"]


def test_bounded_backfill_takes_every_section_and_has_its_own_run():
    plan = make_plan(get_profile(), since=date(2019, 1, 1), until=date(2019, 12, 31), sections=None, languages=None)
    assert "briefings" in names(plan) and not plan.incremental
    assert plan.kind == "backfill-2019-01-01-2019-12-31"


def test_named_sections_and_unknown_section():
    plan = make_plan(get_profile(), since=None, until=None, sections=["briefings"], languages=None)
    assert names(plan) == ["briefings"]
    with pytest.raises(ConfigError, match="unknown crawl section"):
        make_plan(get_profile(), since=None, until=None, sections=["nope"], languages=None)
