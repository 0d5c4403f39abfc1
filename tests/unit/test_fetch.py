"""The fetcher against the local replica: politeness, retries, refusals, conditional GETs."""

from __future__ import annotations

import time

import pytest

from pipeline.context import RunContext
from pipeline.context import get_profile, hosts_of
from pipeline.crawl.fetch import Fetcher
from pipeline.crawl.hosts import RateLimiter
from pipeline.model.errors import FetchError, HttpStatusError, RefusedURL, RobotsDisallowed
from mfa_replica.content import CURRENT_EN

ARTICLE = CURRENT_EN + "1785001/"
# Seconds of noise tolerated on the replica's arrival stamps (server scheduling), not on our clock.
ARRIVAL_NOISE = 0.015


def make_fetcher(settings, **kw):
    hosts = hosts_of([settings.crawl_base_url, settings.crawl_archive_url], ["mid.ru"])
    return Fetcher(RunContext.build(settings), allowed_hosts=hosts, **kw)


def test_plain_get_sends_user_agent_and_returns_body(replica, replica_settings):
    with make_fetcher(replica_settings) as fetcher:
        result = fetcher.get(replica.base_url + ARTICLE)
    assert result.status == 200
    assert b"photo-content__title" in result.content
    assert result.etag and result.last_modified
    hit = replica.hits(contains=ARTICLE)[-1]
    assert hit.headers["user-agent"] == replica_settings.crawl_user_agent
    assert replica.hits(contains="/robots.txt"), "robots.txt is read before the first page"


def test_conditional_get_answers_304_and_edit_gives_200(replica, replica_settings):
    with make_fetcher(replica_settings) as fetcher:
        first = fetcher.get(replica.base_url + ARTICLE)
        again = fetcher.get(replica.base_url + ARTICLE, etag=first.etag, last_modified=first.last_modified)
        assert again.not_modified and again.content == b""
        only_date = fetcher.get(replica.base_url + ARTICLE, last_modified=first.last_modified)
        assert only_date.status == 304
        replica.edit_article()
        edited = fetcher.get(replica.base_url + ARTICLE, etag=first.etag, last_modified=first.last_modified)
    assert edited.status == 200 and edited.etag != first.etag
    assert replica.hits(contains=ARTICLE)[1].headers["if-none-match"] == first.etag


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_burst_is_retried_and_counted(replica, replica_settings, status):
    replica.add_fault("status", ARTICLE, count=3, arg=status)
    with make_fetcher(replica_settings) as fetcher:
        result = fetcher.get(replica.base_url + ARTICLE)
        assert result.status == 200
        assert fetcher.retries == 3
    assert [h.status for h in replica.hits(contains=ARTICLE)] == [status] * 3 + [200]


def test_endless_5xx_gives_up_with_a_reason(replica, replica_settings):
    replica.add_fault("status", ARTICLE, count=100, arg=503)
    with make_fetcher(replica_settings) as fetcher:
        with pytest.raises(HttpStatusError) as err:
            fetcher.get(replica.base_url + ARTICLE)
    assert err.value.status == 503
    assert len(replica.hits(contains=ARTICLE)) == replica_settings.crawl_max_retries + 1


def test_429_waits_for_retry_after(replica, replica_settings):
    replica.add_fault("retry_after", ARTICLE, count=1, arg=1)
    with make_fetcher(replica_settings) as fetcher:
        result = fetcher.get(replica.base_url + ARTICLE)
        assert fetcher.retries == 1
    assert result.status == 200
    first, second = replica.hits(contains=ARTICLE)
    assert first.status == 429 and second.at - first.at >= 0.95


def test_slow_response_times_out_and_is_retried(replica, replica_settings):
    replica.add_fault("slow", ARTICLE, count=1, arg=2.5)
    with make_fetcher(replica_settings) as fetcher:
        result = fetcher.get(replica.base_url + ARTICLE)
        assert fetcher.retries == 1
    assert result.status == 200


