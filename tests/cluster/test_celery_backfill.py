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
from datetime import date, timedelta

from pipeline.jobs import archive_partitions, month_partitions, run_partition
from pipeline.replica.content import today_msk
from pipeline.settings import Settings
from tests.conftest import FIXTURES, SAMPLE_DUMPS, delete_indices_like
from tests.replica.plugin import replica_overrides

from .conftest import CLUSTER_SH, RUN_TIMEOUT

WARC = FIXTURES / "warc" / "wget-replica.warc.gz"


TODAY = today_msk()

def documents(es, alias) -> dict[str, tuple]:
    """Every document of the alias: id -> (content hash, version, indexed_at)."""
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, size=1000, source_includes=["content_hash", "doc_version", "indexed_at"])
    return {h["_id"]: (h["_source"]["content_hash"], h["_source"].get("doc_version"), h["_source"].get("indexed_at"))
            for h in hits["hits"]["hits"]}


def crawl_warc(replica, folder, since, until, es):
    """WARC files of a crawl of the replica (what a crawler of ours leaves in state/warc)."""
    from pipeline.crawl.crawler import run_crawl
    from pipeline.profile import get_profile

    scratch = f"mfa-scratch-{folder.name}"
    settings = Settings(state_dir=folder, index_alias=scratch, state_index=f"{scratch}-crawlstate",
                        deadletter_index=f"{scratch}-deadletter", **replica_overrides(replica))
    try:
        run_crawl(settings, get_profile(settings.site_profile_path), since=since, until=until)
    finally:
        delete_indices_like(es, scratch)
    return sorted((folder / "warc").glob("*.warc.gz"))


def archive_inputs(shared, replica, es) -> list[str]:
    """Three dump folders (2 + 2 + 1 sample files), the fixture WARC, two WARCs of replica crawls: six partitions."""
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
    # the replica dates its items relative to today: two windows of the last two months
    for n, (since, until) in enumerate(((TODAY - timedelta(days=60), TODAY - timedelta(days=31)),
                                        (TODAY - timedelta(days=30), TODAY))):
        (made,) = crawl_warc(replica, shared / f"crawl-{n}", since, until, es)
        shutil.copy(made, warcs / f"crawl-{n}.warc.gz")
    return inputs + [warcs.as_uri()]  # archive inputs may be URLs (pipeline/storage.py)


def reference(es, inputs, alias) -> dict[str, tuple]:
    """The documents the same partitions give when run one after the other in this process."""
    settings = Settings(index_alias=alias, state_index=f"{alias}-crawlstate", deadletter_index=f"{alias}-deadletter")
    for part in archive_partitions(inputs):
        run_partition(settings, part)
    return documents(es, alias)


def hashes(docs: dict[str, tuple]) -> dict[str, str]:
    return {k: v[0] for k, v in docs.items()}


def test_archive_backfill_spreads_over_both_workers_and_is_exact(fresh, es, cluster_replica, tmp_path_factory):
    api, alias = fresh["api"], fresh["alias"]
    shared = tmp_path_factory.mktemp("archives")
    inputs = archive_inputs(shared, cluster_replica, es)
    assert len(archive_partitions(inputs)) == 6
    ref_alias = f"{alias}-reference"
    try:
        expected = hashes(reference(es, inputs, ref_alias))
    finally:
        delete_indices_like(es, ref_alias)
    assert len(expected) >= len(list(SAMPLE_DUMPS.iterdir()))  # one document per transcript and language

    started = time.monotonic()
    run_id = api.trigger("mfa_backfill", {"archive_inputs": inputs})
    assert api.wait("mfa_backfill", run_id) == "success"
    print(f"\narchive backfill, 6 partitions: {time.monotonic() - started:.0f}s")
    instances = api.mapped("mfa_backfill", run_id, "run_partition")
    assert [ti["map_index"] for ti in instances] == list(range(6))
    assert all(ti["state"] == "success" for ti in instances)
    assert {ti["hostname"] for ti in instances} == {"worker1", "worker2"}
    first = documents(es, alias)
    assert hashes(first) == expected

    again = api.trigger("mfa_backfill", {"archive_inputs": inputs})
    assert api.wait("mfa_backfill", again) == "success"
    totals = api.xcom("mfa_backfill", again, "total")
    assert (totals["new"], totals["updated"], totals["failed"]) == (0, 0, 0)
    assert documents(es, alias) == first  # not even re-written: same versions, same indexed_at


def in_range(replica, since: date, until: date) -> set[str]:
    return {replica.article_url(a) for a in replica.live_articles() if since <= a.published.date() <= until}


def urls(es, alias) -> list[str]:
    es.indices.refresh(index=alias)
    return sorted(h["_source"]["url"] for h in es.search(index=alias, size=1000, source_includes=["url"])["hits"]["hits"])


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
    assert urls(es, alias) == sorted(expected) and expected
    first = documents(es, alias)
    # every worker archived what it fetched into the one shared WARC location (MFA_WARC_URL)
    assert len(list((fresh["state_dir"] / "shared" / "warc").glob("*.warc.gz"))) >= len(instances)

    again = api.trigger("mfa_backfill", conf)
    assert api.wait("mfa_backfill", again) == "success"
    assert documents(es, alias) == first


def test_nightly_crawl_on_the_cluster(fresh, es, cluster_replica):
    api, alias = fresh["api"], fresh["alias"]
    run_id = api.trigger("mfa_nightly_crawl", {"lookback_days": 20000})  # no logical date, as the UI does
    try:
        assert api.wait("mfa_nightly_crawl", run_id) == "success"
    finally:  # unpaused it would go on running on its schedule beside the other tests
        api.pause("mfa_nightly_crawl")
    live = {cluster_replica.article_url(a) for a in cluster_replica.live_articles()}
    assert urls(es, alias) == sorted(live)
    summary = api.xcom("mfa_nightly_crawl", run_id, "summary")
    assert (summary["new"], summary["failed"]) == (len(live), 0)


def worker_pid(cluster, name: str) -> int:
    return int((cluster["cluster_dir"] / "run" / f"{name}.pid").read_text())


def test_a_worker_killed_mid_partition_costs_a_retry_not_a_document(fresh, es, cluster_replica):
    api, alias = fresh["api"], fresh["alias"]
    # every response of the replica takes 0.4 s: a month's crawl runs for seconds, long enough to be caught
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
    assert tries[0]["hostname"] == dead and tries[0]["state"] != "success"
    assert tries[-1]["state"] == "success" and tries[-1]["hostname"] != dead
    expected = in_range(cluster_replica, since, until)
    assert urls(es, alias) == sorted(expected) and expected  # each once: no duplicate
