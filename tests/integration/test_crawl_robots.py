"""A crawl of the replica under an RFC 9309 robots.txt: nothing it forbids is ever requested."""

from __future__ import annotations

from urllib.parse import urlsplit

from protego import Protego

from pipeline.context import RunContext
from pipeline.crawl.crawler import run_crawl
from pipeline.context import get_profile
from mfa_replica.content import CURRENT_EN, CURRENT_RU
from mfa_replica.server import ROBOTS


def test_disallowed_paging_is_never_requested(es, crawl_settings, replica):
    replica.robots = ROBOTS + "Disallow: /*?PAGEN\n"
    replica.page_size = 2  # listings longer than one page
    # Without the feed, which would name the later articles too.
    report = run_crawl(RunContext.build(crawl_settings.model_copy(update={"crawl_rss": False}), get_profile()))

    rules = Protego.parse(replica.robots)
    asked = [h.path for h in replica.hits(site="current")]
    assert asked and not [p for p in asked if "PAGEN" in p]
    assert all(rules.can_fetch(p, crawl_settings.crawl_user_agent) for p in asked)

    # What the first listing pages name is indexed; page 2 and beyond are out of reach.
    es.indices.refresh(index=crawl_settings.index_alias)
    hits = es.search(index=crawl_settings.index_alias, size=100, source_includes=["url"])["hits"]["hits"]
    urls = [urlsplit(h["_source"]["url"]) for h in hits]
    indexed = {u.path + (f"?{u.query}" if u.query else "") for u in urls}
    first_pages = {d.path for path in (CURRENT_EN, CURRENT_RU)
                   for d in replica.listing("current", path)[: replica.page_size]}
    assert first_pages <= indexed
    later = {d.path for path in (CURRENT_EN, CURRENT_RU)
             for d in replica.listing("current", path)[replica.page_size:]}
    assert later and not later & indexed, "only reachable through the forbidden ?PAGEN_1=2"
    # ...or through the language list of a version on a first page (``?lang=``), never by their own path.
    assert all(p.split("?")[0] in first_pages for p in indexed if "lang=" in p)
    assert report.new == len(indexed)
