"""mfa_nightly_crawl through real Airflow (dag.test()): the site replica -> the real node.

Also the data-quality rules the DAG applies (RunReport.quality_problems).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.report import RunReport
from tests.replica.plugin import replica_overrides

NOW = datetime(2026, 1, 10, tzinfo=timezone.utc)


def quality_problems(fields: dict, newest, **limits) -> list[str]:
    return RunReport(**fields).quality_problems(newest, **limits)


def test_quality_rules():
    fine = {"listed": 10, "fetched": 10, "new": 2, "updated": 0, "unchanged": 7, "failed": 1}
    assert quality_problems(fine, NOW - timedelta(days=30), now=NOW, max_quiet_days=7, max_deadletter_share=0.2) == []
    quiet = {"listed": 10, "fetched": 0, "new": 0, "updated": 0, "failed": 0}
    assert quality_problems(quiet, NOW - timedelta(days=3), now=NOW, max_quiet_days=7, max_deadletter_share=0.2) == []
    (problem,) = quality_problems(quiet, NOW - timedelta(days=9), now=NOW, max_quiet_days=7, max_deadletter_share=0.2)
    assert "nothing new for 9 days" in problem
    assert "nothing indexed yet" in quality_problems(quiet, None, now=NOW, max_quiet_days=7,
                                                     max_deadletter_share=0.2)[0]
    refused = {"listed": 10, "fetched": 10, "new": 7, "updated": 0, "failed": 3}  # 3 of 10 attempted
    (problem,) = quality_problems(refused, NOW, now=NOW, max_quiet_days=7, max_deadletter_share=0.2)
    assert "dead-letter share 30.0%" in problem


@pytest.fixture
def nightly_env(es_url, index_alias, replica, monkeypatch, tmp_path):
    """Airflow sees the node only through its connection and crawls the replica (MFA_CRAWL_* variables)."""
    monkeypatch.setenv("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT", es_url)
    monkeypatch.setenv("MFA_ES_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MFA_STATE_DIR", str(tmp_path / "state"))
    for name, value in replica_overrides(replica).items():
        monkeypatch.setenv(f"MFA_{name.upper()}", json.dumps(value) if isinstance(value, list) else str(value))
    return replica


def summary_of(run) -> dict:
    return run.get_task_instance("summary").xcom_pull(task_ids="summary")


def test_nightly_crawl_indexes_the_replica_then_finds_nothing_new(dagbag, es, index_alias, nightly_env, capfd, caplog):
    dag = dagbag.get_dag("mfa_nightly_crawl")
    assert (dag.catchup, dag.max_active_runs) == (False, 1)
    assert dag.default_args["retry_exponential_backoff"] > 1 and dag.default_args["retries"] >= 1
    conf = {"lookback_days": 30, "index": None, "max_quiet_days": 7, "max_deadletter_share": 0.2}

    first = dag.test(run_conf=conf)
    assert first.state == "success"
    assert first.get_task_instance("fail_run").state == "skipped"
    live = len([a for a in nightly_env.live_articles() if a.site == "current"])  # the archive: backfill only
    es.indices.refresh(index=index_alias)
    assert es.count(index=index_alias)["count"] == live
    summary = summary_of(first)
    assert (summary["new"], summary["failed"]) == (live, 0)
    assert summary["quality"]["documents"] == live
    assert first.get_task_instance("redrive").state == "success" and summary["redrive"]["read"] == 0

    capfd.readouterr()
    second = dag.test(run_conf=conf)
    assert second.state == "success"
    out, err = capfd.readouterr()  # dag.test writes the task log to the console
    assert f"revisits: scheduled 0 (0 fresh, 0 at their interval), sent 0, edits caught 0; known and not due {live}" \
        in out + err + caplog.text
    summary = summary_of(second)
    assert (summary["new"], summary["updated"]) == (0, 0)
    # The same night: the revisit policy schedules no conditional GET yet; every listed item is known, not due.
    assert (summary["revalidations_scheduled"], summary["not_modified"], summary["not_due"]) == (0, 0, live)
    es.indices.refresh(index=index_alias)
    assert es.count(index=index_alias)["count"] == live


def _no_retries(dag, monkeypatch) -> None:
    for task in dag.tasks:  # no retry waits inside the test
        monkeypatch.setattr(task, "retries", 0)


def _states(run) -> dict:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


# 30 days: the look-back walks the date-filtered listing day by day (the replica dates items relative to today)
CONF = {"lookback_days": 30, "index": None, "max_quiet_days": 7, "max_deadletter_share": 0.2}


def _task_log(capfd) -> str:
    """What the run's tasks logged, their exceptions included (dag.test runs them in this process
    and writes their log to the console)."""
    out, err = capfd.readouterr()
    return out + err


@pytest.mark.parametrize("outage", ["stopped", "closed_port", "503_everywhere"])
def test_nightly_crawl_of_an_unreachable_site_fails_naming_it_and_still_reports(dagbag, es, index_alias,
                                                                               nightly_env, monkeypatch,
                                                                               capfd, outage):
    dag = dagbag.get_dag("mfa_nightly_crawl")
    _no_retries(dag, monkeypatch)
    if outage == "stopped":
        nightly_env.stop()
    elif outage == "closed_port":
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        monkeypatch.setenv("MFA_CRAWL_BASE_URL", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("MFA_CRAWL_ARCHIVE_URL", f"http://127.0.0.1:{port}")
    else:
        nightly_env.add_fault("status", match="/", count=100000, arg=503)  # the site is down all night
    run = dag.test(run_conf=CONF)
    assert run.state == "failed"
    states = _states(run)
    assert states["crawl"] == "failed"
    assert states["quality_check"] == "upstream_failed"
    assert states["summary"] == "success"  # the summary goes out whatever failed
    assert states["fail_run"] == "failed"
    assert "AirflowFailException: crawl failed: site unreachable" in _task_log(capfd)
    summary = summary_of(run)
    assert summary["new"] == 0 and summary["failed"] >= 1 and summary["failure_share"] == 1.0
    assert summary["quality"] is None


def test_nightly_crawl_of_a_blocking_site_fails_naming_blocked_and_passes_otherwise(dagbag, es, index_alias,
                                                                                  nightly_env, monkeypatch, capfd):
    """The replica's ``blocked`` fault set (every page the anti-bot challenge, HTTP 200): the crawl task
    fails naming the class and the first URLs, the summary still reports; without it the same run passes."""
    from mfa_replica.server import apply_faults

    dag = dagbag.get_dag("mfa_nightly_crawl")
    _no_retries(dag, monkeypatch)
    apply_faults(nightly_env, ["blocked"])
    run = dag.test(run_conf=CONF)
    assert run.state == "failed"
    states = _states(run)
    assert states["crawl"] == "failed" and states["quality_check"] == "upstream_failed"
    assert states["summary"] == "success" and states["fail_run"] == "failed"
    summary = summary_of(run)
    blocked = summary["failures_by_kind"].get("blocked", 0)
    assert blocked >= 1 and summary["new"] == 0 and summary["quality"] is None
    first = summary["first_by_kind"]["blocked"]
    assert first and all(url.startswith((nightly_env.base_url, nightly_env.archive_url)) for url in first)
    log = _task_log(capfd)
    (message,) = [line for line in log.splitlines() if "AirflowFailException: crawl failed:" in line][:1]
    assert f"blocked: {blocked} anti-bot answers; first: {first[0]}" in message, message
    assert "site unreachable" not in message  # the site answered: not the same alarm

    nightly_env.clear_faults()  # the challenge is gone: the same run passes
    again = dag.test(run_conf=CONF)
    assert again.state == "success", _states(again)
    assert summary_of(again)["new"] == len([a for a in nightly_env.live_articles() if a.site == "current"])


def test_nightly_crawl_with_a_bad_sections_param_fails_at_once(dagbag, es, index_alias, nightly_env):
    from airflow.sdk.exceptions import ParamValidationError

    dag = dagbag.get_dag("mfa_nightly_crawl")
    from pipeline.context import get_profile

    assert dag.params.get_param("sections").schema["items"]["enum"] == [s.name for s in get_profile().crawl.sections]
    with pytest.raises(ParamValidationError, match="nope"):  # refused when the run is made: no task, no retry
        dag.test(run_conf={**CONF, "sections": ["nope"]})
    assert nightly_env.hits() == []


def test_every_dag_param_naming_profile_values_lists_them_as_an_enum(dagbag):
    """sections, languages and kinds params, in any DAG, offer exactly the profile's values (the trigger form
    shows them, a wrong one is refused before a task runs)."""
    from pipeline.context import get_profile

    crawl = get_profile().crawl
    allowed = {"sections": [s.name for s in crawl.sections], "languages": list(crawl.languages),
               "kinds": list(dict.fromkeys(s.kind for s in crawl.sections))}
    seen = []
    for dag_id, dag in sorted(dagbag.dags.items()):
        for name in allowed.keys() & set(dag.params.keys()):
            items = dag.params.get_param(name).schema["items"]
            assert sorted(items.get("enum", [])) == sorted(allowed[name]), (dag_id, name)
            seen.append((dag_id, name))
    assert {("mfa_nightly_crawl", "sections"), ("mfa_nightly_crawl", "languages"),
            ("mfa_backfill", "sections"), ("mfa_backfill", "languages")} <= set(seen)


def test_a_permanent_error_fails_without_retries_and_the_summary_still_reports(dagbag, es, index_alias,
                                                                              nightly_env, monkeypatch, capfd):
    dag = dagbag.get_dag("mfa_nightly_crawl")
    assert dag.get_task("crawl").retries >= 1  # retries are there, and a permanent error does not use them
    monkeypatch.setenv("MFA_SITE_PROFILE", "/nonexistent/site.yaml")  # read by the first task, after parsing
    run = dag.test(run_conf=CONF)
    assert run.state == "failed"
    states = _states(run)
    assert states["check"] == "failed"
    check = run.get_task_instance("check")
    assert check.try_number <= 1
    assert "AirflowFailException: configuration error: cannot read site profile" in _task_log(capfd)
    assert states["crawl"] == "upstream_failed"
    assert states["summary"] == "success" and states["fail_run"] == "failed"
    assert summary_of(run)["quality"] is None
    assert nightly_env.hits() == []


def test_the_site_comes_from_the_mfa_site_connection(dagbag, es, index_alias, nightly_env, monkeypatch):
    monkeypatch.setenv("MFA_CRAWL_BASE_URL", "http://127.0.0.1:9")  # the fallback: would fail the run
    monkeypatch.setenv("MFA_CRAWL_ARCHIVE_URL", "http://127.0.0.1:9")
    port = int(nightly_env.base_url.rstrip("/").rsplit(":", 1)[1])
    monkeypatch.setenv("AIRFLOW_CONN_MFA_SITE", json.dumps({
        "conn_type": "http", "host": "127.0.0.1", "port": port,
        "extra": {"archive_url": nightly_env.archive_url,
                  "allowed_private_hosts": replica_overrides(nightly_env)["crawl_allowed_private_hosts"]}}))
    dag = dagbag.get_dag("mfa_nightly_crawl")
    _no_retries(dag, monkeypatch)
    run = dag.test(run_conf=CONF)
    assert run.state == "success"
    assert summary_of(run)["new"] == len([a for a in nightly_env.live_articles() if a.site == "current"])  # nightly: not the old portal


def test_nightly_crawl_fails_on_template_drift_and_passes_otherwise(dagbag, es, index_alias, nightly_env,
                                                                   monkeypatch):
    """The replica drops the time element: the share of documents with a time falls from 100% to 0%."""
    from mfa_replica.content import today_msk

    dag = dagbag.get_dag("mfa_nightly_crawl")
    for task in dag.tasks:
        monkeypatch.setattr(task, "retries", 0)
    conf = {"lookback_days": 30, "index": None, "max_quiet_days": 7, "max_deadletter_share": 0.2}
    first = dag.test(run_conf=conf)
    assert first.state == "success"
    assert first.get_task_instance("drift_check").state == "success"
    nightly_env.fill_day(today_msk(), 4, section="minister_speeches", first_id=1790100)
    second = dag.test(run_conf=conf)  # new items, same template: no alarm
    assert second.state == "success"

    nightly_env.options.no_time = True
    nightly_env.fill_day(today_msk(), 4, section="minister_speeches", first_id=1790200)
    third = dag.test(run_conf=conf)
    assert third.state == "failed"
    states = {ti.task_id: ti.state for ti in third.get_task_instances()}
    assert states["drift_check"] == "failed" and states["crawl"] == "success"
    assert states["summary"] == "success" and states["fail_run"] == "failed"


@pytest.mark.parametrize("fault, reason, advice", [
    ("down", "site unreachable:", "MFA_CRAWL_BASE_URL"),
    ("blocked", "blocked:", "MFA_CRAWL_RATE_PER_HOST"),
    ("template", "layout changed:", "check-site"),
])
def test_nightly_is_red_at_once_with_its_reason_and_advice_and_green_once_the_fault_clears(
        dagbag, es, index_alias, nightly_env, monkeypatch, capfd, fault, reason, advice):
    """The replica's named faults under the DAG's own retries (their delay cut to a second, so a
    retry would show, not wait): the crawl task fails on its first try (no up_for_retry, so the
    run is red as soon as the crawl has its verdict), and the failure is one line with the class,
    the reason and the advice."""
    import time

    from mfa_replica.pages import PageOptions
    from mfa_replica.server import apply_faults

    dag = dagbag.get_dag("mfa_nightly_crawl")
    assert dag.get_task("crawl").retries >= 1
    for task in dag.tasks:
        monkeypatch.setattr(task, "retry_delay", timedelta(seconds=1))
        monkeypatch.setattr(task, "retry_exponential_backoff", 0)
    apply_faults(nightly_env, [fault])
    started = time.monotonic()
    run = dag.test(run_conf=CONF)
    took = time.monotonic() - started
    assert run.state == "failed", run.state
    print(f"{fault}: red after {took:.1f} s")  # a figure, not an assertion: no try waits for a retry
    crawl = run.get_task_instance("crawl")
    assert crawl.state == "failed" and crawl.try_number == 1  # no up_for_retry on the way
    lines = [line for line in _task_log(capfd).splitlines() if "AirflowFailException: crawl failed: " in line]
    assert lines, "the crawl task's failure is not in the log"
    message = lines[0].split("AirflowFailException: crawl failed: ", 1)[1]
    assert message.startswith(reason) and advice in message, message
    assert "slow down" not in message or fault == "blocked", message  # a redesign is not an anti-bot answer

    nightly_env.clear_faults()
    nightly_env.options = PageOptions()
    again = dag.test(run_conf=CONF)
    assert again.state == "success", _states(again)
