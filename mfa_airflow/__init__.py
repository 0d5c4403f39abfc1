"""mfa_airflow: the glue between Airflow and the pipeline library, used by the DAG files.

Installed with the project (not a file in dags/) so DAGs import it the same way
under the DAG processor, `airflow dags test` and `dag.test()`. Airflow is only
imported inside functions; pipeline/ itself never imports Airflow.

The library reads its settings from the environment (MFA_*); inside Airflow the
Elasticsearch location and credentials come from the ``elasticsearch_default``
connection and the site's address from the ``mfa_site`` connection instead, as
Airflow users expect (each falls back to the environment when the connection is
absent). Each task builds its run context once (``context_from_airflow``: those settings
and the profile they name, pipeline.context.RunContext) and hands it to the library; a
run report crosses XCom as ``model_dump(mode="json")`` (``log_report``) and is made whole
again with ``RunReport.model_validate``. Imports of the library happen in the task functions, so parsing a DAG
file does no work beyond reading the site profile for the params' allowed values.

Errors follow Airflow's conventions: what no retry can mend (a bad profile or
settings, params outside the profile's choices, a missing index design, refused
credentials, and the crawl's own verdicts: site unreachable after its retry window,
blocked, layout changed, nothing listed) raises ``AirflowFailException`` with the
advice in its text; the rest (Elasticsearch unreachable for a while, an unexpected
error) raises an ordinary exception and the task is retried.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

ES_CONN_ID = "elasticsearch_default"
# The site to crawl: an HTTP connection whose host (and port, schema) is the base URL;
# its extra may give "archive_url" and "allowed_private_hosts" (a replica on 127.0.0.1).
SITE_CONN_ID = "mfa_site"
# Every task that writes to the transcripts index runs in this pool. A crawl or a
# backfill partition takes one slot; a reindex task takes them all, so no crawl
# writes to the old index while the new one is built (what it wrote would be
# lost at the swap). Create it with that many slots:
#   airflow pools set mfa_index_writes 8 "writes to the transcripts index"
INDEX_WRITES_POOL = "mfa_index_writes"
INDEX_WRITES_SLOTS = 8
log = logging.getLogger(__name__)


def _connection(conn_id: str, fallback: str = "MFA_ES_URL"):
    from airflow.sdk import Connection

    try:
        return Connection.get(conn_id)
    except Exception as exc:  # AirflowNotFoundException: no such connection
        log.info("no Airflow connection %r (%s); using %s", conn_id, type(exc).__name__, fallback)
        return None


def es_url_from_connection(conn) -> str:
    """An http(s) URL from a connection given as a URI, an http conn or an elasticsearch conn."""
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else {}
    scheme = conn.conn_type if conn.conn_type in ("http", "https") else extra.get("scheme", "http")
    host = conn.host or "127.0.0.1"
    if "://" in host:  # a full URL typed into the host field
        return host.rstrip("/")
    port = f":{conn.port}" if conn.port else ""
    path = f"/{conn.schema}" if conn.schema else ""
    return f"{scheme}://{host}{port}{path}"


def site_values_from_connection(conn) -> dict:
    """Settings fields of the site connection: the base URL, and from its extra the archive
    portal's URL and the hosts allowed to resolve to private addresses."""
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else {}
    values: dict = {"crawl_base_url": es_url_from_connection(conn)}
    if extra.get("archive_url"):
        values["crawl_archive_url"] = extra["archive_url"]
    if extra.get("allowed_private_hosts"):
        hosts = extra["allowed_private_hosts"]
        values["crawl_allowed_private_hosts"] = [hosts] if isinstance(hosts, str) else list(hosts)
    return values


def settings_from_airflow(conn_id: str = ES_CONN_ID, site_conn_id: str = SITE_CONN_ID, **overrides):
    """The pipeline Settings: Elasticsearch from its Airflow connection, the site from ``mfa_site``,
    each when it exists (else the MFA_* environment)."""
    from pipeline.settings import Settings

    values: dict = {}
    site = _connection(site_conn_id, fallback="MFA_CRAWL_BASE_URL")
    if site is not None:
        values.update(site_values_from_connection(site))
    conn = _connection(conn_id)
    if conn is not None:
        values["es_url"] = es_url_from_connection(conn)
        if conn.login:
            values["es_username"] = conn.login
            values["es_password"] = conn.password
        api_key = (conn.extra_dejson or {}).get("api_key") if hasattr(conn, "extra_dejson") else None
        if api_key:
            values["es_api_key"] = api_key
        extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else {}
        if extra.get("ca_certs"):  # the CA of a node with its own certificates (docker/, docs/deployment.md)
            values["es_ca_certs"] = extra["ca_certs"]
        if "verify_certs" in extra:
            values["es_verify_certs"] = extra["verify_certs"]
    values.update({k: v for k, v in overrides.items() if v is not None})
    with permanent_errors():
        return Settings(**values)


def context_from_airflow(**overrides):
    """The task's run context (pipeline.context.RunContext): settings_from_airflow and the profile
    they name, loaded once; build it once per task and hand it down (``with`` closes its client)."""
    from pipeline.context import RunContext

    settings = settings_from_airflow(**overrides)
    with permanent_errors():
        return RunContext.build(settings)


def profile_choices() -> dict[str, list[str]]:
    """Allowed values of the DAG params, from the site profile: crawl sections and languages.

    Read when a DAG file is parsed (a small YAML file); a broken profile gives no
    choices here and fails the first task instead of hiding the DAG.
    """
    try:
        from pipeline.context import RunContext

        crawl = RunContext.build().profile.crawl
        return {"sections": [s.name for s in crawl.sections], "languages": list(crawl.languages)}
    except Exception as exc:  # reported by check_params at run time
        log.warning("site profile unreadable at parse time: %s", exc)
        return {"sections": [], "languages": []}


