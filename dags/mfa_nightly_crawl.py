"""DAG mfa_nightly_crawl: the scheduled incremental crawl of mid.ru into the index.

Thin wiring only: prepare the index (pipeline.store.writer.ensure_index) -> crawl and
index (pipeline.crawl.crawler.run_crawl, streaming into the alias) -> data-quality check
(pipeline.jobs.quality_problems: fails loudly when nothing new came for
``max_quiet_days`` or the dead-letter share is above ``max_deadletter_share``) and the
template-drift check (pipeline.crawl.drift, thresholds in the profile's crawl.drift) ->
run summary in the task log and XCom (runs even when the check failed; a
leaf task then fails the run).
The time of day is the cron in MFA_NIGHTLY_SCHEDULE (default 02:30 UTC).
Elasticsearch comes from the ``elasticsearch_default`` connection.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from mfa_airflow import INDEX_WRITES_POOL, log_report, prepare_write_index, settings_from_airflow

DEFAULT_SCHEDULE = "30 2 * * *"


def _schedule() -> str:
    import os  # an environment read, not work: allowed at parse time

    return os.environ.get("MFA_NIGHTLY_SCHEDULE", DEFAULT_SCHEDULE)


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
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(hours=1),
    },
    params={
        "sections": Param(None, type=["null", "array"], description="crawl sections (default: all in the profile)"),
        "languages": Param(None, type=["null", "array"], description="languages (default: all in the profile)"),
        "lookback_days": Param(14, type="integer", minimum=1, description="never walk listings further back"),
        "max_quiet_days": Param(7, type="integer", minimum=1, description="fail when nothing new for this long"),
        "max_deadletter_share": Param(0.2, type="number", minimum=0, maximum=1,
                                      description="fail when a larger share of inputs was refused"),
        "index": Param(None, type=["null", "string"], description="write target (default: the alias)"),
    },
    tags=["mfa-ingest", "crawl"],
)
def mfa_nightly_crawl():
    @task
    def prepare_index(params: dict | None = None) -> str:
        return prepare_write_index(params["index"])

    @task(pool=INDEX_WRITES_POOL)  # one slot: crawls run beside each other, never beside a reindex
    def crawl(index: str, params: dict | None = None) -> dict:
        from pipeline.crawl.crawler import run_crawl
        from pipeline.profile import get_profile
        from pipeline.records import MOSCOW
        from pipeline.report import RunReport

        settings = settings_from_airflow()
        end = get_current_context()["data_interval_end"]
        # listings date documents in Moscow time: 02:30 UTC is already the next day there
        since = (end.astimezone(MOSCOW) - timedelta(days=params["lookback_days"])).date()
        report = run_crawl(settings, get_profile(settings.site_profile_path), since=since, until=None,
                           sections=params["sections"], languages=params["languages"], index=index,
                           report=RunReport(name="nightly"))
        return log_report(report)

    @task
    def quality_check(summary: dict, index: str, params: dict | None = None) -> dict:
        from pipeline.store.client import connect
        from pipeline.jobs import deadletter_share, newest_indexed_at, quality_problems

        settings = settings_from_airflow()
        with connect(settings) as es:
            es.indices.refresh(index=index)
            newest = newest_indexed_at(es, index)
            documents = es.count(index=index)["count"]
        problems = quality_problems(summary, newest, max_quiet_days=params["max_quiet_days"],
                                    max_deadletter_share=params["max_deadletter_share"])
        if problems:
            raise AirflowFailException("data-quality check failed: " + "; ".join(problems))
        return {"newest_indexed_at": newest.isoformat() if newest else None,
                "deadletter_share": deadletter_share(summary), "documents": documents}

    @task
    def drift_check(summary: dict, index: str) -> dict:
        """Template drift (pipeline.crawl.drift): this run's field coverage per section against the
        previous runs of the profile's window; fails without retries when a share moved too far."""
        from datetime import datetime

        from pipeline.crawl.drift import drift_alarms, record_coverage
        from pipeline.profile import get_profile
        from pipeline.store.writer import connect

        settings = settings_from_airflow()
        profile = get_profile(settings.site_profile_path)
        run_id = str(summary["extra"].get("run_id"))
        with connect(settings) as es:
            coverage = record_coverage(es, settings, profile, index, datetime.fromisoformat(summary["started_at"]),
                                       run_id)
            alarms = drift_alarms(es, settings, profile, run_id)
        if alarms:
            raise AirflowFailException("; ".join(alarms))
        return coverage

    @task(trigger_rule="all_done")
    def summary(summary: dict) -> dict:
        import logging

        log = logging.getLogger("mfa_nightly_crawl")
        # the check may have failed: its result is then absent, and the summary still goes out
        quality = get_current_context()["ti"].xcom_pull(task_ids="quality_check")
        for key in ("listed", "fetched", "not_modified", "new", "updated", "unchanged", "failed", "retries"):
            log.info("%s: %s", key, summary.get(key))
        log.info("quality: %s", quality if quality else "check did not pass (see quality_check)")
        return {**summary, "quality": quality}

    @task(trigger_rule="one_failed", retries=0)
    def fail_run() -> None:
        # The summary runs whatever happened, so it cannot tell the run's outcome: this leaf does.
        raise AirflowFailException("a task of the nightly crawl failed (see quality_check / crawl)")

    index = prepare_index()
    crawled = crawl(index)
    checked = quality_check(crawled, index)
    drifted = drift_check(crawled, index)
    [checked, drifted] >> summary(crawled)
    [crawled, checked, drifted] >> fail_run()

mfa_nightly_crawl()
