"""Stage crawl: how many requests a crawl run will send, and how long that takes, before it runs.

``estimate_crawl`` lists what the run would list (robots.txt, listing pages by the same
adaptive windows, feeds: those requests are sent, as the run would send them) but writes
nothing to the ledger and fetches no article. From the ledger it counts the article
requests the run would add: every listed entry the ledger does not hold, every known one
the run would fetch again (waiting, failed and due, or, in a run up to now, indexed in an
editable section with its revisit due: a conditional GET the revisit policy schedules,
crawl/revisit.py), and the ledger's due entries (revisits included) the listings did not
name. "Now" is the context's clock, as for the run. The time is
that count at the politeness of the settings (``crawl_rate_per_host``, or a slower robots
``Crawl-delay``), the busiest host setting the pace. Retries and the other language
versions an article links to are not known before the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable
from urllib.parse import urlsplit

from pipeline.context import RunContext
from pipeline.crawl.crawler import Crawler, make_plan
from pipeline.crawl.fetch import Fetcher
from pipeline.crawl.listings import ListingEntry
from pipeline.crawl.state import CrawlState, LedgerDoc, Status
from pipeline.model.ids import host_key
from pipeline.store import design


@dataclass
class Estimate:
    """The requests a run will send, by kind, and the time they take at the configured politeness."""

    discovery: int  # robots.txt, listing pages and feeds (sent by the estimate as by the run)
    articles: int  # article requests: new pages, re-fetches and conditional revalidations
    seconds: float
    revalidations: int = 0  # of the article requests: the conditional GETs the revisit policy schedules

    @property
    def requests(self) -> int:
        return self.discovery + self.articles

    def line(self) -> str:
        hours, rest = divmod(int(round(self.seconds)), 3600)
        return (f"estimate: {self.requests} requests ({self.discovery} robots.txt, listing and feed, "
                f"{self.articles} article, {self.revalidations} of them revisits), {hours} h {rest // 60:02d} min {rest % 60:02d} s at the configured politeness")


class _Lister(Crawler):
    """The crawler's discovery without its writes: listed entries are collected, not saved."""

    def __init__(self, ctx: RunContext, plan, target: str):
        super().__init__(ctx, plan, target)
        self.state = _ReadOnly(self.state)
        self.found: dict[str, ListingEntry] = {}
        self.per_host: dict[str, int] = {}

    def _on_response(self, result) -> None:
        host = host_key(urlsplit(result.requested_url).hostname or "")
        self.per_host[host] = self.per_host.get(host, 0) + 1
        self.report.responses += 1

    def _register(self, entries: Iterable[ListingEntry], seen: set[str], *, listed: bool = True) -> list[bool]:
        flags = []
        for entry in entries:
            key = self.state.key_of(entry.url)
            if key not in seen:
                seen.add(key)
                self.found[key] = entry
                flags.append(False)
        return flags


class _ReadOnly(CrawlState):
    """A ledger that reads and never writes (the estimate changes nothing)."""

    def __init__(self, state: CrawlState):
        self.__dict__.update(state.__dict__)

    def save(self, docs, *, refresh: bool = False) -> None:
        pass

    def _put(self, key, model) -> None:
        pass

    def refresh(self) -> None:
        pass


def _fetched_again(lister: "_Lister", doc: LedgerDoc) -> bool:
    """Whether a listed, known page costs the run a request: due as ``CrawlState.due`` takes it
    (a revisit only in a run up to now, for an editable section)."""
    revisit = lister.revisit
    if doc.status is Status.INDEXED and (revisit is None or doc.section not in revisit.sections):
        return False
    return doc.due(lister.now, revisit_before=revisit.before if revisit is not None else None)


def estimate_crawl(ctx: RunContext, *, since: date | None = None, until: date | None = None,
                   sections: list[str] | None = None, languages: list[str] | None = None,
                   index: str | None = None) -> Estimate:
    """The requests ``run_crawl`` with these arguments would send now, and their time."""
    plan = make_plan(ctx.profile, since=since, until=until, sections=sections, languages=languages)
    ctx = ctx.for_run(ctx.run_report("estimate"))
    target = design.ensure_index(ctx.es, ctx.settings, alias=index)
    lister = _Lister(ctx, plan, target)
    lister.state.ensure()
    last = lister.state.get_run(f"run-{plan.kind}")
    lister.run_id = last.run_id if last and not last.finished else "estimate"  # a resumed run skips listed windows
    with Fetcher(ctx, recorder=lister._on_response) as fetcher:
        lister.fetcher = fetcher
        lister.discover()
        intervals = {host: fetcher.limiter.interval_for(host) for host in lister.per_host}
    stored = lister.state.get_keys(lister.found)
    articles = sum(1 for key in lister.found if key not in stored or _fetched_again(lister, stored[key]))
    articles += lister.state.count_due([s.name for s in plan.sections], plan.languages, now=lister.now,
                                       exclude=lister.found, revisit=lister.revisit)
    hosts = dict(lister.per_host)
    site = host_key(urlsplit(ctx.base_urls["current"]).hostname or "")
    hosts[site] = hosts.get(site, 0) + articles  # articles of the archive portal are counted with the site's
    interval = 1.0 / ctx.settings.crawl_rate_per_host
    seconds = max((n * intervals.get(h, interval) for h, n in hosts.items()), default=0.0)
    revalidations = (lister.state.count_due([s.name for s in plan.sections], plan.languages, now=lister.now,
                                            revisit=lister.revisit, revisits_only=True)
                     if lister.revisit is not None else 0)
    return Estimate(discovery=lister.report.responses, articles=articles, seconds=seconds,
                    revalidations=revalidations)
