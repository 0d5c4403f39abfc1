"""``scripts/cluster.sh env`` (no cluster needed): export lines an operator sources before running
``airflow`` by hand against the cluster, the metadata database and the broker included."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import REPO


def test_cluster_env_prints_export_lines_with_the_database(tmp_path):
    env = {**os.environ, "MFA_CLUSTER_DIR": str(tmp_path / "cluster")}
    printed = subprocess.run([str(REPO / "scripts" / "cluster.sh"), "env"], env=env, capture_output=True,
                             text=True, timeout=300, check=True).stdout
    lines = [line for line in printed.splitlines() if line and not line.startswith("#")]
    assert lines and all(line.startswith("export ") for line in lines), printed
    # Sourced, the variables are the cluster's: PostgreSQL, not the development SQLite database.
    shown = subprocess.run(["bash", "-c", f"source <({REPO}/scripts/cluster.sh env) && "
                            "echo \"$AIRFLOW__DATABASE__SQL_ALCHEMY_CONN|$AIRFLOW__CELERY__BROKER_URL|$AIRFLOW_HOME\""],
                           env=env, capture_output=True, text=True, timeout=300, check=True).stdout.strip()
    database, broker, home = shown.split("|")
    assert database.startswith("postgresql+psycopg2://airflow:") and "@127.0.0.1:" in database
    assert broker.startswith("redis://") and home == str(tmp_path / "cluster" / "airflow")
