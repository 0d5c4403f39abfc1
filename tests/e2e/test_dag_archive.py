"""Real Airflow: every DAG imports cleanly; mfa_archive_ingest indexes the sample via dag.test()."""

from tests.conftest import SAMPLE_DUMPS


def test_dagbag_loads_every_dag_without_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "mfa_archive_ingest" in dagbag.dag_ids


def test_retries_that_ask_for_backoff_back_off(dagbag):
    """Airflow 3 reads retry_exponential_backoff as a multiplier: True is 1.0, a constant delay
    (a backfill partition whose worker died waited its full 2 minutes, whatever
    [core] max_task_retry_delay said, which caps only a backoff)."""
    asking = [(dag_id, task.task_id, task.retry_exponential_backoff) for dag_id, dag in dagbag.dags.items()
              for task in dag.tasks if task.retries and task.retry_exponential_backoff]
    assert asking, "some DAG retries with backoff"
    assert [a for a in asking if a[2] <= 1] == []


def test_archive_dag_indexes_the_sample_into_a_fresh_index(dagbag, es, es_url, index_alias, monkeypatch):
    # Inside Airflow the node comes from the elasticsearch_default connection: point
    # MFA_ES_URL nowhere, so the run can only succeed through the connection.
    monkeypatch.setenv("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT", es_url)
    monkeypatch.setenv("MFA_ES_URL", "http://127.0.0.1:9")
    dag = dagbag.get_dag("mfa_archive_ingest")
    run = dag.test(run_conf={"paths": [str(SAMPLE_DUMPS)]})
    assert run.state == "success"
    es.indices.refresh(index=index_alias)
    assert es.count(index=index_alias)["count"] == len(list(SAMPLE_DUMPS.iterdir()))

    again = dag.test(run_conf={"paths": [str(SAMPLE_DUMPS)]})
    assert again.state == "success"
    es.indices.refresh(index=index_alias)
    assert es.count(index=index_alias)["count"] == len(list(SAMPLE_DUMPS.iterdir()))


def test_archive_dag_fails_on_a_failed_input_unless_allowed(dagbag, es, es_url, index_alias, monkeypatch, tmp_path):
    import shutil

    monkeypatch.setenv("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT", es_url)
    monkeypatch.setenv("MFA_STATE_DIR", str(tmp_path / "state"))
    first = sorted(SAMPLE_DUMPS.iterdir())[0]
    folder = tmp_path / "dumps"
    folder.mkdir()
    shutil.copy(first, folder / first.name)
    (folder / "zz_empty.txt").write_text("Advanced settings\n")
    other = tmp_path / "more"  # several paths, as `mfa-ingest ingest PATHS...`
    other.mkdir()
    second = sorted(SAMPLE_DUMPS.iterdir())[1]
    shutil.copy(second, other / second.name)
    dag = dagbag.get_dag("mfa_archive_ingest")

    run = dag.test(run_conf={"paths": [str(folder), str(other)], "allow_failures": None})
    assert run.state == "failed"
    check = run.get_task_instance("check_result")
    assert check.state == "failed" and check.try_number <= 1  # a verdict, not retried
    es.indices.refresh(index=index_alias)
    assert es.count(index=index_alias)["count"] == 2  # the good pages are indexed all the same

    run = dag.test(run_conf={"paths": [str(folder), str(other)], "allow_failures": "1"})
    assert run.state == "success"


def test_archive_dag_takes_corpus_files_by_their_type_with_a_column_mapping(dagbag, es, es_url, index_alias,
                                                                              monkeypatch, tmp_path):
    """A CSV among the ``paths`` is read as a corpus (a transcript per row), its columns mapped
    by the ``columns`` param; a malformed row is one failed input, the others are indexed."""
    import csv

    monkeypatch.setenv("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT", es_url)
    monkeypatch.setenv("MFA_STATE_DIR", str(tmp_path / "state"))
    corpus = tmp_path / "speeches.csv"
    with corpus.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["who", "day", "headline", "transcript"])
        writer.writerow(["Sergey Lavrov", "2023-06-19", "Remarks at the talks, Moscow, June 19, 2023",
                         "Good afternoon.\n\nWe have held substantive talks and agreed on the next steps together."])
        writer.writerow(["Maria Zakharova", "2023-06-21", "NA",
                         "Good afternoon, colleagues.\n\nLet us begin with the news of the week, full of events."])
        writer.writerow(["a row", "that is short"])
    dag = dagbag.get_dag("mfa_archive_ingest")
    conf = {"paths": [str(corpus)], "columns": "speaker=who,date=day,title=headline,text=transcript"}

    run = dag.test(run_conf={**conf, "allow_failures": "1"})
    assert run.state == "success"
    es.indices.refresh(index=index_alias)
    docs = {h["_source"]["source"].rsplit("#", 1)[-1]: h["_source"]
            for h in es.search(index=index_alias, size=10)["hits"]["hits"]}
    assert set(docs) == {"row1", "row2"}
    assert docs["row1"]["title"] == "Remarks at the talks, Moscow, June 19, 2023"
    assert docs["row2"]["title"] is None and docs["row2"]["flags"] == ["no_title"]
    assert docs["row2"]["published_at"].startswith("2023-06-21")

    assert dag.test(run_conf={**conf, "allow_failures": None}).state == "failed"  # the short row counts
