"""DAG mfa_reindex: blue/green rebuild of the index, checked before the alias swaps.

build (pipeline.jobs.rebuild.rebuild with swap=False: a new ``<alias>-vN+1`` from the
current index, or from ``archive_inputs``, with the current code and mapping,
and its check: document counts, min_ratio, no write to the old index since the
build started) -> check (fails the run on the build's verdict) -> swap the alias
atomically (checked again for late writes just before). build and swap take
every slot of the ``mfa_index_writes`` pool, so no crawl writes meanwhile. The
old index is kept; ``mfa-ingest rollback`` moves the alias back. Thin wiring
only; Elasticsearch comes from the ``elasticsearch_default`` connection.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task
from airflow.sdk.exceptions import AirflowFailException

from mfa_airflow import (INDEX_WRITES_POOL, INDEX_WRITES_SLOTS, log_report, permanent_errors,
                         resolve_input_path, context_from_airflow)


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
        "index": Param(None, type=["null", "string"], description="the alias to rebuild (default: MFA_INDEX_ALIAS)"),
    },
    tags=["mfa-ingest", "reindex"],
)
def mfa_reindex():
    # a half-built index is left for inspection; a new run builds the next version
    @task(retries=0, pool=INDEX_WRITES_POOL, pool_slots=INDEX_WRITES_SLOTS)
    def build(params: dict | None = None) -> dict:
        from pipeline.progress import Progress
        from pipeline.jobs.rebuild import rebuild

        archive = [resolve_input_path(p) for p in params["archive_inputs"] or []] or None
        with context_from_airflow() as ctx, permanent_errors(), Progress("log") as progress:
            result = rebuild(ctx, archive=archive, alias=params["index"], min_ratio=params["min_ratio"],
                             swap=False, progress=progress)
        log_report(result.report)
        return {k: v for k, v in result.as_dict().items() if k != "report"}

    @task
    def check(built: dict) -> dict:
        # rebuild already checked counts and late writes (check_build); this task makes its verdict the run's
        if built["check"] != "ok":
            raise AirflowFailException(f"not swapping {built['alias']} to {built['new_index']}: {built['check']}")
        return built

    @task(pool=INDEX_WRITES_POOL, pool_slots=INDEX_WRITES_SLOTS)
    def swap(checked: dict) -> dict:
        from pipeline.store.design import write_index
        from pipeline.store.reindex import check_no_writes, swap_alias

        with context_from_airflow() as ctx, permanent_errors():
            es = ctx.es
            current = write_index(es, checked["alias"])
            if current != checked["old_index"]:
                raise AirflowFailException(f"{checked['alias']} moved to {current} during the rebuild; not swapping")
            late = check_no_writes(es, current, since=datetime.fromisoformat(checked["build_started_at"]))
            if late:
                raise AirflowFailException(late)
            swap_alias(es, checked["alias"], old=current, new=checked["new_index"])
        return {**checked, "swapped": True}

    swap(check(build()))


mfa_reindex()
