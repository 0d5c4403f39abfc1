"""DAG mfa_archive_ingest: index folders of saved pages (text dumps or HTML), WARC files and
corpus files (CSV, JSON lines; the reader is chosen by file type) into Elasticsearch.

Thin wiring only: the work is pipeline.ingest.ingest_archive, as ``mfa-ingest ingest PATHS...``.
Idempotent (stable document ids), so a retried task or a second run never duplicates documents.
Params: ``paths`` (folders or files, relative to the project folder or absolute),
``index`` (write target; default the read alias), ``columns`` (corpus files: which column holds each
field, as the CLI's ``--columns``) and ``allow_failures`` (as the CLI's
``--allow-failures``: ``N`` inputs or ``P%`` of those attempted may fail; default none).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task

from mfa_airflow import INDEX_WRITES_POOL, context_from_airflow, log_report, permanent_errors, resolve_input_path


@dag(
    dag_id="mfa_archive_ingest",
    description="Index a folder of saved mid.ru transcript pages (text dumps or HTML)",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30), "retry_exponential_backoff": 2.0},
    params={
        "paths": Param(["sample/dumps"], type="array", items={"type": "string"}, minItems=1,
                       description="folders (or files) of saved pages, as mfa-ingest ingest PATHS..."),
        "index": Param(None, type=["null", "string"], description="write target (default: the alias)"),
        "columns": Param(None, type=["null", "string"],
                         description="corpus files (.csv, .jsonl): FIELD=COLUMN,... as mfa-ingest ingest --columns"),
        "allow_failures": Param(None, type=["null", "string"], pattern=r"^\d+(\.\d+)?%?$",
                                description="tolerate N failed inputs or P% of those attempted (default: none)"),
    },
    tags=["mfa-ingest", "archive"],
)
def mfa_archive_ingest():
    @task(pool=INDEX_WRITES_POOL)  # one slot: never beside a reindex (see mfa_airflow)
    def ingest_archive(params: dict | None = None) -> dict:
        from pipeline.ingest import ingest_archive as run_ingest

        from pipeline.progress import Progress
        from pipeline.sources.corpus import ColumnMap

        with context_from_airflow() as ctx, permanent_errors(), Progress("log") as progress:  # a log line every so many pages
            report = run_ingest(ctx, [resolve_input_path(p) for p in params["paths"]], index=params["index"],
                                progress=progress, columns=ColumnMap.parse(params.get("columns")))
        return log_report(report)

    @task(retries=0)  # a verdict on data already indexed: a retry would give the same answer
    def check_result(summary: dict, params: dict | None = None) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from pipeline.report import RunReport

        report = RunReport.model_validate(summary)  # it crossed XCom as model_dump
        if report.extracted == 0:
            raise AirflowFailException(f"nothing could be extracted: {report.failures[:5]}")
        if not report.tolerates(params["allow_failures"]):
            raise AirflowFailException(f"{report.failed} of {report.attempted} inputs failed "
                                       f"(allowed: {params['allow_failures'] or 'none'}): "
                                       + "; ".join(report.class_lines()))
        return summary

    check_result(ingest_archive())


mfa_archive_ingest()
