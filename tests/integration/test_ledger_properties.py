"""The identity and ledger invariants, under random sequences of what happens to a site and
an index (hypothesis stateful testing against the replica and the real node).

Operations: crawl; replay of the WARC files written so far; ingest of text dumps of the
same transcripts; edit an article; make a page fail N times (then it recovers); a crawl
while the index refuses writes; a crawl killed (SIGKILL) after a few article pages, which
can leave a WARC file cut short and pages half-done in the ledger. After every run: ``read`` equals the sum of the outcomes.
At the end, once the site answers again and the due pages are crawled: every live article
is indexed exactly once per language with its latest text, every edit is in ``history``,
and no document comes from a page that never succeeded.

Small on purpose (the suite runs it by default): ``MAX_EXAMPLES`` sequences of at most
``STEPS`` operations, derandomized so a failure reproduces with the same sequence.
"""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from hypothesis import HealthCheck, settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from pipeline.context import RunContext, shifted_clock
from pipeline.crawl.crawler import run_crawl
from pipeline.ingest import ingest_archive
from pipeline.context import get_profile
from mfa_replica.server import Replica
from pipeline.settings import REPO_ROOT, Settings
from pipeline.store import design
from pipeline.store.history import history
from tests.conftest import SAMPLE_DUMPS, assert_accounted, delete_indices_like
from tests.replica.plugin import crawl_env, replica_overrides

MAX_EXAMPLES = 8
STEPS = 8


