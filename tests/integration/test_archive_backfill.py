"""``mfa-ingest crawl --source wayback|commoncrawl`` against a real pywb over captures of the replica's pages.

The collection (tests/archives/plugin.py) holds an edited transcript captured three times (twice
with one text), a challenge captured in place of a page, a redirect capture, a 404 capture and a
transcript published before the window; nothing reaches the internet.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from pipeline.crawl.state import CrawlState, Status
from pipeline.crawl.webarchive import capture_ledger_for
from pipeline.settings import REPO_ROOT
from pipeline.store.history import history
from tests.archives.plugin import SINCE, UNTIL, archive_env
from tests.rates import assert_rate

CLI = str(REPO_ROOT / ".venv" / "bin" / "mfa-ingest")


def backfill(settings, pywb, source="wayback", range_server=None, extra_env=None, *args):
    env = {**os.environ, **archive_env(settings, pywb, range_server), **(extra_env or {})}
    run = subprocess.run([CLI, "crawl", "--source", source, "--since", SINCE.isoformat(), "--until",
                          UNTIL.isoformat(), "--json", *args], env=env, capture_output=True, text=True, timeout=300)
    assert run.stdout, run.stderr
    return run, json.loads(run.stdout)


def documents(es, alias) -> dict[str, dict]:
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, size=100)["hits"]["hits"]
    return {hit["_source"]["url"]: {**hit["_source"], "_id": hit["_id"]} for hit in hits}


def assert_window_indexed(es, settings, collection, report, prefix):
    docs = documents(es, settings.index_alias)
    assert set(docs) == set(collection.in_window), "exactly the transcripts published in the window"
    for url, last_paragraph in collection.in_window.items():
        assert last_paragraph in docs[url]["body"], f"{url} shows its latest capture"
    for doc in docs.values():
        assert all(s.startswith(prefix) for s in doc["sources"]), "provenance names the archive"
    edited = docs[collection.edited_url]
    assert edited["fetched_at"] == "2021-12-20T12:00:00+00:00", "the capture time of the latest capture"
    assert any("20211220120000" in s and collection.edited_url in s for s in edited["sources"])
    texts = [v["body"] for v in history(es, settings.index_alias, edited["_id"])]
    assert len(texts) == 2 and collection.first_text in texts[0] and collection.first_text in texts[1]
    assert collection.in_window[collection.edited_url] not in texts[0]
    assert collection.in_window[collection.edited_url] in texts[1]
    # the challenge: blocked, named, never indexed, never a version; the page's next capture is the document
    assert report["failures_by_kind"] == {"blocked": 1}
    assert collection.challenge_url in report["first_by_kind"]["blocked"]
    assert "captured by" in report["failures"][0] and "20211208120000" in report["failures"][0]
    assert "Data processing" not in docs[collection.challenge_url]["body"]
    # every capture has exactly one outcome
    extra = report["extra"]
    assert extra["captures"] == collection.captures
    assert report["read"] + extra["captures_skipped"] + report["not_modified"] == extra["captures"]
    assert report["read"] == report["new"] + report["updated"] + report["unchanged"] + report["superseded"] + report["failed"]
    assert extra["skipped: capture of HTTP 404"] == 1
    assert extra["skipped: published outside the window (2021-12-01)"] == 2
    assert extra["skipped: published outside the window (2020-05-26)"] == 1, "the old portal's page, by its date"
    assert extra["skipped: the same text as the capture before it (content digest)"] == 2, "a repeat, a cross-post"


def test_wayback_backfill_indexes_the_window_at_the_latest_captures(es, settings, archive_collection, pywb):
    run, report = backfill(settings, pywb)
    assert run.returncode == 1, "a captured challenge is a failure, dead-lettered"
    assert "failed: blocked 1" in run.stderr
    assert report["extra"]["source"] == "wayback"
    assert_window_indexed(es, settings, archive_collection, report, pywb.replay_url)
    assert (report["new"], report["updated"], report["unchanged"]) == (3, 1, 1)

    # the captures' ledger is the backfill's own: a site crawl never takes a capture for a page to fetch
    from datetime import datetime, timedelta, timezone

    from pipeline.context import get_profile

    profile = get_profile()
    site_ledger = CrawlState(es, settings.state_index)
    if es.indices.exists(index=settings.state_index):
        later = datetime.now(timezone.utc) + timedelta(days=365)
        assert site_ledger.due([s.name for s in profile.crawl.sections], profile.crawl.languages, 100, now=later) == []
    assert CrawlState(es, capture_ledger_for(settings, settings.index_alias)).count() == 9  # 6 read, 3 outside

    before = documents(es, settings.index_alias)
    asked = len(pywb.access_log())
    again, rerun = backfill(settings, pywb, "wayback", None, None, "--allow-failures", "1")
    assert again.returncode == 0, again.stderr
    assert rerun["read"] == 0 and rerun["not_modified"] == 6, "a rerun changes nothing"
    assert documents(es, settings.index_alias) == before
    replays = [p for p in pywb.access_log()[asked:] if "id_/" in p]
    assert replays == [], "a rerun reads no capture again"


def test_commoncrawl_backfill_reads_the_records_with_range_requests(es, settings, archive_collection, pywb,
                                                                   range_server):
    range_server.handler.hits.clear()
    run, report = backfill(settings, pywb, "commoncrawl", range_server)
    assert report["extra"]["source"] == "commoncrawl"
    assert_window_indexed(es, settings, archive_collection, report, range_server.data_url)
    ranges = [r for _, r in range_server.handler.hits]
    assert ranges and all(r and r.startswith("bytes=") for r in ranges), "only Range reads of the WARC files"
    replays = [p for p in pywb.access_log() if "id_/" in p and settings.index_alias in p]
    assert replays == []


def test_an_archive_is_read_at_its_own_rate_and_its_retry_after_is_honoured(es, settings, archive_collection,
                                                                             pywb, range_server):
    handler = range_server.handler
    handler.hits.clear()
    handler.times.clear()
    handler.busy[0] = 1  # the first Range request: 429, Retry-After: 1
    run, report = backfill(settings, pywb, "commoncrawl", range_server,
                           {"MFA_ARCHIVE_RATE_PER_HOST": "4", "MFA_CRAWL_RATE_PER_HOST": "1"})
    assert set(documents(es, settings.index_alias)) == set(archive_collection.in_window)
    assert report["retries"] >= 1
    gaps = [b - a for a, b in zip(handler.times, handler.times[1:])]
    assert gaps[0] >= 0.95, "Retry-After: 1 was waited out"
    assert_rate(handler.times[1:], 4.0)  # 4 requests/s per archive host at most, after the wait
    # the archive's rate, not the site crawl's (MFA_CRAWL_RATE_PER_HOST, 1 request/s)
    assert sorted(gaps[1:])[len(gaps[1:]) // 2] < 0.9, gaps


def test_a_killed_backfill_resumes_without_fetching_a_capture_twice(es, settings, archive_collection, pywb):
    state = CrawlState(es, capture_ledger_for(settings, settings.index_alias))
    env = {**os.environ, **archive_env(settings, pywb), "MFA_ARCHIVE_RATE_PER_HOST": "3"}
    asked = len(pywb.access_log())
    proc = subprocess.Popen([CLI, "crawl", "--source", "wayback", "--since", SINCE.isoformat(),
                             "--until", UNTIL.isoformat()], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(settled(state)) < 4:
            assert proc.poll() is None, "the backfill ended before it could be killed"
            assert time.monotonic() < deadline, "the backfill made no progress"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    done = settled(state)
    first = [p for p in pywb.access_log()[asked:] if "id_/" in p]
    assert 4 <= len(done) < 8, "killed half-way"

    asked = len(pywb.access_log())
    run, report = backfill(settings, pywb, "wayback", None, None, "--allow-failures", "1")
    assert report["extra"].get("resumed") == 1
    again = [p for p in pywb.access_log()[asked:] if "id_/" in p]
    assert not {p for p in again} & {_path(u) for u in done}, "a settled capture was fetched again"
    extra = report["extra"]
    assert report["read"] + extra["captures_skipped"] + report["not_modified"] == archive_collection.captures
    assert set(documents(es, settings.index_alias)) == set(archive_collection.in_window)
    assert first  # the first run did read captures before it was killed


def settled(state: CrawlState) -> set[str]:
    try:
        state.refresh()
        return {d.url for status in (Status.INDEXED, Status.SKIPPED, Status.FAILED) for d in state.iter_docs(status)}
    except Exception:  # the ledger does not exist yet
        return set()


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_redrive_reads_an_archive_failure_again_from_the_archive_never_from_the_site(es, settings,
                                                                                     archive_collection, pywb):
    run, report = backfill(settings, pywb)
    assert report["failures_by_kind"] == {"blocked": 1}
    asked = len(pywb.access_log())
    env = {**os.environ, **archive_env(settings, pywb)}
    redriven = subprocess.run([CLI, "redrive", "--json"], env=env, capture_output=True, text=True, timeout=300)
    result = json.loads(redriven.stdout)
    again = [p for p in pywb.access_log()[asked:] if "id_/" in p]
    assert again == [f"/mfa/20211208120000id_/{archive_collection.challenge_url}"], "the capture, from the archive"
    assert result["failures_by_kind"] == {"blocked": 1}, "still the captured challenge: failed again, not indexed"
    assert "captured by wayback at 20211208120000" in result["failures"][0]
    assert set(documents(es, settings.index_alias)) == set(archive_collection.in_window)


def test_an_archive_that_does_not_answer_fails_the_run_naming_it(es, settings, archive_collection, pywb):
    from tests.archives.plugin import free_port

    dead = f"http://127.0.0.1:{free_port()}/mfa/"
    run, report = backfill(settings, pywb, "wayback", None, {
        "MFA_WAYBACK_CDX_URL": dead + "cdx", "MFA_WAYBACK_REPLAY_URL": dead,
        "MFA_CRAWL_ALLOWED_PRIVATE_HOSTS": json.dumps([dead.split("/")[2]])}, "--allow-failures", "100%")
    assert run.returncode == 1
    assert "archive unreachable" in run.stderr
    assert report["read"] == report["failed"] > 0 and report["new"] == 0


def test_sections_and_languages_narrow_the_backfill_and_cross_posts_join_their_page(es, settings,
                                                                                     archive_collection, pywb):
    run, report = backfill(settings, pywb, "wayback", None, None, "--section", "minister_speeches",
                           "--language", "en")
    assert run.returncode == 0, run.stderr
    assert set(documents(es, settings.index_alias)) == {archive_collection.edited_url}
    extra = report["extra"]
    # the news cross-post of the speech is one more capture of its page (the same text), not another document
    assert extra["skipped: the same text as the capture before it (content digest)"] == 2
    assert report["read"] + extra["captures_skipped"] + report["not_modified"] == extra["captures"]
    assert not any("/ru/" in u for u in report["first_by_kind"].get("blocked", []))
