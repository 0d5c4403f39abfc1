"""A crawl killed half-way (SIGKILL) finishes on the next run without fetching finished pages again."""

from __future__ import annotations

import signal
import subprocess
import time

from pipeline.context import RunContext
from pipeline.crawl.crawler import run_crawl
from pipeline.crawl.state import CrawlState, Status
from pipeline.context import get_profile
from pipeline.settings import REPO_ROOT
from tests.integration.test_crawl import nights_later
from tests.replica.plugin import crawl_env, replica_overrides


def done_urls(state: CrawlState) -> set[str]:
    try:
        state.refresh()
        return {d.url for d in state.iter_docs(Status.INDEXED)}
    except Exception:  # the state index does not exist yet
        return set()


def test_killed_crawl_resumes_without_refetching_finished_pages(es, settings, replica):
    state = CrawlState(es, settings.state_index)
    proc = subprocess.Popen([str(REPO_ROOT / ".venv" / "bin" / "mfa-ingest"), "crawl"], env=crawl_env(settings, replica),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while len(done_urls(state)) < 3:
            assert proc.poll() is None, "the crawl ended before it could be killed"
            assert time.monotonic() < deadline, "the crawl made no progress"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finished = done_urls(state)
    live = {replica.article_url(a) for a in replica.live_articles() if a.site == "current"}  # nightly
    assert 3 <= len(finished) < len(live), "killed half-way"

    replica.clear_log()
    settings = settings.model_copy(update=replica_overrides(replica))
    report = run_crawl(RunContext.build(settings, get_profile()))
    assert report.extra.get("resumed") == 1
    asked = {replica.url(h.site) + h.path for h in replica.hits()}
    assert not (asked & finished), "finished pages were requested again"
    assert done_urls(state) == live
    es.indices.refresh(index=settings.index_alias)
    urls = {h["_source"]["url"] for h in es.search(index=settings.index_alias, size=100,
                                                   source_includes=["url"])["hits"]["hits"]}
    assert urls == live

    # Once finished, the next run is a normal nightly run again: three nights later (every first
    # interval of the revisit policy passed) finished pages are re-checked (304).
    replica.clear_log()
    again = run_crawl(nights_later(settings, get_profile(), 3))
    assert "resumed" not in again.extra and again.not_modified == 17
