"""DAG mfa_backfill: a large backfill split into partitions that fan out over workers.

Params: a date range (``since``/``until``) with optional ``sections`` and
``languages`` -> one partition per month, crawled; or ``archive_inputs``
(text-dump folders, WARC files or folders of them) -> one partition per file or
dump folder, replayed. ``source`` says where the months come from: the site itself
(``site``), or a web archive's captures (``wayback``, ``commoncrawl``;
pipeline.crawl.webarchive, docs/crawling.md). Partitions become mapped task instances (dynamic
task mapping), each idempotent and retriable on its own (pipeline.jobs.backfill.run_partition).
``fold`` then gives every transcript one document again where two partitions wrote a
dump and a crawled page of it at the same time (pipeline.store.writer.fold_same_transcripts).
Sections and languages must be among the profile's (checked when the run is made and
again by ``plan``); permanent errors fail at once, without retries. ``total`` fails the
run when any partition could not reach the site or the failure share is above
``max_deadletter_share``, naming the failure classes and the first inputs.
Thin wiring only; Elasticsearch comes from the ``elasticsearch_default`` connection,
the site from ``mfa_site``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from mfa_airflow import (INDEX_WRITES_POOL, check_params, choice_list_param, fold_same_transcripts, log_estimate,
                         log_report,
                         permanent_errors, prepare_write_index, profile_choices, resolve_input_path,
                         context_from_airflow)

CHOICES = profile_choices()


@dag(
    dag_id="mfa_backfill",
    description="Backfill mid.ru transcripts by month (crawl) or by archive file (replay), fanned out",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=8,
    default_args={"retries": 3, "retry_delay": timedelta(minutes=2), "retry_exponential_backoff": 2.0,
                  "max_retry_delay": timedelta(minutes=30)},
    params={
        "since": Param(None, type=["null", "string"], format="date",
                       description="first Moscow day, included (crawl mode)"),
        "until": Param(None, type=["null", "string"], format="date",
                       description="last Moscow day, included (crawl mode)"),
        "sections": choice_list_param("sections", CHOICES["sections"], "crawl sections (default: all)"),
        "languages": choice_list_param("languages", CHOICES["languages"], "languages (default: all)"),
        "source": Param("site", enum=["site", "wayback", "commoncrawl"],
                        description="where the months come from (crawl mode): the site itself, or a web archive's "
                                    "captures (MFA_WAYBACK_* / MFA_COMMONCRAWL_* settings)"),
        "archive_inputs": Param(None, type=["null", "array"],
                                description="dump folders / WARC files to replay instead of crawling"),
        "index": Param(None, type=["null", "string"], description="write target (default: the alias)"),
        "max_deadletter_share": Param(0.2, type="number", minimum=0, maximum=1,
                                      description="fail when a larger share of the inputs attempted failed"),
    },
    tags=["mfa-ingest", "backfill"],
)
def mfa_backfill():
    @task(retries=0)
    def plan(params: dict | None = None) -> list[dict]:
        from pipeline.jobs.backfill import archive_partitions, month_partitions

        check_params(params)
        if params["archive_inputs"]:
            parts = archive_partitions(resolve_input_path(p) for p in params["archive_inputs"])
        elif params["since"] and params["until"]:
            parts = month_partitions(params["since"], params["until"], params.get("source") or "site")
        else:
            raise AirflowFailException("give either archive_inputs or both since and until")
        if not parts:
            raise AirflowFailException("the params give no partition to run")
        if not params["archive_inputs"] and (params.get("source") or "site") == "site":
            log_estimate(params)
        return parts

    @task
    def prepare_index(params: dict | None = None) -> str:
        return prepare_write_index(params["index"])

    # one pool slot per partition: partitions fan out beside each other, never beside a reindex
    @task(map_index_template="{{ partition_label }}", pool=INDEX_WRITES_POOL)
    def run_partition(partition: dict, index: str, params: dict | None = None) -> dict:
        from pipeline.jobs.backfill import run_partition as run_one

        get_current_context()["partition_label"] = partition["label"]  # names the mapped instance in the UI
        with context_from_airflow() as ctx, permanent_errors():
            report = run_one(ctx, partition, index=index,
                             sections=params["sections"], languages=params["languages"])
        return {**log_report(report), "partition": partition}

    # after every partition, even failed ones: partitions on two workers may each have missed
    # the other's document of the same transcript (a dump and a crawled page)
    @task(trigger_rule="all_done", pool=INDEX_WRITES_POOL)
    def fold(index: str) -> int:
        return fold_same_transcripts(index)

    @task(retries=0)
    def total(reports: list[dict], folded: int, params: dict | None = None) -> dict:
        from pipeline.report import RunReport

        # each partition's report crossed XCom as model_dump (with its partition beside it)
        parts = [(rep["partition"], RunReport.model_validate(rep)) for rep in reports]
        total = RunReport.total([part for _, part in parts], name="backfill")
        total.extra["folded"] = folded
        problems = [f"{partition['label']}: {p}" for partition, part in parts if partition["kind"] == "range"
                    for p in part.crawl_problems() if not p.startswith("nothing listed")]
        if total.failure_share > params["max_deadletter_share"]:
            problems.append(f"failure share {total.failure_share:.1%} above {params['max_deadletter_share']:.1%}: "
                            + "; ".join(total.class_lines()))
        totals = total.model_dump(mode="json")
        # a re-run finds every page unchanged (or 304 Not Modified): that is done, not "nothing"
        if total.indexed + total.unchanged + total.not_modified == 0:
            problems.append(f"the backfill indexed nothing: {totals}")
        if problems:
            raise AirflowFailException("; ".join(problems))
        return totals

    index = prepare_index()
    reports = run_partition.partial(index=index).expand(partition=plan())
    folded = fold(index)
    reports >> folded
    total(reports, folded)


mfa_backfill()
