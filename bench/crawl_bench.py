"""Benchmark: requests per indexed transcript for a backfill and a nightly on the local replica,
and what the revisit policy costs and catches over a run of nights with edits.

    .venv/bin/python bench/crawl_bench.py [--rate 50] [--nights 10] [--seed 25]

Needs the local Elasticsearch node (scripts/es.sh start). The replica gets three busy days
of 45 extra items each (tests/replica/plugin.py ``fill_busy_days``); the bench then runs a
10-day backfill of every section in both languages, a nightly right after it and one the
next night (nothing new). Per run it prints the requests the replica saw by kind (robots.txt,
listing pages, feeds, article fetches, and the revalidations: conditional GETs the revisit
policy scheduled), the transcripts indexed, requests per indexed transcript, and the
politeness actually kept (smallest gap, mean rate).

Then the nights: the same backfill, and ``--nights`` nightly runs one simulated day apart
(the run context's clock, ``shifted_clock``); each simulated day the replica publishes 5 new
transcripts, and before each night its edit fault (``Replica.edit_article``) adds a paragraph
to one transcript picked at random (``--seed``; not a briefing, whose HTML body the edit leaves
as it is): one published one or two days before on even nights, any on odd ones. Once with the profile's revisit policy, once
revalidating every known item every night (the policy at a one-day interval): per night the
requests and revalidations, and in all the edits made, caught, and how many nights each
waited. Throw-away aliases and ledgers, deleted afterwards. No assertions: figures only.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.context import RunContext, get_profile, shifted_clock  # noqa: E402
from pipeline.crawl.crawler import run_crawl  # noqa: E402
from mfa_replica.server import ARCHIVE_LISTINGS, LISTING_PATHS, Hit, Replica  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.store.client import connect  # noqa: E402
from pipeline.store.design import delete_like  # noqa: E402
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


def count_kinds(hits: list[Hit]) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for hit in hits:
        kinds[kind_of(hit)] = kinds.get(kind_of(hit), 0) + 1
    return kinds


def figures(name: str, hits: list[Hit], report, wall: float) -> None:
    kinds = count_kinds(hits)
    indexed = report.new + report.updated
    times = [h.at for h in hits]
    rate = (len(hits) - 1) / (max(times) - min(times)) if len(times) > 1 else float("nan")
    per = f"{len(hits) / indexed:.2f}" if indexed else "n/a (nothing indexed)"
    print(f"{name}: {len(hits)} requests for {indexed} indexed transcripts: {per} per transcript")
    print("  " + ", ".join(f"{k} {kinds.get(k, 0)}" for k in ("robots", "listings", "feeds", "articles",
                                                              "revalidations")))
    print(f"  revisit policy: scheduled {report.revalidations_scheduled}, sent {report.revalidations_sent}, "
          f"edits caught {report.revalidation_edits}, known and not due {report.not_due}")
    print(f"  {wall:.2f}s, smallest gap {min_gap(times) * 1000:.1f} ms, mean {rate:.2f} req/s; "
          f"listed {report.listed}, fetched {report.fetched}, 304 {report.not_modified}, new {report.new}, "
          f"updated {report.updated}, failed {report.failed}, listing pages {report.extra.get('listing_pages', 0)}")


class Bench:
    """A replica with the bench's busy days, and a throw-away alias and ledger on the local node."""

    def __init__(self, rate: float, profile=None):
        self.replica = Replica().start()
        self.since, self.until = fill_busy_days(self.replica)
        self.alias = f"mfa-bench-{uuid.uuid4().hex[:8]}"
        self.tmp = tempfile.TemporaryDirectory()
        self.settings = Settings(index_alias=self.alias, state_index=f"{self.alias}-state",
                                 deadletter_index=f"{self.alias}-dl", state_dir=Path(self.tmp.name),
                                 **{**replica_overrides(self.replica), "crawl_rate_per_host": rate})
        self.profile = profile or get_profile(self.settings.site_profile_path)
        self.es = connect(self.settings)

    def run(self, night: int = 0, **kw):
        """One crawl ``night`` days from now; the replica's requests and the report."""
        self.replica.clear_log()
        ctx = RunContext.build(self.settings, self.profile, es=self.es, clock=shifted_clock(timedelta(days=night)))
        report = run_crawl(ctx, **kw)
        return self.replica.hits(), report

    def close(self) -> None:
        delete_like(self.es, self.alias)
        self.replica.stop()
        self.tmp.cleanup()


