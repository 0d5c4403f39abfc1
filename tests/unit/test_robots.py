"""robots.txt as RFC 9309 reads it, through the fetcher against the local replica.

Wildcards (``*``, ``$``), the longest match winning, ``Allow`` beating a shorter
``Disallow``, 4xx = everything allowed, 5xx or no answer = "robots.txt unreachable"
(its own failure class, never reported as "disallowed"). Each refusal is checked on
the replica's access log: a refused URL is never requested.
"""

from __future__ import annotations

import socket

import pytest

from pipeline.context import RunContext
from pipeline.context import hosts_of
from pipeline.crawl.fetch import Fetcher
from pipeline.model.errors import Blocked, FetchError, RobotsDisallowed, RobotsUnreachable, SiteUnreachable
from mfa_replica.content import CURRENT_EN
from mfa_replica.server import ROBOTS

ARTICLE = CURRENT_EN + "1785001/"


def make_fetcher(settings, **kw):
    hosts = hosts_of([settings.crawl_base_url, settings.crawl_archive_url], ["mid.ru"])
    return Fetcher(RunContext.build(settings), allowed_hosts=hosts, **kw)


def assert_refused(fetcher, replica, path: str) -> None:
    with pytest.raises(RobotsDisallowed, match="disallowed by robots.txt"):
        fetcher.get(replica.base_url + path)
    assert not replica.hits(contains=path), f"{path} was requested although robots.txt forbids it"


def assert_let_through(fetcher, replica, path: str, **kw) -> None:
    try:
        fetcher.get(replica.base_url + path, **kw)
    except RobotsDisallowed as exc:  # pragma: no cover - the failure being tested for
        pytest.fail(f"{path} refused: {exc}")
    except FetchError:
        pass  # the replica may answer 404 for it; what matters is that it was asked
    assert replica.hits(contains=path), f"{path} was not requested"


def test_wildcard_in_the_middle_refuses_paging_only(replica, replica_settings):
    replica.robots = ROBOTS + "Disallow: /*?PAGEN\n"
    with make_fetcher(replica_settings) as fetcher:
        assert_refused(fetcher, replica, CURRENT_EN + "?PAGEN_1=2")
        assert_refused(fetcher, replica, "/en/foreign_policy/news/?PAGEN_1=2")
        assert_let_through(fetcher, replica, CURRENT_EN)
        assert_let_through(fetcher, replica, "/en/foreign_policy/news/")


def test_dollar_anchors_the_end_of_the_url(replica, replica_settings):
    replica.robots = ROBOTS + "Disallow: /*.pdf$\n"
    with make_fetcher(replica_settings) as fetcher:
        assert_refused(fetcher, replica, "/en/files/statement.pdf")
        # "$" ends the match: a longer URL is not covered by the rule.
        assert_let_through(fetcher, replica, "/en/files/statement.pdf.html")
        assert_let_through(fetcher, replica, "/test/pdf", accept=("application/pdf",))


def test_longest_match_wins_allow_beats_a_shorter_disallow(replica, replica_settings):
    # The Disallow comes first: a first-match parser refuses everything under /en/.
    replica.robots = "User-agent: *\nDisallow: /en/\nAllow: /en/press_service/\n"
    with make_fetcher(replica_settings) as fetcher:
        assert_let_through(fetcher, replica, ARTICLE)
        assert_refused(fetcher, replica, "/en/foreign_policy/news/")


def test_robots_txt_answering_5xx_is_unreachable_not_disallowed(replica, replica_settings):
    replica.add_fault("status", "/robots.txt", count=100, arg=503)
    # backoff_max bounds how long the failure is remembered; room for a slow machine between the two calls
    settings = replica_settings.model_copy(update={"crawl_backoff_max": 5.0})
    with make_fetcher(settings) as fetcher:
        for _ in range(2):
            with pytest.raises(RobotsUnreachable, match="robots.txt unreachable") as err:
                fetcher.get(replica.base_url + ARTICLE)
            assert err.value.kind == "robots_unreachable"
            assert "disallowed" not in err.value.reason
    assert not replica.hits(contains=ARTICLE), "nothing is fetched from an origin whose robots.txt is unreachable"
    # Retried like any request, then remembered: the second URL does not ask again.
    assert len(replica.hits(contains="/robots.txt")) == replica_settings.crawl_max_retries + 1


def test_robots_txt_with_no_answer_at_all_means_the_site_is_unreachable(replica_settings):
    """No answer at all (not a 5xx): the site is down, and the failure says so, not "robots"."""
    with socket.socket() as sock:  # a port nobody listens on once the socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = replica_settings.model_copy(update={
        "crawl_allowed_private_hosts": [f"127.0.0.1:{port}"], "crawl_max_retries": 1})
    with Fetcher(RunContext.build(settings), allowed_hosts={"127.0.0.1"}) as fetcher:
        with pytest.raises(SiteUnreachable, match="robots.txt unreachable") as err:
            fetcher.get(f"http://127.0.0.1:{port}/en/")
    assert "site unreachable" in err.value.reason and err.value.kind == "site_unreachable"


def test_robots_txt_answering_4xx_allows_everything(replica, replica_settings):
    replica.add_fault("status", "/robots.txt", count=1, arg=404)
    with make_fetcher(replica_settings) as fetcher:
        assert_let_through(fetcher, replica, "/private/page")



def test_an_unreachable_robots_txt_is_asked_again_after_the_longest_backoff(replica, replica_settings):
    import time

    attempts = replica_settings.crawl_max_retries + 1
    replica.add_fault("status", "/robots.txt", count=attempts, arg=503)  # one outage, then it answers
    with make_fetcher(replica_settings) as fetcher:
        with pytest.raises(RobotsUnreachable):
            fetcher.get(replica.base_url + ARTICLE)
        time.sleep(replica_settings.crawl_backoff_max + 0.1)
        assert fetcher.get(replica.base_url + ARTICLE).status == 200
    assert [h.status for h in replica.hits(contains="/robots.txt")] == [503] * attempts + [200]


def test_the_group_naming_our_product_token_applies_not_the_star_group(replica, replica_settings):
    # RFC 9309 2.2.1: the product token of our User-Agent ("mfa-ingest/0.1 (...)") picks the group.
    replica.robots = "User-agent: *\nDisallow: /\n\nUser-agent: mfa-ingest\nDisallow: /private/\n"
    with make_fetcher(replica_settings) as fetcher:
        assert_let_through(fetcher, replica, ARTICLE)
        assert_refused(fetcher, replica, "/private/page")


def test_a_challenge_served_for_robots_txt_is_blocked_not_an_empty_rule_set(replica, replica_settings):
    """The F5/TSPD challenge (HTTP 200, a script, no rules) in place of robots.txt: nothing of that
    origin is fetched, the failure is ``blocked`` (not "everything allowed"), and robots.txt is not
    asked again for every URL (the challenge is remembered like an unreachable robots.txt)."""
    replica.serve_challenge("/robots.txt")
    settings = replica_settings.model_copy(update={"crawl_backoff_max": 30.0})
    with make_fetcher(settings) as fetcher:
        for path in (ARTICLE, "/private/page"):
            with pytest.raises(Blocked, match="robots.txt") as err:
                fetcher.get(replica.base_url + path)
            assert err.value.kind == "blocked" and "challenge" in err.value.reason
        with pytest.raises(Blocked):  # asked before paging a listing: never read as "allowed"
            fetcher.robots_allows(replica.base_url + ARTICLE)
    assert [h.path for h in replica.hits()] == ["/robots.txt"], "only robots.txt was asked, once"