def test_truncated_body_is_retried(replica, replica_settings):
    replica.add_fault("truncate", ARTICLE, count=2)
    with make_fetcher(replica_settings) as fetcher:
        result = fetcher.get(replica.base_url + ARTICLE)
        assert fetcher.retries == 2
    assert result.content.rstrip().endswith(b"</html>")


def test_offsite_redirect_is_refused(replica, replica_settings):
    with make_fetcher(replica_settings) as fetcher:
        with pytest.raises(RefusedURL, match="offsite.invalid"):
            fetcher.get(replica.base_url + "/test/redirect-offsite")


def test_redirect_inside_allowed_host_is_followed(replica, replica_settings):
    seen = []
    with make_fetcher(replica_settings, recorder=seen.append) as fetcher:
        result = fetcher.get(replica.base_url + "/test/redirect-inside")
    assert result.status == 200 and result.url.endswith(ARTICLE)
    assert [r.status for r in seen if "robots" not in r.url] == [301, 200]


def test_a_redirect_is_returned_as_it_came_when_not_followed(replica, replica_settings):
    # the archive backfill follows a captured redirect inside the archive, not where it points
    with make_fetcher(replica_settings) as fetcher:
        result = fetcher.get(replica.base_url + "/test/redirect-offsite", follow=False, accept=None)
    assert result.status in (301, 302) and "offsite.invalid" in result.header("Location")
    assert not replica.hits(contains="offsite")[1:], "asked once, never followed"


def test_a_byte_range_is_asked_for(replica, replica_settings):
    with make_fetcher(replica_settings) as fetcher:
        result = fetcher.get(replica.base_url + ARTICLE, byte_range=(10, 99))
    assert result.status in (200, 206)  # the replica ignores ranges; a WARC file server answers 206
    assert replica.hits(contains=ARTICLE)[-1].headers["range"] == "bytes=10-99"


def test_loopback_is_refused_unless_configured(replica, replica_settings):
    # "localhost" is an allowed host name here but not an allowed private host.
    settings = replica_settings.model_copy(update={"crawl_allowed_private_hosts": []})
    hosts = hosts_of([settings.crawl_base_url], ["localhost"])
    with Fetcher(RunContext.build(settings), allowed_hosts=hosts) as fetcher:
        with pytest.raises(RefusedURL, match="non-global"):
            fetcher.get(replica.base_url + ARTICLE)
    with make_fetcher(replica_settings) as fetcher:
        with pytest.raises(RefusedURL, match="localhost"):
            fetcher.get(replica.base_url + "/test/redirect-localhost")
    with Fetcher(RunContext.build(replica_settings), allowed_hosts={"mid.ru"}) as fetcher:
        with pytest.raises(RefusedURL, match="169.254.169.254"):
            fetcher.get("http://169.254.169.254/latest/meta-data/")


def test_robots_txt_is_honoured_and_cached(replica, replica_settings):
    with make_fetcher(replica_settings) as fetcher:
        with pytest.raises(RobotsDisallowed):
            fetcher.get(replica.base_url + "/private/page")
        fetcher.get(replica.base_url + ARTICLE)
    assert len(replica.hits(contains="/robots.txt")) == 1
    assert not replica.hits(contains="/private/")


def test_size_cap_and_content_type(replica, replica_settings):
    settings = replica_settings.model_copy(update={"max_page_bytes": 100_000})
    with make_fetcher(settings) as fetcher:
        with pytest.raises(FetchError, match="limit"):
            fetcher.get(replica.base_url + "/test/big")
        with pytest.raises(FetchError, match="content type application/pdf"):
            fetcher.get(replica.base_url + "/test/pdf")


def test_rate_limit_holds_under_concurrency(replica, replica_settings):
    from concurrent.futures import ThreadPoolExecutor

    settings = replica_settings.model_copy(update={"crawl_rate_per_host": 4.0, "crawl_concurrency": 4})
    with make_fetcher(settings) as fetcher:
        fetcher.get(replica.base_url + "/robots.txt", accept=("text/plain",))
        replica.clear_log()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: fetcher.get(replica.base_url + ARTICLE), range(6)))
    times = sorted(h.at for h in replica.hits())
    assert len(times) == 6
    gaps = [b - a for a, b in zip(times, times[1:])]
    # Arrival stamps carry the server's scheduling noise (more on a loaded machine): one late
    # stamp shortens the gap after it (0.233 s seen at load 6 on 2 cores). The span counts the
    # noise once, so it is held tight; single gaps only have to show no bunching.
    assert times[-1] - times[0] >= 5 * 0.25 - ARRIVAL_NOISE, gaps
    assert min(gaps) >= 0.25 - 3 * ARRIVAL_NOISE, gaps


