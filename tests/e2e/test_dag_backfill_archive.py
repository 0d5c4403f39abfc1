"""mfa_backfill with ``source=wayback`` through real Airflow (dag.test()), a real pywb and the real node."""

from __future__ import annotations

from tests.archives.plugin import SINCE, UNTIL, archive_env


def test_backfill_dag_from_the_wayback_api_indexes_the_window_and_a_rerun_changes_nothing(
        dagbag, es, es_url, index_alias, settings, archive_collection, pywb, monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT", es_url)
    for name, value in archive_env(settings, pywb).items():
        monkeypatch.setenv(name, value)
    dag = dagbag.get_dag("mfa_backfill")
    for task in dag.tasks:
        monkeypatch.setattr(task, "retries", 0)
    conf = {"archive_inputs": None, "since": SINCE.isoformat(), "until": UNTIL.isoformat(), "source": "wayback"}

    run = dag.test(run_conf=conf)
    assert run.state == "success"
    partitions = [ti for ti in run.get_task_instances() if ti.task_id == "run_partition"]
    assert len(partitions) == 1 and partitions[0].state == "success"
    es.indices.refresh(index=index_alias)
    hits = es.search(index=index_alias, size=100)["hits"]["hits"]
    docs = {h["_source"]["url"]: h["_source"] for h in hits}
    assert set(docs) == set(archive_collection.in_window)
    edited = docs[archive_collection.edited_url]
    assert archive_collection.in_window[archive_collection.edited_url] in edited["body"]
    assert any("20211220120000id_/" in s for s in edited["sources"])
    totals = run.get_task_instance("total").xcom_pull(task_ids="total")
    assert totals["failures_by_kind"] == {"blocked": 1}, "the captured challenge, named, never indexed"

    again = dag.test(run_conf=conf)
    assert again.state == "success"
    es.indices.refresh(index=index_alias)
    after = {h["_source"]["url"]: h["_source"] for h in es.search(index=index_alias, size=100)["hits"]["hits"]}
    assert after == docs
    totals = again.get_task_instance("total").xcom_pull(task_ids="total")
    assert totals["read"] == 0 and totals["not_modified"] == 6
