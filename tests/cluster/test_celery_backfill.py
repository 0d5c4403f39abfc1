"""mfa_backfill and mfa_nightly_crawl on the Celery deployment, triggered through the REST API.

Partitions fan out over the two workers (each task instance records its worker's
name); the index ends with exactly the documents an in-process run of the same
partitions gives; a re-run changes nothing; a worker killed (SIGKILL) in the
middle of a partition costs a retry on the other worker, not a document.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from datetime import date, timedelta

from pipeline.context import RunContext
from pipeline.jobs.backfill import archive_partitions, month_partitions, run_partition
from pipeline.context import get_profile
from pipeline.model.records import Page
from pipeline.settings import Settings
from tests.conftest import FIXTURES, SAMPLE_DUMPS, delete_indices_like
from tests.replica.plugin import replica_overrides

from .conftest import CLUSTER_SH, RUN_TIMEOUT, TODAY, by_article, in_range, urls

WARC = FIXTURES / "warc" / "wget-replica.warc.gz"


def documents(es, alias) -> dict[str, tuple]:
    """Every document of the alias: id -> (content hash, version, indexed_at)."""
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, size=1000, source_includes=["content_hash", "doc_version", "indexed_at"])
    return {h["_id"]: (h["_source"]["content_hash"], h["_source"].get("doc_version"), h["_source"].get("indexed_at"))
            for h in hits["hits"]["hits"]}


def crawl_warc(replica, folder, since, until, es, sections=None):
    """WARC files of a crawl of the replica (what a crawler of ours leaves in state/warc)."""
    from pipeline.crawl.crawler import run_crawl
    from pipeline.context import get_profile

    scratch = f"mfa-scratch-{folder.name}"
    settings = Settings(state_dir=folder, index_alias=scratch, state_index=f"{scratch}-crawlstate",
                        deadletter_index=f"{scratch}-deadletter", **replica_overrides(replica))
    try:
        run_crawl(RunContext.build(settings, get_profile(settings.site_profile_path)), since=since, until=until, sections=sections)
    finally:
        delete_indices_like(es, scratch)
    return sorted((folder / "warc").glob("*.warc.gz"))


def transcripts(inputs) -> dict[str, set[str]]:
    """match key -> sources of the inputs that give that transcript (read from the inputs)."""
    from pipeline.ingest import extract_or_failure
    from pipeline.context import get_profile
    from pipeline.model.records import Transcript
    from pipeline.sources.archive import archive_pages

    profile, found = get_profile(), {}
    for page in archive_pages(inputs, max_bytes=10_000_000, profile=profile):
        record = extract_or_failure(page, profile) if isinstance(page, Page) else page
        assert isinstance(record, Transcript), record
        found.setdefault(record.match_key, set()).add(record.source)
    return found


def archive_inputs(shared, replica, es) -> list[str]:
    """Three dump folders (2 + 2 + 1 sample files) and WARC files: the fixture (a wget crawl of
    the replica as it was, dating those transcripts in 2021) and one crawl of the old portal per
    day on which it has a sample transcript. Every sample dump has a crawled page of the same
    transcript in a WARC partition, so two workers write a dump and a crawled page of one
    transcript at the same time. (No crawl of today's current site: its articles reuse the
    fixture's article ids for other transcripts, and which version of an article wins is
    decided by fetch time, so the dumps' fate would hang on the partitions' order.)"""
    files = sorted(SAMPLE_DUMPS.iterdir())
    inputs = []
    for n, group in enumerate((files[:2], files[2:4], files[4:])):
        folder = shared / f"dumps-{n}"
        folder.mkdir()
        for f in group:
            shutil.copy(f, folder / f.name)
        inputs.append(str(folder))
    warcs = shared / "warcs"
    warcs.mkdir()
    shutil.copy(WARC, warcs / WARC.name)
    portal = {a.published.date() for a in replica.live_articles() if a.site == "archive"}
    days = sorted({date.fromisoformat(key.split(":")[1]) for key in transcripts(inputs[:3])} & portal)
    old_portal = [s.name for s in get_profile().crawl.sections if s.layout == "archive"]
    for n, day in enumerate(days):
        (made,) = crawl_warc(replica, shared / f"crawl-{n}", day, day, es, sections=old_portal)
        shutil.copy(made, warcs / f"crawl-{n}.warc.gz")
    return inputs + [warcs.as_uri()]  # archive inputs may be URLs (pipeline/storage.py)


def reference(es, inputs, alias) -> dict[str, tuple]:
    """The documents the same partitions give when run one after the other in this process."""
    settings = Settings(index_alias=alias, state_index=f"{alias}-crawlstate", deadletter_index=f"{alias}-deadletter")
    for part in archive_partitions(inputs):
        run_partition(RunContext.build(settings), part)
    return documents(es, alias)


def per_worker(instances: list[dict]) -> dict[str, int]:
    return dict(sorted(Counter(ti["hostname"] for ti in instances).items()))


def hashes(docs: dict[str, tuple]) -> dict[str, str]:
    return {k: v[0] for k, v in docs.items()}


def sources(es, alias) -> dict[str, set[str]]:
    """match key -> sources listed, per document."""
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, size=1000, source_includes=["match_key", "sources"])["hits"]["hits"]
    return {h["_source"]["match_key"]: set(h["_source"]["sources"]) for h in hits}


def test_archive_backfill_spreads_over_both_workers_and_is_exact(fresh, es, cluster_replica, tmp_path_factory):
    api, alias = fresh["api"], fresh["alias"]
    shared = tmp_path_factory.mktemp("archives")
    inputs = archive_inputs(shared, cluster_replica, es)
    assert len(archive_partitions(inputs)) == 6
    inputs_give = transcripts([p["path"] for p in archive_partitions(inputs)])
    shared_transcripts = [k for k, found in inputs_give.items() if len(found) > 1]
    assert len(shared_transcripts) == len(list(SAMPLE_DUMPS.iterdir())), "every dump has a crawled twin"
    ref_alias = f"{alias}-reference"
    try:
        expected = hashes(reference(es, inputs, ref_alias))
    finally:
        delete_indices_like(es, ref_alias)
    assert len(expected) == len(inputs_give)  # one document per transcript and language

    started = time.monotonic()
    run_id = api.trigger("mfa_backfill", {"archive_inputs": inputs})
    assert api.wait("mfa_backfill", run_id) == "success"
    took = time.monotonic() - started
    instances = api.mapped("mfa_backfill", run_id, "run_partition")
    assert [ti["map_index"] for ti in instances] == list(range(6))
    assert all(ti["state"] == "success" for ti in instances)
    assert {ti["hostname"] for ti in instances} == {"worker1", "worker2"}
    first = documents(es, alias)
    print(f"\narchive backfill, 6 partitions: {took:.0f}s; {len(first)} documents, {len(shared_transcripts)} of them "
          f"from a dump and a crawled page; partitions per worker: {per_worker(instances)}")
    assert hashes(first) == expected
    listed = sources(es, alias)  # nothing lost: every input's source on the one document of its transcript
    assert sorted(listed) == sorted(inputs_give)
    assert all(inputs_give[k] <= listed[k] for k in listed), listed

    again = api.trigger("mfa_backfill", {"archive_inputs": inputs})
    assert api.wait("mfa_backfill", again) == "success"
    totals = api.xcom("mfa_backfill", again, "total")
    assert (totals["new"], totals["updated"], totals["failed"], totals["extra"]["folded"]) == (0, 0, 0, 0)
    assert documents(es, alias) == first  # not even re-written: same versions, same indexed_at


def test_date_range_backfill_against_the_replica(fresh, es, cluster_replica):
    api, alias = fresh["api"], fresh["alias"]
    since, until = TODAY - timedelta(days=60), TODAY
    conf = {"since": since.isoformat(), "until": until.isoformat()}
    run_id = api.trigger("mfa_backfill", conf)
    assert api.wait("mfa_backfill", run_id) == "success"
    instances = api.mapped("mfa_backfill", run_id, "run_partition")
    assert len(instances) == len(month_partitions(since, until)) and all(ti["state"] == "success" for ti in instances)
    assert {ti["hostname"] for ti in instances} == {"worker1", "worker2"}
    expected = in_range(cluster_replica, since, until)
    print(f"\ndate-range backfill, {len(instances)} partitions: {len(expected)} documents; "
          f"partitions per worker: {per_worker(instances)}")
    assert by_article(urls(es, alias)) == by_article(expected) and expected
    first = documents(es, alias)
    # every worker archived what it fetched into the one shared WARC location (MFA_WARC_URL)
    assert len(list((fresh["state_dir"] / "shared" / "warc").glob("*.warc.gz"))) >= len(instances)

    again = api.trigger("mfa_backfill", conf)
    assert api.wait("mfa_backfill", again) == "success"
    assert documents(es, alias) == first


# The nightly look-back walks the date-filtered listing day by day (one request per day, section
# and language): a month, as in tests/e2e. The old portal is backfill-only.
LOOKBACK_DAYS = 30


def test_nightly_crawl_on_the_cluster(fresh, es, cluster_replica):
    api, alias = fresh["api"], fresh["alias"]
    # no logical date, as the UI does; the cluster runs it with MFA_NIGHTLY_SCHEDULE=none, so
    # unpausing it starts no scheduled run beside this one (that run would index the same pages first)
    run_id = api.trigger("mfa_nightly_crawl", {"lookback_days": LOOKBACK_DAYS})
    try:
        assert api.wait("mfa_nightly_crawl", run_id) == "success"
    finally:
        api.pause("mfa_nightly_crawl")
    live = {cluster_replica.article_url(a) for a in cluster_replica.live_articles()
            if a.site == "current" and a.published.date() >= TODAY - timedelta(days=LOOKBACK_DAYS)}
    print(f"\nnightly crawl, {LOOKBACK_DAYS} days: {len(live)} documents")
    assert by_article(urls(es, alias)) == by_article(live) and live
    summary = api.xcom("mfa_nightly_crawl", run_id, "summary")
    assert (summary["new"], summary["failed"]) == (len(live), 0)


def worker_pid(cluster, name: str) -> int:
    return int((cluster["cluster_dir"] / "run" / f"{name}.pid").read_text())


def test_a_worker_killed_mid_partition_costs_a_retry_not_a_document(fresh, es, cluster_replica):
    api, alias = fresh["api"], fresh["alias"]
    # every response of the replica takes 0.1 s more: a month's crawl runs for tens of seconds, long enough to be caught
    cluster_replica.add_fault("slow", match="/", count=100000, arg=0.1)
    since, until = TODAY - timedelta(days=45), TODAY
    conf = {"since": since.isoformat(), "until": until.isoformat()}
    run_id = api.trigger("mfa_backfill", conf)
    deadline = time.monotonic() + RUN_TIMEOUT
    victim = None
    while victim is None:
        assert time.monotonic() < deadline, "no partition was ever seen running"
        running = [ti for ti in api.mapped("mfa_backfill", run_id, "run_partition")
                   if ti["state"] == "running" and ti["hostname"]]
        if running:
            victim = running[0]
        else:
            time.sleep(0.2)
    dead = victim["hostname"]
    # the worker's whole process group: the worker, its pool, the task it runs
    os.killpg(worker_pid(fresh, dead), signal.SIGKILL)
    try:
        assert api.wait("mfa_backfill", run_id) == "success"
    finally:
        subprocess.run([str(CLUSTER_SH), "up"], check=True, env=fresh["env"])  # the dead worker comes back
    tries = api.tries("mfa_backfill", run_id, "run_partition", victim["map_index"])
    instances = api.mapped("mfa_backfill", run_id, "run_partition")
    print(f"\nworker killed: {dead} in partition {victim['map_index']}; tries {[t['hostname'] for t in tries]}; "
          f"final partitions per worker: {per_worker(instances)}; "
          f"{len(in_range(cluster_replica, since, until))} documents")
    assert tries[0]["hostname"] == dead and tries[0]["state"] != "success"
    assert tries[-1]["state"] == "success" and tries[-1]["hostname"] != dead
    expected = in_range(cluster_replica, since, until)
    assert by_article(urls(es, alias)) == by_article(expected) and expected  # each once: no duplicate
