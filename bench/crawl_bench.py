"""Benchmark: requests per indexed transcript for a backfill and a nightly on the local replica.

    .venv/bin/python bench/crawl_bench.py [--rate 50]

Needs the local Elasticsearch node (scripts/es.sh start). The replica gets three busy days
of 45 extra items each (tests/replica/plugin.py ``fill_busy_days``); the bench then runs a
10-day backfill of every section in both languages, and a nightly right after (nothing
new). Per run it prints the requests the replica saw by kind (robots.txt, listing pages,
feeds, article fetches, conditional revalidations), the transcripts indexed, requests per
indexed transcript, and the politeness actually kept (smallest gap, mean rate). Throw-away
alias and ledger, deleted afterwards. No assertions: figures only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.context import RunContext  # noqa: E402
from pipeline.crawl.crawler import run_crawl  # noqa: E402
from mfa_replica.server import ARCHIVE_LISTINGS, LISTING_PATHS, Hit, Replica  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.store.client import connect  # noqa: E402
from tests.replica.plugin import fill_busy_days, replica_overrides  # noqa: E402


def min_gap(times: list[float]) -> float:
    times = sorted(times)
    return min((b - a for a, b in zip(times, times[1:])), default=float("nan"))


def kind_of(hit: Hit) -> str:
    """What a request was for, from its path and headers."""
    if hit.path == "/robots.txt":
        return "robots"
    if "rss.php" in hit.path:
        return "feeds"
    if hit.path.split("?")[0] in LISTING_PATHS or hit.path.split("?")[0] in ARCHIVE_LISTINGS:
        return "listings"
    if "if-none-match" in hit.headers or "if-modified-since" in hit.headers:
        return "revalidations"
    return "articles"


def figures(name: str, hits: list[Hit], report, wall: float) -> None:
    kinds: dict[str, int] = {}
    for hit in hits:
        kinds[kind_of(hit)] = kinds.get(kind_of(hit), 0) + 1
    indexed = report.new + report.updated
    times = [h.at for h in hits]
    rate = (len(hits) - 1) / (max(times) - min(times)) if len(times) > 1 else float("nan")
    per = f"{len(hits) / indexed:.2f}" if indexed else "n/a (nothing indexed)"
    print(f"{name}: {len(hits)} requests for {indexed} indexed transcripts: {per} per transcript")
    print("  " + ", ".join(f"{k} {kinds.get(k, 0)}" for k in ("robots", "listings", "feeds", "articles",
                                                              "revalidations")))
    print(f"  {wall:.2f}s, smallest gap {min_gap(times) * 1000:.1f} ms, mean {rate:.2f} req/s; "
          f"listed {report.listed}, fetched {report.fetched}, 304 {report.not_modified}, new {report.new}, "
          f"updated {report.updated}, failed {report.failed}, listing pages {report.extra.get('listing_pages', 0)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second per host")
    args = parser.parse_args()
    replica = Replica().start()
    since, until = fill_busy_days(replica)
    alias = f"mfa-bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_alias=alias, state_index=f"{alias}-state", deadletter_index=f"{alias}-dl",
                            state_dir=Path(tmp), **{**replica_overrides(replica), "crawl_rate_per_host": args.rate})
        es = connect(settings)
        try:
            for name, kw in (("backfill", {"since": since, "until": until}), ("nightly", {})):
                replica.clear_log()
                t0 = time.monotonic()
                report = run_crawl(RunContext.build(settings, es=es), **kw)
                figures(name, replica.hits(), report, time.monotonic() - t0)
        finally:
            names = list(es.indices.get(index=f"{alias}*").keys())
            if names:
                es.indices.delete(index=",".join(names))
            es.options(ignore_status=404).indices.delete_index_template(name=f"{alias}*")
            replica.stop()


if __name__ == "__main__":
    main()
