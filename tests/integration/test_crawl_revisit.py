"""The revisit policy (issue 25, item 2) against the replica and the real node, night after night.

Nights are simulated with the run context's clock (``shifted_clock``): the replica keeps its
items where they are (dated relative to the real today) while each crawl runs a day later,
so the items age as they would. The policy is the profile's (``crawl.revisit``): items under
``fresh_days`` old are checked every night, the others at their own growing interval.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from pipeline.context import RunContext, get_profile, shifted_clock
from pipeline.crawl.crawler import run_crawl
from pipeline.crawl.state import CrawlState, LedgerDoc, state_index_for
from mfa_replica.content import CURRENT_EN
from tests.conftest import assert_accounted
from tests.integration.test_crawl import article_hits, nightly_articles, stored

OLD = CURRENT_EN + "1785003/"  # published 9 days before today: past fresh_days
RECENT = CURRENT_EN + "1785001/"  # published today


def night(settings, n: int, **kw):
    """The nightly crawl as it runs ``n`` days from now."""
    ctx = RunContext.build(settings, get_profile(), clock=shifted_clock(timedelta(days=n)))
    return run_crawl(ctx, **kw)


def fast(crawl_settings):
    return crawl_settings.model_copy(update={"crawl_rate_per_host": 200.0})


def ledger(es, settings) -> dict[str, LedgerDoc]:
    state = CrawlState(es, state_index_for(settings, settings.index_alias))
    state.refresh()
    return {doc.url: doc for doc in state.iter_docs()}


def due_paths(docs: dict[str, LedgerDoc], settings, n: int) -> set[str]:
    """The pages whose next check falls before night ``n`` (plus the profile's slack)."""
    before = shifted_clock(timedelta(days=n))() + timedelta(hours=get_profile().crawl.revisit.slack_hours)
    return {urlsplit(url).path for url, doc in docs.items()
            if doc.next_check_at is not None and doc.next_check_at <= before}


def test_a_quiet_night_sends_only_discovery_and_the_revalidations_the_policy_schedules(es, crawl_settings, replica):
    settings = fast(crawl_settings)
    first = night(settings, 0)
    live = nightly_articles(replica)
    assert first.new == len(live) == 17
    sent_total = 0
    for n in range(1, 5):
        before = ledger(es, settings)
        replica.clear_log()
        report = night(settings, n)
        assert_accounted(report)
        hits = article_hits(replica)
        revalidated = {h.path.split("?")[0] for h in hits}
        if n == 1:  # the 9-day-old transcript waits its interval; today's is checked
            assert RECENT in revalidated and OLD not in revalidated, sorted(revalidated)
            assert 0 < report.revalidations_fresh < report.revalidations_scheduled
        if n == 4:  # every transcript is past fresh_days: checked at its interval only
            assert report.revalidations_fresh == 0
        # Article requests are exactly the scheduled revalidations, each conditional, each a 304.
        due = due_paths(before, settings, n)
        assert revalidated == due, (n, revalidated ^ due)
        assert all("if-none-match" in h.headers and h.status == 304 for h in hits)
        assert report.revalidations_scheduled == report.revalidations_sent == report.not_modified == len(hits)
        assert report.not_due == len(live) - len(hits), "every known listed item: due or not due"
        assert (report.new, report.updated, report.read) == (0, 0, 0)
        # Everything else is robots.txt, a first listing page or a feed.
        others = [h for h in replica.hits() if h not in hits]
        assert all(h.path.endswith(("/", "rss.php", "robots.txt")) and "?" not in h.path for h in others)
        assert any("revisits: scheduled" in line for line in report.summary_lines())
        sent_total += len(hits)
    # Revalidating every known item every night (the old nightly) would have sent 17 a night.
    assert sent_total <= 0.7 * 4 * len(live), sent_total


def test_an_edit_of_a_recent_item_is_caught_the_next_night_and_of_an_old_one_within_its_interval(
        es, crawl_settings, replica):
    settings = fast(crawl_settings)
    night(settings, 0)
    recent = replica.edit_article(RECENT)
    report = night(settings, 1)
    assert (report.updated, report.revalidation_edits) == (1, 1)
    assert "follow-up meeting" in stored(es, settings.index_alias)[replica.article_url(recent)]["body"]

    # The old transcript: checked on night 1? Not yet (9 days old, its interval is longer than a night).
    old_url = replica.article_url(replica.edit_article(OLD))
    doc = ledger(es, settings)[old_url]
    interval = doc.revisit_days
    assert interval is not None and interval > 1
    caught_on = None
    for n in range(2, 2 + int(interval) + 2):
        replica.clear_log()
        report = night(settings, n)
        if report.revalidation_edits:
            caught_on = n
            break
        assert not replica.hits(contains=OLD), f"night {n}: fetched before its check was due"
    assert caught_on is not None, f"not caught within its interval of {interval:.2f} days"
    assert caught_on - 1 <= interval + 1, (caught_on, interval)
    assert stored(es, settings.index_alias)[old_url]["doc_version"] == 2
    after = ledger(es, settings)[old_url]
    assert after.edits == 1 and after.changed_at is not None
    assert after.revisit_days < interval * (1 + get_profile().crawl.revisit.grow_rate), "an edit shrinks it"


def test_a_ledger_from_before_the_policy_gains_its_fields_and_is_scheduled_from_the_first_night(
        es, crawl_settings, replica):
    """An older ledger: its index lacks the policy's date fields and its indexed entries have no
    schedule. The first nightly maps the fields in place and schedules every entry from that night,
    so they fall due over their intervals instead of all at once."""
    from pipeline.crawl.state import STATE_FILE
    from pipeline.store.design import load_config_json

    settings = fast(crawl_settings)
    index = state_index_for(settings, settings.index_alias)
    body = load_config_json(settings.config_dir, STATE_FILE)
    old = {k: v for k, v in body["mappings"]["properties"].items() if k not in ("checked_at", "next_check_at")}
    es.indices.create(index=index, settings=body["settings"], mappings={**body["mappings"], "properties": old})
    night(settings, 0)
    assert {"checked_at", "next_check_at"} <= set(es.indices.get_mapping(index=index)[index]["mappings"]["properties"])
    state = CrawlState(es, index)
    unscheduled = [doc.model_copy(update={"checked_at": None, "changed_at": None, "revisit_days": None,
                                          "next_check_at": None}) for doc in state.iter_docs()]
    state.save(unscheduled, refresh=True)  # as a crawler before the policy left them
    assert len(unscheduled) == 17

    first = night(settings, 1)
    assert first.revalidations_scheduled == 0, "scheduled from tonight, none due at once"
    docs = ledger(es, settings)
    assert all(d.checked_at is not None and d.next_check_at is not None for d in docs.values())
    assert night(settings, 4).revalidations_sent == 17, "three nights later every first interval has passed"


def test_a_nightly_hours_after_a_backfill_revalidates_none_of_what_it_fetched(es, crawl_settings, replica):
    """The next check counts from the fetch (``checked_at``), a backfill's too: a nightly up to
    a day less ``slack_hours`` after the backfill revalidates none of its pages, and the nightly a
    day after it (the slack taking a night that starts a little earlier) checks the young ones."""
    from datetime import date

    settings = fast(crawl_settings)
    today = date.today()
    backfill = run_crawl(RunContext.build(settings, get_profile()), since=today - timedelta(days=10), until=today)
    assert backfill.new == 17 and backfill.revalidations_scheduled == 0
    slack = get_profile().crawl.revisit.slack_hours
    hours_later = RunContext.build(settings, get_profile(), clock=shifted_clock(timedelta(hours=23 - slack)))
    assert run_crawl(hours_later).revalidations_scheduled == 0
    next_night = RunContext.build(settings, get_profile(), clock=shifted_clock(timedelta(hours=23)))
    report = run_crawl(next_night)
    assert 0 < report.revalidations_fresh <= report.revalidations_scheduled
