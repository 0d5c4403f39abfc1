"""The Celery tier: the DAGs on a real Airflow deployment (scripts/cluster.sh), driven through its REST API.

Started once per test run: the site replica (in this process, on 127.0.0.1), then
``scripts/cluster.sh up`` with the environment the workers need (the node, a
session alias, a shared state folder, the replica's address, quick retries),
stopped once the tier's last test ends unless MFA_KEEP_CLUSTER=1. Each test starts from empty
indices under the session alias.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
import requests

from mfa_replica.content import today_msk
from tests.conftest import REPO, delete_indices_like
from tests.replica.plugin import replica_overrides

CLUSTER_SH = REPO / "scripts" / "cluster.sh"
API_PORT = int(os.environ.get("MFA_CLUSTER_API_PORT", "8280"))
# Guards against a hung run, not a measure of speed: a run normally takes well under a minute.
RUN_TIMEOUT = 600
TODAY = today_msk()


def pytest_configure(config):
    config.addinivalue_line("markers", "cluster: runs DAGs on the local Celery deployment (scripts/cluster.sh)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "cluster" in Path(str(item.fspath)).parts:
            item.add_marker(pytest.mark.cluster)


class AirflowAPI:
    """The few calls of Airflow's REST API v2 the tests need, authenticated as the cluster's admin."""

    def __init__(self, base: str, password: str):
        self.base = base
        token = requests.post(f"{base}/auth/token", json={"username": "admin", "password": password}, timeout=30)
        token.raise_for_status()
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def _call(self, method: str, path: str, **kw) -> dict:
        resp = self.http.request(method, f"{self.base}/api/v2{path}", timeout=30, **kw)
        if resp.status_code >= 400:
            raise AssertionError(f"{method} {path}: {resp.status_code} {resp.text[:500]}")
        return resp.json()

    def wait_for_dag(self, dag_id: str) -> None:
        deadline = time.monotonic() + RUN_TIMEOUT
        while self.http.get(f"{self.base}/api/v2/dags/{dag_id}", timeout=30).status_code != 200:
            assert time.monotonic() < deadline, f"DAG {dag_id} never appeared (dag-processor log)"
            time.sleep(0.25)  # one cheap API call per poll
        self._call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def pause(self, dag_id: str) -> None:
        self._call("PATCH", f"/dags/{dag_id}", json={"is_paused": True})

    def trigger(self, dag_id: str, conf: dict) -> str:
        self.wait_for_dag(dag_id)
        return self._call("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf})["dag_run_id"]

    def run(self, dag_id: str, run_id: str) -> dict:
        return self._call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def wait(self, dag_id: str, run_id: str) -> str:
        deadline = time.monotonic() + RUN_TIMEOUT
        while (state := self.run(dag_id, run_id)["state"]) not in ("success", "failed"):
            assert time.monotonic() < deadline, f"run {run_id} still {state}"
            time.sleep(0.25)  # one cheap API call per poll
        return state

    def mapped(self, dag_id: str, run_id: str, task_id: str) -> list[dict]:
        body = self._call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/listMapped",
                          params={"limit": 1000})
        return sorted(body["task_instances"], key=lambda ti: ti["map_index"])

    def tries(self, dag_id: str, run_id: str, task_id: str, map_index: int) -> list[dict]:
        body = self._call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/tries")
        return sorted(body["task_instances"], key=lambda ti: ti["try_number"])

    def xcom(self, dag_id: str, run_id: str, task_id: str) -> object:
        return self._call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value",
                          params={"deserialize": True})["value"]


def _secrets(cluster_dir: Path) -> dict:
    lines = (cluster_dir / "secrets.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


@pytest.fixture(scope="package")
def cluster_replica():
    """One replica for the whole tier: the workers are started with its address."""
    from mfa_replica.server import Replica

    server = Replica().start()
    yield server
    server.stop()


# Package scope: the tier runs whole in one xdist worker (tests/conftest.py, SHARED_MODULES), and the
# deployment goes down as soon as its last test ends: idle, its scheduler, DAG processor, API server,
# triggerer and workers kept a core busy for the rest of that worker's run.
@pytest.fixture(scope="package")
def cluster(es, es_url, cluster_replica, tmp_path_factory):
    """The deployment, up once per tier; yields its settings (alias, shared state folder) and an API client."""
    alias = f"mfa-cluster-{uuid.uuid4().hex[:8]}"
    state = tmp_path_factory.mktemp("cluster-state")
    state.chmod(0o777)
    env = dict(os.environ)
    cluster_dir = Path(os.environ.get("MFA_CLUSTER_DIR") or Path(os.environ["MFA_STATE_DIR"]) / "cluster")
    env.update({
        "MFA_CLUSTER_DIR": str(cluster_dir),
        "MFA_ES_URL": es_url, "AIRFLOW_CONN_ELASTICSEARCH_DEFAULT": es_url,
        "MFA_INDEX_ALIAS": alias, "MFA_DEADLETTER_INDEX": f"{alias}-deadletter",
        "MFA_STATE_INDEX": f"{alias}-crawlstate", "MFA_STATE_DIR": str(state),
        # shared storage by URL, as on a real cluster (a shared mount here, a bucket in production)
        "MFA_WARC_URL": (state / "shared" / "warc").as_uri(),
        "MFA_DEADLETTER_URL": (state / "shared" / "deadletter").as_uri(),
        # a partition whose worker died is found after 20 s of silence and retried at once
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        "AIRFLOW__CORE__MAX_TASK_RETRY_DELAY": "2",
        # a task message a killed worker had reserved (late ack: it stays unacked in Redis) goes back to the
        # queue after 3 minutes, not the deployment's 6 hours: a worker killed as a partition was handed to it
        # left that partition queued for good (the run hung until RUN_TIMEOUT; 2 unacked, queue empty). 3 minutes
        # is above any task of the tier; the sweep looks every 10 s instead of every 100 s
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "180",
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__UNACKED_RESTORE_THROTTLE": "1",
        # the DAG files do not change during a run: parsed when the processor starts, not again every
        # 30 s (each parse imports the pipeline, CPU the tier's runs and the other workers' tests need)
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3600",
        # the nightly DAG runs only when a test triggers it (unpaused, its cron would add a run)
        "MFA_NIGHTLY_SCHEDULE": "none",
    })
    for name, value in replica_overrides(cluster_replica).items():
        env[f"MFA_{name.upper()}"] = json.dumps(value) if isinstance(value, list) else str(value)
    env["MFA_CRAWL_RATE_PER_HOST"] = "20"  # the pace the tier's timings (drains, a worker killed mid-partition) were set at
    started = time.monotonic()
    subprocess.run([str(CLUSTER_SH), "up"], check=True, env=env)
    print(f"\ncluster up in {time.monotonic() - started:.0f}s")
    api = AirflowAPI(f"http://127.0.0.1:{API_PORT}", _secrets(cluster_dir)["ADMIN_PASSWORD"])
    yield {"alias": alias, "state_dir": state, "api": api, "env": env, "cluster_dir": cluster_dir}
    delete_indices_like(es, alias)
    if not os.environ.get("MFA_KEEP_CLUSTER"):
        subprocess.run([str(CLUSTER_SH), "down"], check=False, env=env)


@pytest.fixture
def fresh(cluster, es, cluster_replica):
    """Empty indices under the session alias and an unchanged replica, before and after a test."""
    delete_indices_like(es, cluster["alias"])
    cluster_replica.clear_faults()
    yield cluster
    cluster_replica.clear_faults()
    delete_indices_like(es, cluster["alias"])


def in_range(replica, since: date, until: date) -> set[str]:
    """URLs of the replica's articles published from ``since`` to ``until`` (Moscow days)."""
    return {replica.article_url(a) for a in replica.live_articles() if since <= a.published.date() <= until}


def urls(es, alias) -> list[str]:
    es.indices.refresh(index=alias)
    return sorted(h["_source"]["url"] for h in es.search(index=alias, size=1000, source_includes=["url"])["hits"]["hits"])


def by_article(found) -> list[str]:
    """Each URL as the transcript it names (article and language, ids.state_key): a version is
    reached by its own listing or by a sibling's ?lang= link, whichever the walk meets first,
    and is one document either way; a duplicate shows as a repeated key."""
    from pipeline.context import get_profile
    from pipeline.model.ids import state_key

    rules = get_profile().site.identity
    return sorted(state_key(url, rules) for url in found)
