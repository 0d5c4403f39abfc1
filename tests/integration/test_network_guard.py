"""The network guard against real neighbours: the replica must not lead the crawler
to another local service, here this test run's Elasticsearch node."""

from __future__ import annotations

import pytest

from pipeline.context import RunContext
from pipeline.context import hosts_of
from pipeline.crawl.fetch import Fetcher
from pipeline.model.errors import RefusedURL


def test_redirect_to_the_local_elasticsearch_port_is_refused(es, es_url, replica, replica_settings):
    target = es_url.rstrip("/") + "/_cat/health"
    assert es.cluster.health()["status"] in ("green", "yellow"), "the neighbour the redirect points at is up"
    url = replica.add_offsite_redirect(target)
    seen = []
    hosts = hosts_of([replica_settings.crawl_base_url, replica_settings.crawl_archive_url], ["mid.ru"])
    with Fetcher(RunContext.build(replica_settings), allowed_hosts=hosts, recorder=seen.append) as fetcher:
        with pytest.raises(RefusedURL, match="refused " + target):
            fetcher.get(url)
    assert [r.url for r in seen if "robots" not in r.url] == [url], "only the redirect itself was fetched"
