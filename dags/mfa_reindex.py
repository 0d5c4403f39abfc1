"""DAG mfa_reindex: blue/green rebuild of the index, checked before the alias swaps.

build (pipeline.reindex.rebuild with swap=False: a new ``<alias>-vN+1`` from the
current index, or from ``archive_inputs``, with the current code and mapping)
-> check (document counts, min_ratio) -> swap the alias atomically. The old
index is kept; ``mfa-ingest rollback`` moves the alias back. Thin wiring only;
Elasticsearch comes from the ``elasticsearch_default`` connection.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task
from airflow.sdk.exceptions import AirflowFailException

from mfa_airflow import log_report, resolve_input_path, settings_from_airflow


@dag(
    dag_id="mfa_reindex",
    description="Blue/green rebuild of the transcripts index with a check before the alias swap",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=5)},
    params={
        "archive_inputs": Param(None, type=["null", "array"],
                                description="dump folders / WARC files to rebuild from (default: the current index)"),
        "min_ratio": Param(1.0, type="number", minimum=0,
                           description="the new index must hold at least this share of the old one's documents"),
    },
    tags=["mfa-ingest", "reindex"],
)
def mfa_reindex():
    @task(retries=0)  # a half-built index is left for inspection; a new run builds the next version
    def build(params: dict | None = None) -> dict:
        from pipeline.index import connect
        from pipeline.profile import get_profile
        from pipeline.reindex import archive_pages, rebuild

        settings = settings_from_airflow()
        pages = None
        if params["archive_inputs"]:
            pages = archive_pages([resolve_input_path(p) for p in params["archive_inputs"]],
                                  profile=get_profile(settings.site_profile_path))
        result = rebuild(connect(settings), settings, pages=pages, min_ratio=params["min_ratio"], swap=False)
        log_report(result.report)
        return {k: v for k, v in result.as_dict().items() if k != "report"}

    @task
    def check(built: dict, params: dict | None = None) -> dict:
        from pipeline.index import connect
        from pipeline.reindex import check_counts

        es = connect(settings_from_airflow())
        es.indices.refresh(index=built["new_index"])
        new_count = es.count(index=built["new_index"])["count"]
        old_count = es.count(index=built["old_index"])["count"] if built["old_index"] else 0
        problem = check_counts(old_count, new_count, min_ratio=params["min_ratio"])
        if problem:
            raise AirflowFailException(f"not swapping {built['alias']} to {built['new_index']}: {problem}")
        return {**built, "old_count": old_count, "new_count": new_count}

    @task
    def swap(checked: dict) -> dict:
        from pipeline.index import connect, write_index
        from pipeline.reindex import swap_alias

        es = connect(settings_from_airflow())
        current = write_index(es, checked["alias"])
        if current != checked["old_index"]:
            raise AirflowFailException(f"{checked['alias']} moved to {current} during the rebuild; not swapping")
        swap_alias(es, checked["alias"], old=current, new=checked["new_index"])
        return {**checked, "swapped": True}

    swap(check(build()))


mfa_reindex()