def ledger_machine(es, tmp_path_factory):
    class Ledger(RuleBasedStateMachine):
        @initialize()
        def start(self):
            self.alias = f"mfa-prop-{uuid.uuid4().hex[:8]}"
            self.replica = Replica().start()
            state = tmp_path_factory.mktemp("state")
            self.settings = Settings(index_alias=self.alias, deadletter_index=f"{self.alias}-deadletter",
                                     state_index=f"{self.alias}-crawlstate", state_dir=state,
                                     **{**replica_overrides(self.replica), "crawl_max_retries": 0,
                                        "crawl_retry_schedule": [0.0],
                                        # the replica is ours: no politeness wait between its pages (the
                                        # crawls' listings took most of each example's time at 20 a second)
                                        "crawl_rate_per_host": 200.0})
            self.reports = []
            self.edited: dict[str, str] = {}  # article URL -> the paragraph its latest edit added
            self.edited_after_index: set[str] = set()
            self.crawled_once = False

        def teardown(self):
            if hasattr(self, "replica"):
                self.replica.stop()
                delete_indices_like(es, self.alias)

        def _run(self, report):
            self.reports.append(report)
            assert_accounted(report)

        @rule()
        def crawl(self):
            self._run(run_crawl(RunContext.build(self.settings, get_profile())))
            self.crawled_once = True

        @precondition(lambda self: self.crawled_once)
        @rule()
        def replay_the_warcs(self):
            self._run(ingest_archive(RunContext.build(self.settings), self.settings.warc_dir))

        @rule()
        def ingest_dumps(self):
            self._run(ingest_archive(RunContext.build(self.settings), SAMPLE_DUMPS))

        @rule(which=st.integers(min_value=0, max_value=7))
        def edit(self, which):
            current = [a for a in self.replica.live_articles() if a.site == "current"]
            article = current[which % len(current)]
            url = self.replica.article_url(article)
            indexed = es.indices.exists(index=self.alias) and es.count(
                index=self.alias, query={"term": {"url": url}})["count"] > 0
            edited = self.replica.edit_article(article.path)
            self.edited[url] = edited.paragraphs[-1]
            if indexed:  # an earlier text is stored: history must keep both
                self.edited_after_index.add(url)

        @rule(which=st.integers(min_value=0, max_value=7), times=st.integers(min_value=1, max_value=3))
        def flaky_page(self, which, times):
            live = self.replica.live_articles()
            url = self.replica.article_url(live[which % len(live)])
            self.replica.add_fault("status", match=url.rstrip("/").rsplit("/", 1)[-1], count=times, arg=500)

        @rule()
        def crawl_while_writes_are_refused(self):
            alias = design.ensure_index(es, self.settings)
            concrete = design.write_index(es, alias)
            es.indices.put_settings(index=concrete, settings={"index.blocks.write": True})
            try:
                self._run(run_crawl(RunContext.build(self.settings, get_profile())))
            finally:
                es.indices.put_settings(index=concrete, settings={"index.blocks.write": None})

        @rule(pages=st.integers(min_value=1, max_value=4))
        def crawl_killed_mid_run(self, pages):
            """``mfa-ingest crawl`` in a process killed once the site has served ``pages`` more
            article pages (or a crawl that ends first: nothing to kill). No report: the run
            never ended; the next runs must finish its work."""
            env = crawl_env(self.settings, self.replica)
            # 20 pages a second (crawl_env's 4 a second made each killed crawl wait seconds for its
            # listings): the kill still lands within a page, the hits are polled every 20 ms
            env.update(MFA_CRAWL_MAX_RETRIES="0", MFA_CRAWL_RETRY_SCHEDULE="[0.0]", MFA_CRAWL_RATE_PER_HOST="20")
            served = len(self._article_hits())
            proc = subprocess.Popen([str(REPO_ROOT / ".venv" / "bin" / "mfa-ingest"), "crawl"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 120
            try:
                while proc.poll() is None and len(self._article_hits()) < served + pages:
                    assert time.monotonic() < deadline, "the crawl made no progress"
                    time.sleep(0.02)
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
            self.crawled_once = True

        def _article_hits(self):
            sections = get_profile().crawl  # article pages are those of the profile's article patterns
            return [h for h in self.replica.hits() if sections.section_of(urlsplit(h.path).path)]

        @invariant()
        def no_document_from_a_page_that_never_succeeded(self):
            if not es.indices.exists(index=self.alias):
                return
            es.indices.refresh(index=self.alias)
            live = {self.replica.article_url(a) for a in self.replica.live_articles()}
            # every page the site ever answered with its text (crawls, killed crawls; a WARC holds only those)
            served = {self.replica.url(h.site) + h.path for h in self.replica.hits(status=200)}
            for hit in es.search(index=self.alias, size=200, source_includes=["url", "urls"])["hits"]["hits"]:
                url = hit["_source"].get("url")
                if url is None:
                    continue  # a text dump
                assert url in live, url
                assert served & {url, *(hit["_source"].get("urls") or [])}, f"never served with its text: {url}"

        def settle_and_check(self):
            """The site answers again: one crawl takes every due page; then the end state. It runs ten
            nights later: the revisit policy has scheduled every indexed page by then (the replica's
            items are at most 9 days old, so their first intervals are at most a few days)."""
            self.replica.clear_faults()
            later = shifted_clock(timedelta(days=10))
            self._run(run_crawl(RunContext.build(self.settings, get_profile(), clock=later)))
            es.indices.refresh(index=self.alias)
            docs = [h["_source"] for h in es.search(index=self.alias, size=200)["hits"]["hits"]]
            by_url = {}
            for doc in docs:
                for url in doc.get("urls") or []:
                    by_url.setdefault(url, []).append(doc)
            keys = [(d.get("event_id"), d["language"]) for d in docs if d.get("event_id")]
            assert len(keys) == len(set(keys)), "one document per article and language"
            # what a nightly crawl covers: the current site (the old portal is for backfills)
            for article in (a for a in self.replica.live_articles() if a.site == "current"):
                url = self.replica.article_url(article)
                found = [d for d in docs if d.get("url") == url or url in (d.get("urls") or [])]
                assert len(found) == 1, (url, len(found))
                if url in self.edited:
                    assert self.edited[url] in found[0]["body"], url
                    versions = history(es, self.alias, url)
                    assert versions and self.edited[url] in versions[-1]["body"]
                    if url in self.edited_after_index:
                        assert len(versions) >= 2, url

    return Ledger


def test_identity_and_ledger_invariants_hold_under_random_operations(es, tmp_path_factory):
    machine = ledger_machine(es, tmp_path_factory)
    original_teardown = machine.teardown

    def teardown(self):
        try:
            if hasattr(self, "replica"):
                self.settle_and_check()
        finally:
            original_teardown(self)

    machine.teardown = teardown
    runner = machine.TestCase
    runner.settings = hsettings(max_examples=MAX_EXAMPLES, stateful_step_count=STEPS, deadline=None,
                                derandomize=True, suppress_health_check=list(HealthCheck))
    runner("runTest").runTest()