def backfill_and_nightly(rate: float) -> None:
    bench = Bench(rate)
    try:
        for name, night, kw in (("backfill", 0, {"since": bench.since, "until": bench.until}),
                                ("nightly, the same night", 0, {}), ("nightly, the next night", 1, {})):
            t0 = time.monotonic()
            hits, report = bench.run(night, **kw)
            figures(name, hits, report, time.monotonic() - t0)
    finally:
        bench.close()


NEW_PER_NIGHT = 5  # new transcripts the replica publishes each simulated day


def nights_with_edits(name: str, rate: float, nights: int, seed: int, profile) -> dict:
    """The backfill, then ``nights`` nightlies with one edit before each; per-night lines and totals."""
    bench, rng = Bench(rate, profile), random.Random(seed)
    edited: dict[str, int] = {}  # path -> the night before which it was edited (not caught yet)
    waits: list[int] = []
    totals = {"requests": 0, "revalidations": 0, "edits": 0, "new": 0}
    try:
        bench.run(0, since=bench.since, until=bench.until)
        print(f"{name}:")
        for night in range(1, nights + 1):
            today = bench.until + timedelta(days=night)  # the simulated night's day
            bench.replica.fill_day(today, NEW_PER_NIGHT, first_id=1900000 + 100 * night)
            # Transcripts whose text the edit changes (a briefing's body is HTML the edit leaves alone).
            current = sorted((a for a in bench.replica.live_articles() if a.site == "current" and a.html is None),
                             key=lambda a: a.path)
            recent = [a for a in current if 1 <= (today - a.published.date()).days <= 2]
            article = rng.choice(recent if night % 2 == 0 and recent else current)
            bench.replica.edit_article(article.path)
            edited.setdefault(article.path, night)
            totals["edits"] += 1
            hits, report = bench.run(night)
            caught = [p for p in list(edited) if any(h.path == p and h.status == 200 for h in hits)]
            for path in caught:  # 1: caught by the first nightly after the edit
                waits.append(night - edited.pop(path) + 1)
            kinds = count_kinds(hits)
            totals["requests"] += len(hits)
            totals["revalidations"] += kinds.get("revalidations", 0)
            totals["new"] += report.new
            print(f"  night {night:2d}: {len(hits):3d} requests ({kinds.get('revalidations', 0):3d} revalidations,"
                  f" scheduled {report.revalidations_scheduled}, not due {report.not_due}; {report.new} new, "
                  f"{len(hits) / report.new if report.new else float('nan'):.1f} per new transcript); "
                  f"edited {article.path.rstrip('/').rsplit('/', 1)[-1]} "
                  f"({(today - article.published.date()).days} days old); caught {report.revalidation_edits}")
    finally:
        bench.close()
    mean = sum(waits) / len(waits) if waits else float("nan")
    per = totals["requests"] / totals["new"] if totals["new"] else float("nan")
    print(f"  in all: {totals['requests']} requests ({totals['new']} new transcripts indexed, {per:.1f} per transcript), "
          f"{totals['revalidations']} revalidations for {totals['edits']} edits; caught {len(waits)}, "
          f"after {mean:.2f} nights on average "
          f"(at most {max(waits, default=0)}), {len(edited)} not caught yet")
    return totals


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second per host")
    parser.add_argument("--nights", type=int, default=10, help="nightly runs with edits, one simulated day apart")
    parser.add_argument("--seed", type=int, default=25, help="which transcripts the edit fault picks")
    args = parser.parse_args()
    backfill_and_nightly(args.rate)
    profile = get_profile()
    daily = profile.crawl.revisit.model_copy(update={"fresh_days": 10_000.0, "max_interval_days": 1.0,
                                                     "stop_after_days": None})
    every_night = profile.model_copy(update={"crawl": profile.crawl.model_copy(update={"revisit": daily})})
    print()
    nights_with_edits("the revisit policy (profile crawl.revisit)", args.rate, args.nights, args.seed, profile)
    nights_with_edits("every known item every night", args.rate, args.nights, args.seed, every_night)


if __name__ == "__main__":
    main()
