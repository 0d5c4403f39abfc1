"""Benchmark: crawl the local replica at a given rate and print what it took.

    .venv/bin/python bench/crawl_bench.py [--rate 20] [--runs 2]

Needs the local Elasticsearch node (scripts/es.sh start). Uses a throw-away alias
and state index (deleted afterwards). Prints, per run: wall time, requests seen
by the replica, the smallest gap between two requests and the mean rate, and the
report's counters. No assertions: figures only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.crawl.crawler import run_crawl  # noqa: E402
from pipeline.store.client import connect  # noqa: E402
from pipeline.context import RunContext  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from tests.replica.plugin import replica_overrides  # noqa: E402
from mfa_replica.server import Replica  # noqa: E402


def min_gap(times: list[float]) -> float:
    times = sorted(times)
    return min((b - a for a, b in zip(times, times[1:])), default=float("nan"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    replica = Replica().start()
    alias = f"mfa-bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_alias=alias, state_index=f"{alias}-state", deadletter_index=f"{alias}-dl",
                            state_dir=Path(tmp), **{**replica_overrides(replica), "crawl_rate_per_host": args.rate})
        es = connect(settings)
        try:
            for run in range(1, args.runs + 1):
                replica.clear_log()
                t0 = time.monotonic()
                report = run_crawl(RunContext.build(settings, es=es))
                wall = time.monotonic() - t0
                hits = replica.hits()
                times = [h.at for h in hits]
                print(f"run {run}: {wall:.2f}s, {len(hits)} requests, smallest gap {min_gap(times) * 1000:.1f} ms "
                      f"(limit {1000 / args.rate:.1f} ms), mean {(len(hits) - 1) / (max(times) - min(times)):.2f} req/s; listed {report.listed}, fetched {report.fetched}, "
                      f"304 {report.not_modified}, new {report.new}, updated {report.updated}, "
                      f"retries {report.retries}, bytes {report.bytes}")
        finally:
            names = list(es.indices.get(index=f"{alias}*").keys())
            if names:
                es.indices.delete(index=",".join(names))
            es.options(ignore_status=404).indices.delete_index_template(name=f"{alias}*")
            replica.stop()


if __name__ == "__main__":
    main()