def choice_list_param(name: str, choices: list[str], description: str):
    """An optional list param whose items must be among ``choices`` (checked when a run is triggered)."""
    from airflow.sdk import Param

    items: dict = {"type": "string", **({"enum": choices} if choices else {})}
    return Param(None, type=["null", "array"], items=items, description=f"{description}; one or more of: "
                 + (", ".join(choices) or "the site profile's names"))


def check_params(params: dict) -> None:
    """Fail the run at once (no retries) when params name sections or languages the profile lacks."""
    from airflow.sdk.exceptions import AirflowFailException

    crawl = context_from_airflow().profile.crawl
    wanted = {"sections": [s.name for s in crawl.sections], "languages": list(crawl.languages)}
    for key, allowed in wanted.items():
        bad = [v for v in (params.get(key) or []) if v not in allowed]
        if bad:
            raise AirflowFailException(f"invalid param {key}: {', '.join(map(str, bad))} "
                                       f"(choose from: {', '.join(allowed)})")


class permanent_errors:
    """Turn errors no retry can mend into AirflowFailException; let the others through (retried)."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None:
            return False
        reason = permanent_reason(exc)
        if reason is not None:
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(reason) from exc
        return False


def permanent_reason(exc: BaseException) -> str | None:
    """The message of a permanent error, or None when retrying may help."""
    from pydantic import ValidationError

    from pipeline.model.errors import ConfigError
    from pipeline.store.client import error_kind

    if isinstance(exc, ConfigError):
        return f"configuration error: {exc.reason}"
    if isinstance(exc, ValidationError):
        return f"invalid settings: {exc}"
    kind = error_kind(exc)
    if kind in ("credentials", "forbidden"):
        return f"Elasticsearch refused us ({exc.meta.status}): check the {ES_CONN_ID} connection's credentials"
    if kind == "missing":
        return f"missing in Elasticsearch (index or index design): {exc}"
    return None


def fail_on_crawl_problems(report) -> None:
    """Fail the task, without retries, when the crawl could not do its job: site unreachable,
    blocked, layout changed, nothing listed (RunReport.crawl_problems: one line each, with
    its advice).

    None of these is mended by an Airflow retry minutes later: the crawl already retried the
    site within its own retry window (MFA_CRAWL_MAX_RETRIES, backoff), a blocking host is asked
    nothing more after a few challenges (the profile's crawl.blocked.give_up_after) and asking
    sooner makes it worse, and a changed layout needs the profile fixed. So the run is red at
    once and the next scheduled run is the retry; the task's retries stay for what is transient
    inside one run (Elasticsearch away for a while, an unexpected error).
    """
    from airflow.sdk.exceptions import AirflowFailException

    problems = report.crawl_problems()  # a pipeline.report.RunReport
    if problems:
        raise AirflowFailException("crawl failed: " + "; ".join(problems))


def prepare_write_index(index: str | None = None) -> str:
    """The write target of a run: ``index`` when given, else the alias (created with its first index if missing)."""
    from pipeline.store.design import ensure_index

    if index:
        return index
    with context_from_airflow() as ctx, permanent_errors():
        return ensure_index(ctx.es, ctx.settings)


def log_estimate(params: dict) -> str:
    """Log (and return) what a site backfill of ``params`` will send and how long that takes
    (pipeline.crawl.estimate), before the partitions fan out."""
    from datetime import date

    from pipeline.crawl.estimate import estimate_crawl

    try:
        with context_from_airflow() as ctx:
            found = estimate_crawl(ctx, since=date.fromisoformat(params["since"]),
                                   until=date.fromisoformat(params["until"]), sections=params.get("sections") or None,
                                   languages=params.get("languages") or None, index=params.get("index") or None)
    except Exception as exc:  # an estimate informs; the partitions report the site's trouble themselves
        log.warning("backfill %s..%s: no estimate (%s: %s)", params["since"], params["until"], type(exc).__name__, exc)
        return ""
    log.info("backfill %s..%s %s", params["since"], params["until"], found.line())
    return found.line()


def fold_same_transcripts(index: str) -> int:
    """Fold the URL-less documents of ``index`` into the crawled documents of the same transcripts
    (pipeline.store.writer.fold_same_transcripts); how many were folded."""
    from pipeline.store.writer import fold_same_transcripts as fold

    with context_from_airflow() as ctx, permanent_errors():
        return fold(ctx.es, index, retry_window=ctx.settings.es_retry_window)


def resolve_input_path(path: str) -> Path | str:
    """Relative DAG params are relative to the project folder (MFA_REPO or the library's repo); URLs stay URLs."""
    if "://" in path:  # file:///..., s3://...: read through pipeline.storage
        return path
    candidate = Path(path).expanduser()
    if candidate.is_absolute():
        return candidate
    from pipeline.settings import REPO_ROOT

    return Path(os.environ.get("MFA_REPO", REPO_ROOT)) / candidate


def log_report(report) -> dict:
    """Write the run summary (and one line per failure class) to the task log; return the report as
    it crosses XCom, ``model_dump(mode="json")`` (``RunReport.model_validate`` makes it whole again)."""
    for line in report.summary_lines() + report.class_lines():
        log.info(line)
    return report.model_dump(mode="json")



def worker_hostname() -> str:
    """The host name a task instance records: MFA_WORKER_HOSTNAME when set, else the machine's FQDN.

    Set as ``[core] hostname_callable`` by scripts/cluster.sh, whose Celery workers share one
    machine: without it every task instance would name the same host.
    """
    import socket

    return os.environ.get("MFA_WORKER_HOSTNAME") or socket.getfqdn()