def test_rate_limiter_spaces_slots():
    limiter = RateLimiter(50.0)
    start = time.monotonic()
    for _ in range(6):
        limiter.wait("mid.ru")
    assert time.monotonic() - start >= 5 * 0.02 - 0.005


def test_robots_crawl_delay_slows_us_down(replica, replica_settings):
    from mfa_replica.server import ROBOTS

    replica.robots = ROBOTS + "Crawl-delay: 1\n"
    with make_fetcher(replica_settings) as fetcher:  # 20 req/s configured
        for _ in range(2):
            fetcher.get(replica.base_url + ARTICLE)
    first, second = replica.hits(contains=ARTICLE)
    assert second.at - first.at >= 1.0 - ARRIVAL_NOISE


def test_accept_language_follows_the_profile_languages(replica, replica_settings):
    from pipeline.crawl.fetch import accept_language

    assert accept_language(["en", "ru"]) == "en,ru;q=0.9"
    assert accept_language(["ru", "en", "de", "ru"]) == "ru,en;q=0.9,de;q=0.8"
    profile = get_profile()
    profile = profile.model_copy(update={"crawl": profile.crawl.model_copy(update={"languages": ["ru", "de"]})})
    hosts = hosts_of([replica_settings.crawl_base_url], ["mid.ru"])
    with Fetcher(RunContext.build(replica_settings, profile), allowed_hosts=hosts) as fetcher:  # the profile's languages
        fetcher.get(replica.base_url + ARTICLE)
    assert replica.hits(contains=ARTICLE)[-1].headers["accept-language"] == "ru,de;q=0.9"


def closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_answer_after_the_retries_is_site_unreachable(replica_settings):
    from pipeline.model.errors import SiteUnreachable

    port = closed_port()
    settings = replica_settings.model_copy(update={
        "crawl_allowed_private_hosts": [f"127.0.0.1:{port}"], "crawl_respect_robots": False, "crawl_max_retries": 2})
    retried = []
    with Fetcher(RunContext.build(settings), allowed_hosts={"127.0.0.1"}, on_retry=lambda host, why: retried.append(host)) as fetcher:
        with pytest.raises(SiteUnreachable, match="site unreachable") as err:
            fetcher.get(f"http://127.0.0.1:{port}/en/")
        assert fetcher.retries == 2
    assert err.value.kind == "site_unreachable"
    assert retried == ["127.0.0.1", "127.0.0.1"]


def test_fetch_result_has_no_listing_hints():
    import dataclasses

    from pipeline.crawl.fetch import FetchResult

    # Hints travel beside the fetch (the crawler pairs them with what the recorder sees).
    assert "hints" not in {f.name for f in dataclasses.fields(FetchResult)}


def test_every_attempt_waits_for_the_rate_limiter(replica, replica_settings):
    replica.add_fault("status", ARTICLE, count=3, arg=503)
    settings = replica_settings.model_copy(update={"crawl_rate_per_host": 4.0, "crawl_backoff_factor": 0.0,
                                                   "crawl_backoff_jitter": 0.0})
    with make_fetcher(settings) as fetcher:
        # robots.txt first (a new connection's arrival stamp is the noisiest), then the measured run
        fetcher.get(replica.base_url + "/robots.txt", accept=("text/plain",))
        replica.clear_log()
        fetcher.get(replica.base_url + ARTICLE)
    times = sorted(h.at for h in replica.hits())
    assert len(times) == 4  # three 503s, the page
    # Without backoff only the limiter spaces the retries: 3 slots of 0.25 s. Over a span the
    # arrival noise counts once (its two ends), not once per gap.
    assert times[-1] - times[0] >= 3 * 0.25 - ARRIVAL_NOISE, times


