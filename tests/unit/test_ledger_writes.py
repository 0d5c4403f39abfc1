"""The crawl ledger writes through the store's one write policy (issue 21): a node that does not
answer is waited for up to the retry window, then the run stops with an IndexingError naming
the ledger, as a document write does; not a bare transport error from a plain bulk call."""

from __future__ import annotations

import socket

import pytest
from elasticsearch import Elasticsearch

from pipeline.crawl.state import CrawlState, RunState
from pipeline.model.errors import IndexingError


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def ledger():
    es = Elasticsearch(f"http://127.0.0.1:{closed_port()}", request_timeout=1)
    yield CrawlState(es, "mfa-test-ledger", retry_window=1.0)
    es.close()


def test_ledger_documents_go_through_the_write_policy(ledger):
    with pytest.raises(IndexingError, match="writing the crawl ledger: Elasticsearch did not answer"):
        ledger.save([ledger.new_doc("https://mid.ru/en/foreign_policy/news/1/", section="news", language="en")])


def test_run_and_walk_states_go_through_the_write_policy(ledger):
    with pytest.raises(IndexingError, match="writing the crawl ledger"):
        ledger.put_run("run-crawl", RunState(run_id="r1"))
