"""mfa_airflow: the glue between Airflow and the pipeline library, used by the DAG files.

Installed with the project (not a file in dags/) so DAGs import it the same way
under the DAG processor, `airflow dags test` and `dag.test()`. Airflow is only
imported inside functions; pipeline/ itself never imports Airflow.

The library reads its settings from the environment (MFA_*); inside Airflow the
Elasticsearch location and credentials come from the ``elasticsearch_default``
connection instead, as Airflow users expect. Imports of the library happen in
the task functions, so parsing a DAG file does no work.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

ES_CONN_ID = "elasticsearch_default"
# Every task that writes to the transcripts index runs in this pool. A crawl or a
# backfill partition takes one slot; a reindex task takes them all, so no crawl
# writes to the old index while the new one is built (what it wrote would be
# lost at the swap). Create it with that many slots:
#   airflow pools set mfa_index_writes 8 "writes to the transcripts index"
INDEX_WRITES_POOL = "mfa_index_writes"
INDEX_WRITES_SLOTS = 8
log = logging.getLogger(__name__)


def _connection(conn_id: str):
    from airflow.sdk import Connection

    try:
        return Connection.get(conn_id)
    except Exception as exc:  # AirflowNotFoundException: no such connection
        log.info("no Airflow connection %r (%s); using MFA_ES_URL", conn_id, type(exc).__name__)
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


def settings_from_airflow(conn_id: str = ES_CONN_ID, **overrides):
    """The pipeline Settings, with Elasticsearch taken from the Airflow connection when it exists."""
    from pipeline.settings import Settings

    values: dict = {}
    conn = _connection(conn_id)
    if conn is not None:
        values["es_url"] = es_url_from_connection(conn)
        if conn.login:
            values["es_username"] = conn.login
            values["es_password"] = conn.password
        api_key = (conn.extra_dejson or {}).get("api_key") if hasattr(conn, "extra_dejson") else None
        if api_key:
            values["es_api_key"] = api_key
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)


def prepare_write_index(index: str | None = None) -> str:
    """The write target of a run: ``index`` when given, else the alias (created with its first index if missing)."""
    from pipeline.store.client import connect
    from pipeline.store.design import ensure_index

    if index:
        return index
    settings = settings_from_airflow()
    with connect(settings) as es:
        return ensure_index(es, settings)


def resolve_input_path(path: str) -> Path:
    """Relative DAG params are relative to the project folder (MFA_REPO or the library's repo)."""
    candidate = Path(path).expanduser()
    if candidate.is_absolute():
        return candidate
    from pipeline.settings import REPO_ROOT

    return Path(os.environ.get("MFA_REPO", REPO_ROOT)) / candidate


def log_report(report) -> dict:
    """Write the run summary to the task log and return it as data for XCom."""
    for line in report.summary_lines():
        log.info(line)
    return report.as_dict()

