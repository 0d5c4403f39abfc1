"""DAG mfa_nightly_crawl: the scheduled incremental crawl of mid.ru into the index.

Thin wiring only: check the params against the site profile -> prepare the index
(pipeline.store.design.ensure_index) -> crawl and index (pipeline.crawl.crawler.run_crawl,
streaming into the alias; the task fails at once, without retries, naming the class, the
first URLs and the advice, when the site was unreachable or blocked, its layout changed, or
nothing was listed although it answered: RunReport.crawl_problems) -> data-quality check
(RunReport.quality_problems on the freshness of pipeline.store.quality:
nothing new for ``max_quiet_days``, or a failure share over inputs attempted above
``max_deadletter_share``) and the template-drift check (pipeline.store.quality, thresholds
in the profile's crawl.drift) -> redrive of the dead letters that failed after their fetch
(pipeline.jobs.redrive: a fixed profile or a recovered index lets them through; failed fetches
are the crawl ledger's to retry) -> run summary in the task log and XCom (runs whatever
failed before it; a leaf task then fails the run).
Permanent errors (bad params, a bad profile, a missing index design) and the crawl's verdicts
on the site fail at once without retries (AirflowFailException: the next scheduled run is the
retry); an unreachable node or an unexpected error is retried.
The time of day is the cron in MFA_NIGHTLY_SCHEDULE (default 02:30 UTC; ``none``: triggered runs only).
Elasticsearch comes from the ``elasticsearch_default`` connection, the site from ``mfa_site``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from mfa_airflow import (INDEX_WRITES_POOL, check_params, choice_list_param, fail_on_crawl_problems, log_report,
                         permanent_errors, prepare_write_index, profile_choices, context_from_airflow)

DEFAULT_SCHEDULE = "30 2 * * *"
REPORT_KEY = "report"  # the crawl's report, pushed before the task may fail on it
CHOICES = profile_choices()


def _schedule() -> str | None:
    import os  # an environment read, not work: allowed at parse time

    cron = os.environ.get("MFA_NIGHTLY_SCHEDULE", DEFAULT_SCHEDULE).strip()
    # "none": triggered runs only; unpausing then starts no run of its own (the Celery tier, staging)
    return None if cron.lower() in ("", "none") else cron


@dag(
    dag_id="mfa_nightly_crawl",
    description="Nightly incremental crawl of mid.ru transcripts into Elasticsearch",
    schedule=_schedule(),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(hours=1),
    },
    params={
        "sections": choice_list_param("sections", CHOICES["sections"],
                                      "crawl sections (default: the profile's nightly ones)"),
        "languages": choice_list_param("languages", CHOICES["languages"], "languages (default: the profile's)"),
        "lookback_days": Param(14, type="integer", minimum=1,
                               description="never walk listings further back than this many Moscow days"),
        "max_quiet_days": Param(7, type="integer", minimum=1, description="fail when nothing new for this long"),
        "max_deadletter_share": Param(0.2, type="number", minimum=0, maximum=1,
                                      description="fail when a larger share of the inputs attempted failed"),
        "index": Param(None, type=["null", "string"], description="write target (default: the alias)"),
        "redrive_limit": Param(200, type="integer", minimum=0,
                               description="dead letters (extraction, validation, index) re-processed per run"),
    },
    tags=["mfa-ingest", "crawl"],
)
def mfa_nightly_crawl():
    @task(retries=0)
    def check(params: dict | None = None) -> None:
        check_params(params)

    @task
    def prepare_index(params: dict | None = None) -> str:
        return prepare_write_index(params["index"])

    @task(pool=INDEX_WRITES_POOL)  # one slot: crawls run beside each other, never beside a reindex
    def crawl(index: str, params: dict | None = None) -> dict:
        from pipeline.crawl.crawler import run_crawl
        from pipeline.model.records import MOSCOW
        from pipeline.report import RunReport

        context = get_current_context()
        # a run triggered without a logical date (REST API, UI) has no data interval: it runs "now"
        end = context.get("data_interval_end") or context["dag_run"].run_after
        # listings date documents in Moscow time: 02:30 UTC is already the next day there
        since = (end.astimezone(MOSCOW) - timedelta(days=params["lookback_days"])).date()
        with context_from_airflow() as ctx, permanent_errors():
            report = run_crawl(ctx.for_run(RunReport(name="nightly")), since=since, until=None,
                               sections=params["sections"], languages=params["languages"], index=index)
        summary = log_report(report)
        context["ti"].xcom_push(key=REPORT_KEY, value=summary)  # for the summary, also when this task fails
        fail_on_crawl_problems(report)
        return summary

    @task
    def quality_check(summary: dict, index: str, params: dict | None = None) -> dict:
        from pipeline.report import RunReport
        from pipeline.store.quality import freshness

        with context_from_airflow() as ctx, permanent_errors():
            newest, documents = freshness(ctx.es, index)
        report = RunReport.model_validate(summary)  # the crawl's report, crossed XCom as model_dump
        problems = report.quality_problems(newest, max_quiet_days=params["max_quiet_days"],
                                           max_deadletter_share=params["max_deadletter_share"])
        if problems:
            raise AirflowFailException("data-quality check failed: " + "; ".join(problems))
        return {"newest_indexed_at": newest.isoformat() if newest else None,
                "deadletter_share": report.failure_share, "documents": documents}

    @task
    def drift_check(summary: dict, index: str) -> dict:
        """Template drift (pipeline.store.quality.judge_run): this run's field coverage per section against
        the previous runs of the profile's window (the newest documents when nothing new came, said in
        the log); fails without retries when a share moved too far."""
        import logging
        from datetime import datetime

        from pipeline.store.quality import judge_run
        run_id = str(summary["extra"].get("run_id"))
        with context_from_airflow() as ctx, permanent_errors():
            result = judge_run(ctx.es, ctx.settings, ctx.profile, index,
                               datetime.fromisoformat(summary["started_at"]), run_id)
        logging.getLogger("mfa_nightly_crawl").info("drift check: %s", result["judged"])
        if result["alarms"]:
            raise AirflowFailException("; ".join(result["alarms"]))
        return result

    @task(pool=INDEX_WRITES_POOL)
    def redrive(index: str, params: dict | None = None) -> dict:
        from pipeline.jobs.redrive import redrive as run_redrive

        if not params["redrive_limit"]:
            return {"redriven": 0}
        with context_from_airflow() as ctx, permanent_errors():
            result = run_redrive(ctx, index=index, stages=["extract", "validate", "index"],
                                 limit=params["redrive_limit"])
        return {**log_report(result.report), "resolutions": result.resolved}

    @task(trigger_rule="all_done", retries=0)
    def summary() -> dict:
        import logging

        from pipeline.report import RunReport

        log = logging.getLogger("mfa_nightly_crawl")
        ti = get_current_context()["ti"]
        # Upstream tasks may have failed: what they left is read here, absent is said so, never an error.
        report = ti.xcom_pull(task_ids="crawl", key=REPORT_KEY) or {}
        quality = ti.xcom_pull(task_ids="quality_check")
        if not report:
            log.info("the crawl left no report (it did not run or failed before the end: see check / crawl)")
        for key in ("listed", "fetched", "not_modified", "new", "updated", "unchanged", "failed", "attempted",
                    "failure_share", "retries"):
            log.info("%s: %s", key, report.get(key))
        for line in RunReport.model_validate(report).class_lines() if report else []:
            log.info(line)
        log.info("quality: %s", quality if quality else "check did not pass (see quality_check)")
        redriven = ti.xcom_pull(task_ids="redrive") or {}
        log.info("redrive: %s dead letters re-processed", redriven.get("read", 0))
        return {**report, "quality": quality, "redrive": {k: redriven.get(k) for k in ("read", "new", "failed")}}

    @task(trigger_rule="one_failed", retries=0)
    def fail_run() -> None:
        # The summary runs whatever happened, so it cannot tell the run's outcome: this leaf does.
        raise AirflowFailException("a task of the nightly crawl failed (see check / crawl / quality_check / drift_check)")

    checked_params = check()
    index = prepare_index()
    checked_params >> index
    crawled = crawl(index)
    checked = quality_check(crawled, index)
    drifted = drift_check(crawled, index)
    redriven = redrive(index)
    crawled >> redriven
    [checked_params, index, crawled, checked, drifted, redriven] >> summary()
    [checked_params, index, crawled, checked, drifted, redriven] >> fail_run()


mfa_nightly_crawl()
