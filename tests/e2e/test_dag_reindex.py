"""mfa_reindex through real Airflow (dag.test()) on the real node: build, check, then swap."""

from __future__ import annotations

import shutil

from pipeline.context import RunContext
from pipeline.store import design
from pipeline.ingest import ingest_archive
from pipeline.settings import Settings

from tests.conftest import SAMPLE_DUMPS


def test_reindex_dag_builds_checks_and_swaps(dagbag, es, es_url, index_alias, monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT", es_url)
    monkeypatch.setenv("MFA_STATE_DIR", str(tmp_path / "state"))
    ingest_archive(RunContext.build(Settings()), SAMPLE_DUMPS)
    n_docs = len(list(SAMPLE_DUMPS.iterdir()))

    run = dagbag.get_dag("mfa_reindex").test()
    assert run.state == "success"
    assert design.alias_indices(es, index_alias) == {f"{index_alias}-v2": {"is_write_index": True}}
    assert es.count(index=index_alias)["count"] == n_docs
    assert es.indices.exists(index=f"{index_alias}-v1")


def test_reindex_dag_refuses_to_swap_to_a_smaller_index(dagbag, es, es_url, index_alias, monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT", es_url)
    monkeypatch.setenv("MFA_STATE_DIR", str(tmp_path / "state"))
    ingest_archive(RunContext.build(Settings()), SAMPLE_DUMPS)
    one = tmp_path / "one"
    one.mkdir()
    first = sorted(SAMPLE_DUMPS.iterdir())[0]
    shutil.copy(first, one / first.name)

    run = dagbag.get_dag("mfa_reindex").test(run_conf={"archive_inputs": [str(one)]})
    assert run.state == "failed"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["build"] == "success" and states["check"] == "failed" and states["swap"] != "success"
    assert design.write_index(es, index_alias) == f"{index_alias}-v1"