def test_retry_delay_backs_off_exponentially_with_jitter_and_caps_retry_after(replica_settings):
    from pipeline.crawl.fetch import retry_delay

    s = replica_settings.model_copy(update={"crawl_backoff_factor": 0.1, "crawl_backoff_max": 0.5,
                                            "crawl_backoff_jitter": 0.05, "crawl_retry_after_max": 2.0})
    for attempt, base in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.5), (9, 0.5)]:
        delays = [retry_delay(s, attempt, None) for _ in range(50)]
        assert all(base <= d <= base + 0.05 for d in delays), (attempt, min(delays), max(delays))
    assert retry_delay(s, 1, 1.0) == 1.0  # the server's word, without jitter
    assert retry_delay(s, 1, 3600.0) == 2.0  # up to crawl_retry_after_max


def test_retry_after_in_seconds_or_as_a_date():
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    from pipeline.crawl.fetch import parse_retry_after

    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=90), usegmt=True)
    assert 80 <= parse_retry_after(later) <= 90
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: go now


def test_a_server_that_never_answers_in_time_is_site_unreachable(replica, replica_settings):
    from pipeline.model.errors import SiteUnreachable

    replica.add_fault("slow", ARTICLE, count=10, arg=1.5)  # longer than the 1 s read timeout, every time
    settings = replica_settings.model_copy(update={"crawl_max_retries": 1})
    with make_fetcher(settings) as fetcher:
        with pytest.raises(SiteUnreachable, match=r"timed out.*\(after 1 retries\)"):
            fetcher.get(replica.base_url + ARTICLE)
        assert fetcher.retries == 1
    # (the replica logs a slow answer only once it sends it, after the client has given up: no log check)


def test_a_body_that_keeps_breaking_off_is_a_fetch_error_not_unreachable(replica, replica_settings):
    from pipeline.model.errors import SiteUnreachable

    replica.add_fault("truncate", ARTICLE, count=10)
    settings = replica_settings.model_copy(update={"crawl_max_retries": 2})
    with make_fetcher(settings) as fetcher:
        with pytest.raises(FetchError, match=r"body broken off.*\(after 2 retries\)") as err:
            fetcher.get(replica.base_url + ARTICLE)
    assert not isinstance(err.value, SiteUnreachable) and err.value.kind == "fetch_error"


@pytest.mark.parametrize("cut", ["cut_chunked", "cut_gzip", "cut_nolength"])
def test_a_body_cut_short_is_retried_and_never_a_page(replica, replica_settings, cut):
    """Issue 22 item 2: a chunked body without its last chunk, a gzip Content-Encoding stream
    that does not end, no length header and a short read: a page not provably whole is never
    returned (after the retries: class truncated, or the body broken off)."""
    settings = replica_settings.model_copy(update={"crawl_max_retries": 1})
    replica.add_fault(cut, ARTICLE, count=10)
    with make_fetcher(settings) as fetcher:
        with pytest.raises(FetchError) as err:
            fetcher.get(replica.base_url + ARTICLE)
    assert err.value.kind in ("truncated", "fetch_error") and "(after 1 retries)" in err.value.reason
    replica.clear_faults()
    replica.add_fault(cut, ARTICLE, count=1)
    with make_fetcher(settings) as fetcher:
        result = fetcher.get(replica.base_url + ARTICLE)
        assert fetcher.retries == 1
    assert result.content.rstrip().endswith(b"</html>")


@pytest.mark.parametrize("cut", ["cut_gzip", "cut_nolength"])
def test_a_cut_the_http_client_does_not_see_is_class_truncated(replica, replica_settings, cut):
    settings = replica_settings.model_copy(update={"crawl_max_retries": 0})
    replica.add_fault(cut, ARTICLE, count=10)
    with make_fetcher(settings) as fetcher:
        with pytest.raises(FetchError, match="truncated") as err:
            fetcher.get(replica.base_url + ARTICLE)
    assert err.value.kind == "truncated"
