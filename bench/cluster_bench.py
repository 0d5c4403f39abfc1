"""Benchmark: one archive, split into P partitions, backfilled on the local Celery cluster.

    .venv/bin/python bench/cluster_bench.py [--pages 3000] [--partitions 1,2,4,8]

Writes ``--pages`` synthetic article pages (bench/replay_bench.py's) into P WARC
files of equal size for each P, brings the cluster up (scripts/cluster.sh, the
node at MFA_ES_URL), triggers mfa_backfill through the REST API on each split
into a fresh alias and prints, per P: the run's wall time, pages per second, the
mean time a partition ran and the time Airflow spent around the partitions
(the sum of partition times against the wall time). Figures only; the cluster is left up (cluster.sh down).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from replay_bench import synthetic_pages  # noqa: E402

from tests.cluster.conftest import API_PORT, AirflowAPI, _secrets  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.store import design  # noqa: E402
from pipeline.store.client import connect  # noqa: E402


def write_split(folder: Path, pages: int, parts: int) -> list[str]:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    folder.mkdir(parents=True)
    all_pages = list(synthetic_pages(pages))
    files = []
    for p in range(parts):
        path = folder / f"part-{p:03d}.warc.gz"
        with open(path, "wb") as fh:
            writer = WARCWriter(fh, gzip=True)
            for url, page in all_pages[p::parts]:
                body = page.encode("utf-8")
                headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                           protocol="HTTP/1.1")
                writer.write_record(writer.create_warc_record(url, "response", payload=BytesIO(body),
                                                              http_headers=headers))
        files.append(str(path))
    return files


def seconds(ti: dict) -> float:
    return (datetime.fromisoformat(ti["end_date"]) - datetime.fromisoformat(ti["start_date"])).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--partitions", default="1,2,4,8")
    args = parser.parse_args()
    state = Path(os.environ.get("MFA_STATE_DIR", ROOT / ".state"))
    cluster_dir = Path(os.environ.get("MFA_CLUSTER_DIR", state / "cluster"))
    alias = f"mfa-bench-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "MFA_INDEX_ALIAS": alias, "MFA_STATE_INDEX": f"{alias}-crawlstate",
           "MFA_DEADLETTER_INDEX": f"{alias}-deadletter", "MFA_CLUSTER_DIR": str(cluster_dir)}
    env.setdefault("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT", env.get("MFA_ES_URL", "http://127.0.0.1:9200"))
    subprocess.run([str(ROOT / "scripts" / "cluster.sh"), "up"], check=True, env=env)
    api = AirflowAPI(f"http://127.0.0.1:{API_PORT}", _secrets(cluster_dir)["ADMIN_PASSWORD"])
    workdir = Path(tempfile.mkdtemp(prefix="mfa-cluster-bench-"))
    print(f"{args.pages} pages; workers: {os.environ.get('MFA_CLUSTER_WORKERS', '2')} x concurrency "
          f"{os.environ.get('MFA_CLUSTER_WORKER_CONCURRENCY', '2')}")
    print(f"{'partitions':>10} {'wall s':>8} {'pages/s':>8} {'mean part s':>12} {'sum part s':>11}")
    es = connect(Settings(es_url=env.get("MFA_ES_URL", "http://127.0.0.1:9200")))
    for parts in (int(p) for p in args.partitions.split(",")):
        files = write_split(workdir / f"split-{parts}", args.pages, parts)
        started = time.monotonic()
        run_id = api.trigger("mfa_backfill", {"archive_inputs": files, "index": None})
        state_ = api.wait("mfa_backfill", run_id)
        wall = time.monotonic() - started
        tis = api.mapped("mfa_backfill", run_id, "run_partition")
        mean = sum(seconds(t) for t in tis) / len(tis)
        design.refresh(es, alias)
        count = design.count(es, alias)
        design.delete_like(es, alias)  # every split starts from an empty index
        print(f"{parts:>10} {wall:>8.1f} {args.pages / wall:>8.1f} {mean:>12.1f} {sum(map(seconds, tis)):>11.1f}"
              f"  {state_}, {count} documents")


if __name__ == "__main__":
    main()
