"""The revisit policy's arithmetic (crawl/revisit.py) and the ledger's ``checked`` transition, on a
controlled clock: no node, no replica."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pipeline.crawl.revisit import due_before, next_interval
from pipeline.crawl.state import LedgerDoc, Status
from pipeline.model.records import MOSCOW
from pipeline.profile import RevisitRules

RULES = RevisitRules(fresh_days=3, min_interval_days=1, max_interval_days=60, grow_rate=0.5, shrink_rate=0.5,
                     quiet_share=0.25, stop_after_days=365, slack_hours=6)
T0 = datetime(2026, 3, 1, 23, 0, tzinfo=timezone.utc)


def doc(published: datetime) -> LedgerDoc:
    return LedgerDoc(key="k", url="https://mid.ru/en/x/1/", section="minister_speeches", language="en",
                     listed_at=published, status=Status.INDEXED, first_seen=published)


def test_fresh_items_are_checked_every_night_then_at_growing_intervals():
    assert next_interval(RULES, previous=None, changed=False, age_days=0.5, quiet_days=0.5) == 1
    assert next_interval(RULES, previous=1, changed=False, age_days=2.9, quiet_days=2.9) == 1
    grown = [1.0]
    for age in range(3, 200):
        grown.append(next_interval(RULES, previous=grown[-1], changed=False, age_days=age, quiet_days=age))
    assert grown[1] == 1.5 and grown[2] == 2.25  # times 1 + grow_rate
    assert max(grown) == 60 and grown[-1] == 60  # up to the maximum, never past it


def test_an_edit_shrinks_the_interval_towards_the_minimum_never_below():
    assert next_interval(RULES, previous=40, changed=True, age_days=100, quiet_days=0) == 20.5
    interval = 40.0
    for _ in range(20):
        interval = next_interval(RULES, previous=interval, changed=True, age_days=100, quiet_days=0)
    assert interval == pytest.approx(1, abs=1e-3) and interval >= 1


def test_an_item_first_indexed_long_after_it_appeared_starts_from_its_quiet_time():
    assert next_interval(RULES, previous=None, changed=False, age_days=40, quiet_days=40) == 10
    assert next_interval(RULES, previous=None, changed=False, age_days=300, quiet_days=300) == 60
    # Unchanged for longer than stop_after_days: not revisited; without a limit, at the maximum.
    assert next_interval(RULES, previous=60, changed=False, age_days=400, quiet_days=400) is None
    forever = RULES.model_copy(update={"stop_after_days": None})
    assert next_interval(forever, previous=60, changed=False, age_days=4000, quiet_days=4000) == 60


def test_checked_sets_the_next_check_from_the_run_clock_and_counts_edits():
    published = T0.astimezone(MOSCOW) - timedelta(days=10)
    first = doc(published).checked(RULES, changed=True, now=T0)  # first indexing: no edit
    assert first.edits == 0 and first.changed_at is None and first.revisit_days == 2.5
    assert first.next_check_at == T0 + timedelta(days=2.5)
    later = T0 + timedelta(days=3)
    same = first.checked(RULES, changed=False, now=later)
    assert same.revisit_days == 3.75 and same.next_check_at == later + timedelta(days=3.75)
    edited = same.checked(RULES, changed=True, now=later + timedelta(days=4))
    assert edited.edits == 1 and edited.changed_at == later + timedelta(days=4)
    assert edited.revisit_days == pytest.approx(2.375)
    frozen = doc(published).checked(RULES, changed=False, now=T0, frozen=True)
    assert frozen.next_check_at is None and frozen.checked_at == T0


def test_due_takes_the_slack_and_only_a_run_up_to_now_revisits():
    checked = doc(T0 - timedelta(days=1)).checked(RULES, changed=False, now=T0)  # fresh: a night
    tomorrow_earlier = T0 + timedelta(days=1) - timedelta(hours=2)  # the next night started 2 h earlier
    assert checked.due(tomorrow_earlier, revisit_before=due_before(RULES, tomorrow_earlier))
    assert not checked.due(tomorrow_earlier)  # a backfill leaves revisits to the nightly
    assert not checked.due(T0 + timedelta(hours=1), revisit_before=due_before(RULES, T0 + timedelta(hours=1)))


def test_an_unknown_publication_day_counts_from_first_seen_and_a_bare_day_from_moscow_midnight():
    seen = T0 - timedelta(days=20)
    unknown = LedgerDoc(key="k", url="u", section="s", language="en", first_seen=seen, status=Status.INDEXED)
    assert unknown.checked(RULES, changed=False, now=T0).revisit_days == 5
    day = LedgerDoc(key="k", url="u", section="s", language="en", first_seen=T0, status=Status.INDEXED,
                    listed_at=(T0 - timedelta(days=40)).date())
    assert day.checked(RULES, changed=False, now=T0).revisit_days == pytest.approx(10 + 0.25 * (23 + 3) / 24)


def test_min_above_max_is_a_profile_error():
    with pytest.raises(ValueError, match="min_interval_days"):
        RevisitRules(min_interval_days=5, max_interval_days=2)
