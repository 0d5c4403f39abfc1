"""Real Airflow: every DAG imports cleanly; mfa_archive_ingest indexes the sample via dag.test()."""

from ..conftest import SAMPLE_DUMPS


def test_dagbag_loads_every_dag_without_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "mfa_archive_ingest" in dagbag.dag_ids


def test_archive_dag_indexes_the_sample_into_a_fresh_index(dagbag, es, index_alias):
    dag = dagbag.get_dag("mfa_archive_ingest")
    run = dag.test(run_conf={"path": str(SAMPLE_DUMPS)})
    assert run.state == "success"
    es.indices.refresh(index=index_alias)
    assert es.count(index=index_alias)["count"] == len(list(SAMPLE_DUMPS.iterdir()))

    again = dag.test(run_conf={"path": str(SAMPLE_DUMPS)})
    assert again.state == "success"
    es.indices.refresh(index=index_alias)
    assert es.count(index=index_alias)["count"] == len(list(SAMPLE_DUMPS.iterdir()))
