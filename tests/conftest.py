"""Shared test fixtures.

Tiers: tests/unit (no services), tests/integration (the real Elasticsearch node),
tests/e2e (real Airflow + Elasticsearch + the site replica). The environment is
the one scripts/env.sh gives the project's scripts, read once here, so pytest run
by hand behaves like scripts/test.sh. Elasticsearch is started once per session
(or reused when it already answers); each test gets its own index names.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DUMPS = REPO / "sample" / "dumps"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


# The caller's MFA_* variables the suite keeps: the node to use, the variables scripts/env.sh
# itself takes from the caller, and the knobs of the scripts that start services (heap,
# start-up timeout, the cluster's ports). Every other MFA_* (a settings field, the nightly
# schedule, ...) would change what the tests see, so it is dropped.
_CALLER_MFA_KEPT = ("MFA_ES_URL", "MFA_STATE_DIR", "MFA_VENV", "MFA_ES_VERSION", "MFA_ES_HEAP",
                    "MFA_ES_START_TIMEOUT", "MFA_KEEP_ES", "MFA_KEEP_CLUSTER", "MFA_PYTHON")


def _drop_callers_mfa_env() -> None:
    for key in [k for k in os.environ if k.startswith("MFA_")]:
        if key not in _CALLER_MFA_KEPT and not key.startswith("MFA_CLUSTER_"):
            del os.environ[key]


def _load_project_env() -> None:
    """Take the variables scripts/env.sh sets, without overriding the caller's."""
    out = subprocess.run(
        ["bash", "-c", f"source '{REPO}/scripts/env.sh' && env -0"],
        check=True, capture_output=True,
    ).stdout.decode()
    for entry in out.split("\0"):
        key, sep, value = entry.partition("=")
        if sep and (key.startswith(("MFA_", "AIRFLOW")) and key not in os.environ):
            os.environ[key] = value


_drop_callers_mfa_env()
_load_project_env()

# The site replica's fixtures (replica, replica_settings): tests/replica/plugin.py
pytest_plugins = ["tests.replica.plugin"]


def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = Path(str(item.fspath)).parts
        if "integration" in parts:
            item.add_marker(pytest.mark.integration)
        elif "e2e" in parts:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def es_url() -> str:
    return os.environ["MFA_ES_URL"]


@pytest.fixture(scope="session")
def es(es_url):
    """A client of the real node; starts it with scripts/es.sh when it does not answer."""
    from elasticsearch import Elasticsearch

    client = Elasticsearch(es_url, request_timeout=60)
    if not client.options(request_timeout=2).ping():
        subprocess.run([str(REPO / "scripts" / "es.sh"), "start"], check=True)
    client.cluster.health(wait_for_status="yellow", timeout="60s")
    yield client
    client.close()


def delete_indices_like(es, prefix: str) -> None:
    """Delete every index, alias target and index template whose name starts with ``prefix``."""
    names = list(es.indices.get(index=f"{prefix}*", expand_wildcards="all").keys())
    if names:
        es.indices.delete(index=",".join(names), ignore_unavailable=True)
    quiet = es.options(ignore_status=404)
    templates = quiet.indices.get_index_template(name=f"{prefix}*").get("index_templates", [])
    for tpl in templates:
        quiet.indices.delete_index_template(name=tpl["name"])


@pytest.fixture
def index_alias(es, monkeypatch):
    """A fresh alias name for one test (MFA_INDEX_ALIAS is set to it); cleaned up after."""
    alias = f"mfa-test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("MFA_INDEX_ALIAS", alias)
    monkeypatch.setenv("MFA_DEADLETTER_INDEX", f"{alias}-deadletter")
    monkeypatch.setenv("MFA_STATE_INDEX", f"{alias}-crawlstate")
    from pipeline.context import get_settings

    get_settings.cache_clear()  # commands run in-process read the settings of this test
    yield alias
    get_settings.cache_clear()
    delete_indices_like(es, alias)


@pytest.fixture
def settings(index_alias, tmp_path):
    """Settings pointing at the real node, a fresh alias and a temporary state folder."""
    from pipeline.settings import Settings

    return Settings(index_alias=index_alias, deadletter_index=f"{index_alias}-deadletter",
                    state_index=f"{index_alias}-crawlstate", state_dir=tmp_path / "state")


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's SQLite metadata DB, migrated once (quick when already done)."""
    subprocess.run([str(REPO / "scripts" / "airflow.sh"), "init"], check=True)
    return Path(os.environ["AIRFLOW_HOME"])


@pytest.fixture(scope="session")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))
