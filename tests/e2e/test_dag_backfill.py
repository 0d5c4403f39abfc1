"""mfa_backfill through real Airflow (dag.test()) on the real node: one mapped task per partition."""

from __future__ import annotations

import shutil

from pipeline.jobs.backfill import archive_partitions, month_partitions

from tests.conftest import FIXTURES, SAMPLE_DUMPS

WARC = FIXTURES / "warc" / "wget-replica.warc.gz"


def archive_inputs(tmp_path):
    """Three dump folders (2 + 2 + 1 files) and a folder holding one WARC file: four partitions."""
    files = sorted(SAMPLE_DUMPS.iterdir())
    folders = []
    for n, group in enumerate((files[:2], files[2:4], files[4:])):
        folder = tmp_path / f"dumps-{n}"
        folder.mkdir()
        for f in group:
            shutil.copy(f, folder / f.name)
        folders.append(folder)
    warcs = tmp_path / "warcs"
    warcs.mkdir()
    shutil.copy(WARC, warcs / WARC.name)
    return [str(f) for f in folders] + [str(warcs)]


def mapped_instances(run, task_id):
    return sorted((ti for ti in run.get_task_instances() if ti.task_id == task_id), key=lambda ti: ti.map_index)


def test_partitions_are_months_or_files(tmp_path):
    assert [p["label"] for p in month_partitions("2021-01-15", "2021-03-02")] == ["2021-01", "2021-02", "2021-03"]
    assert month_partitions("2021-01-15", "2021-03-02")[0]["since"] == "2021-01-15"
    assert month_partitions("2021-01-15", "2021-03-02")[-1]["until"] == "2021-03-02"
    assert month_partitions("2020-02-01", "2020-02-29")[0]["until"] == "2020-02-29"
    assert len(archive_partitions(archive_inputs(tmp_path))) == 4


def test_backfill_from_archives_fans_out_one_mapped_task_per_partition(dagbag, es, es_url, index_alias,
                                                                       monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT", es_url)
    monkeypatch.setenv("MFA_ES_URL", "http://127.0.0.1:9")  # only the connection leads to the node
    monkeypatch.setenv("MFA_STATE_DIR", str(tmp_path / "state"))
    inputs = archive_inputs(tmp_path)
    dag = dagbag.get_dag("mfa_backfill")

    run = dag.test(run_conf={"archive_inputs": inputs})
    assert run.state == "success"
    instances = mapped_instances(run, "run_partition")
    assert [ti.map_index for ti in instances] == [0, 1, 2, 3]
    assert all(ti.state == "success" for ti in instances)
    # one document per transcript: the WARC's article pages of sample transcripts join their dumps
    expected = len(distinct_transcripts(inputs))
    es.indices.refresh(index=index_alias)
    assert es.count(index=index_alias)["count"] == expected

    again = dag.test(run_conf={"archive_inputs": inputs})  # every partition is idempotent
    assert again.state == "success"
    es.indices.refresh(index=index_alias)
    assert es.count(index=index_alias)["count"] == expected


def test_backfill_without_inputs_or_range_fails(dagbag, es, es_url, index_alias, monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT", es_url)
    monkeypatch.setenv("MFA_STATE_DIR", str(tmp_path / "state"))
    # explicit nulls: a DAG object shared across tests keeps the last run_conf as its params
    run = dagbag.get_dag("mfa_backfill").test(run_conf={"archive_inputs": None, "since": None, "until": None})
    assert run.state == "failed"


def test_backfill_of_an_unreachable_site_fails_naming_it(dagbag, es, es_url, index_alias, replica, monkeypatch,
                                                         tmp_path, capfd, caplog):
    import json

    from tests.replica.plugin import replica_overrides

    monkeypatch.setenv("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT", es_url)
    monkeypatch.setenv("MFA_STATE_DIR", str(tmp_path / "state"))
    for name, value in replica_overrides(replica).items():
        monkeypatch.setenv(f"MFA_{name.upper()}", json.dumps(value) if isinstance(value, list) else str(value))
    replica.stop()  # nobody answers on the site's port any more
    dag = dagbag.get_dag("mfa_backfill")
    for task in dag.tasks:
        monkeypatch.setattr(task, "retries", 0)
    run = dag.test(run_conf={"archive_inputs": None, "since": "2021-11-01", "until": "2021-12-31",
                             "sections": ["minister_speeches"], "languages": ["en"]})
    assert run.state == "failed"
    total = run.get_task_instance("total")
    assert total.state == "failed"
    assert [ti.state for ti in mapped_instances(run, "run_partition")] == ["success", "success"]
    out, err = capfd.readouterr()  # dag.test writes the task log, exceptions included, to the console
    assert "AirflowFailException: 2021-11: site unreachable" in out + err
    # the plan logged its estimate before the partitions fanned out (robots.txt and listings only)
    assert "backfill 2021-11-01..2021-12-31 estimate: " in out + err + caplog.text


def test_backfill_refuses_a_section_the_profile_lacks(dagbag, es, es_url, index_alias, monkeypatch, tmp_path):
    import pytest
    from airflow.sdk.exceptions import ParamValidationError

    monkeypatch.setenv("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT", es_url)
    with pytest.raises(ParamValidationError, match="nope"):
        dagbag.get_dag("mfa_backfill").test(run_conf={"since": "2021-11-01", "until": "2021-11-30",
                                                      "sections": ["nope"], "archive_inputs": None})


def distinct_transcripts(inputs) -> set[str]:
    from pipeline.extract.extractor import extract_record
    from pipeline.context import get_profile
    from pipeline.model.records import Page
    from pipeline.sources.archive import archive_pages

    profile = get_profile()
    return {extract_record(page, profile).match_key
            for page in archive_pages(inputs, max_bytes=10_000_000, profile=profile) if isinstance(page, Page)}
