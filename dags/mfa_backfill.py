"""DAG mfa_backfill: a large backfill split into partitions that fan out over workers.

Params: a date range (``since``/``until``) with optional ``sections`` and
``languages`` -> one partition per month, crawled; or ``archive_inputs``
(text-dump folders, WARC files or folders of them) -> one partition per file or
dump folder, replayed. Partitions become mapped task instances (dynamic task
mapping), each idempotent and retriable on its own (pipeline.jobs.run_partition).
Thin wiring only; Elasticsearch comes from the ``elasticsearch_default`` connection.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from mfa_airflow import INDEX_WRITES_POOL, log_report, prepare_write_index, resolve_input_path, settings_from_airflow


@dag(
    dag_id="mfa_backfill",
    description="Backfill mid.ru transcripts by month (crawl) or by archive file (replay), fanned out",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=8,
    default_args={"retries": 3, "retry_delay": timedelta(minutes=2), "retry_exponential_backoff": True,
                  "max_retry_delay": timedelta(minutes=30)},
    params={
        "since": Param(None, type=["null", "string"], format="date", description="first day (crawl mode)"),
        "until": Param(None, type=["null", "string"], format="date", description="last day (crawl mode)"),
        "sections": Param(None, type=["null", "array"], description="crawl sections (default: all)"),
        "languages": Param(None, type=["null", "array"], description="languages (default: all)"),
        "archive_inputs": Param(None, type=["null", "array"],
                                description="dump folders / WARC files to replay instead of crawling"),
        "index": Param(None, type=["null", "string"], description="write target (default: the alias)"),
    },
    tags=["mfa-ingest", "backfill"],
)
def mfa_backfill():
    @task
    def plan(params: dict | None = None) -> list[dict]:
        from pipeline.jobs import archive_partitions, month_partitions

        if params["archive_inputs"]:
            parts = archive_partitions(resolve_input_path(p) for p in params["archive_inputs"])
        elif params["since"] and params["until"]:
            parts = month_partitions(params["since"], params["until"])
        else:
            raise AirflowFailException("give either archive_inputs or both since and until")
        if not parts:
            raise AirflowFailException("the params give no partition to run")
        return parts

    @task
    def prepare_index(params: dict | None = None) -> str:
        return prepare_write_index(params["index"])

    # one pool slot per partition: partitions fan out beside each other, never beside a reindex
    @task(map_index_template="{{ partition_label }}", pool=INDEX_WRITES_POOL)
    def run_partition(partition: dict, index: str, params: dict | None = None) -> dict:
        from pipeline.jobs import run_partition as run_one

        get_current_context()["partition_label"] = partition["label"]  # names the mapped instance in the UI
        report = run_one(settings_from_airflow(), partition, index=index,
                         sections=params["sections"], languages=params["languages"])
        return {**log_report(report), "partition": partition}

    @task
    def total(reports: list[dict]) -> dict:
        from pipeline.jobs import add_reports

        totals = add_reports(reports)
        if totals["indexed"] + totals["unchanged"] == 0:
            raise AirflowFailException(f"the backfill indexed nothing: {totals}")
        return totals

    index = prepare_index()
    reports = run_partition.partial(index=index).expand(partition=plan())
    total(reports)


mfa_backfill()
