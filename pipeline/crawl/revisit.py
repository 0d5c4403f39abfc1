"""Stage crawl: the revisit policy, which known items a nightly revalidates and when.

A run up to now (the nightly) sends a conditional GET only to the indexed items whose
``next_check_at`` has come (crawl/state.py, ``CrawlState.due``); every check sets the
next one. The idea is Nutch's AdaptiveFetchSchedule and StormCrawler's AdaptiveScheduler
(an interval per item that grows while the page stays the same and shrinks when it
changes, between a minimum and a maximum), with the item's age as mid.ru needs it:

- an item published less than ``fresh_days`` ago is checked every night (``min_interval_days``):
  the site corrects new transcripts in their first days;
- afterwards an unchanged answer (304, the same bytes, the same text) multiplies the interval
  by ``1 + grow_rate``, and a changed text brings it back towards the minimum
  (``(1 - shrink_rate) * interval + shrink_rate * min``, StormCrawler's form: no jump to the
  minimum after one edit);
- the interval is never less than ``quiet_share`` of the time the text has stayed the same
  (since its publication or the last edit caught), as Nutch's sync_delta keeps it at least the
  time since the last change: an item a backfill indexes a year after it appeared starts at
  weeks, not at a night;
- within ``[min_interval_days, max_interval_days]``; an item unchanged for longer than
  ``stop_after_days`` is not revisited any more (frozen sections never are).

Parameters: the site profile's ``crawl.revisit`` (``profile.RevisitRules``). Pure functions
of the ledger entry and the run's clock (``RunContext.now``), so a test simulates nights.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from pipeline.model.records import MOSCOW
from pipeline.profile import RevisitRules

DAY_S = 86400.0


def published_at(stamp: datetime | date | None, first_seen: datetime) -> datetime:
    """When the item appeared: the listing's stamp (a bare day: its Moscow midnight), else when we
    first saw it (a language version reached by a link has no listing stamp)."""
    if isinstance(stamp, datetime):
        return stamp
    if isinstance(stamp, date):
        return datetime.combine(stamp, time(), MOSCOW)
    return first_seen


def days(delta: timedelta) -> float:
    return max(delta.total_seconds() / DAY_S, 0.0)


def next_interval(rules: RevisitRules, *, previous: float | None, changed: bool, age_days: float,
                  quiet_days: float) -> float | None:
    """The wait in days until the next check, after a check at age ``age_days`` whose text has stayed
    the same for ``quiet_days``; ``previous``: the interval before it (None: the first check).
    None: not revisited any more."""
    if rules.stop_after_days is not None and quiet_days > rules.stop_after_days:
        return None
    if age_days < rules.fresh_days:
        return rules.min_interval_days
    floor = quiet_days * rules.quiet_share
    if previous is None:
        interval = floor
    elif changed:
        interval = (1 - rules.shrink_rate) * previous + rules.shrink_rate * rules.min_interval_days
    else:
        interval = max(previous * (1 + rules.grow_rate), floor)
    return min(max(interval, rules.min_interval_days), rules.max_interval_days)


def due_before(rules: RevisitRules, now: datetime) -> datetime:
    """A run starting at ``now`` takes the items due up to this time (``slack_hours`` later)."""
    return now + timedelta(hours=rules.slack_hours)
