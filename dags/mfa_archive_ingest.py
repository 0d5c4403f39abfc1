"""DAG mfa_archive_ingest: index a folder of saved pages (text dumps or HTML) into Elasticsearch.

Thin wiring only: the work is pipeline.ingest.ingest_archive. Idempotent (stable
document ids), so a retried task or a second run never duplicates documents.
Params: ``path`` (folder, relative to the project folder or absolute) and
``index`` (write target; default the read alias).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task

from mfa_airflow import INDEX_WRITES_POOL, log_report, resolve_input_path, settings_from_airflow


@dag(
    dag_id="mfa_archive_ingest",
    description="Index a folder of saved mid.ru transcript pages (text dumps or HTML)",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30), "retry_exponential_backoff": True},
    params={
        "path": Param("sample/dumps", type="string", description="folder of saved pages"),
        "index": Param(None, type=["null", "string"], description="write target (default: the alias)"),
    },
    tags=["mfa-ingest", "archive"],
)
def mfa_archive_ingest():
    @task(pool=INDEX_WRITES_POOL)  # one slot: never beside a reindex (see mfa_airflow)
    def ingest_archive(params: dict | None = None) -> dict:
        from pipeline.ingest import ingest_archive as run_ingest

        settings = settings_from_airflow()
        report = run_ingest(resolve_input_path(params["path"]), settings=settings, index=params["index"])
        return log_report(report)

    @task
    def check_result(summary: dict) -> dict:
        if summary["extracted"] == 0:
            raise ValueError(f"nothing could be extracted: {summary['failures'][:5]}")
        return summary

    check_result(ingest_archive())


mfa_archive_ingest()
