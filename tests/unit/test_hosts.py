"""The network guard: only the site's hosts, never a non-global address unless allowed,
and an allowed private host only on its configured port."""

from __future__ import annotations

import pytest

from pipeline.context import RunContext
from pipeline.context import hosts_of
from pipeline.crawl.fetch import Fetcher
from pipeline.model.errors import ConfigError, FetchError, RefusedURL
from mfa_replica.content import CURRENT_EN

ARTICLE = CURRENT_EN + "1785001/"

NON_GLOBAL = [
    "127.0.0.1",  # loopback
    "10.1.2.3", "172.16.0.1", "192.168.1.1",  # private
    "169.254.169.254",  # link-local (cloud metadata)
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "192.0.0.8",  # IETF protocol assignments
    "198.18.0.1",  # benchmarking
    "192.0.2.1", "198.51.100.7", "203.0.113.5",  # documentation
    "224.0.0.1", "239.1.2.3",  # multicast
    "240.0.0.1", "0.0.0.0", "255.255.255.255",  # reserved, unspecified, broadcast
    "[::1]", "[fe80::1]", "[fc00::1]", "[2001:db8::1]", "[ff02::1]",
    "[::ffff:127.0.0.1]", "[::ffff:10.0.0.1]",  # IPv4-mapped IPv6
    "[2002:7f00:1::1]",  # 6to4 wrapping 127.0.0.1
    "[64:ff9b::a9fe:a9fe]",  # NAT64 wrapping 169.254.169.254
    "[64:ff9b:1::a00:1]",  # local-use NAT64 (RFC 8215): a network's own translator
    "[::127.0.0.1]", "[::a00:1]",  # IPv4-compatible IPv6 (deprecated, RFC 4291): loopback, private
    "[fec0::1]",  # site-local (deprecated, RFC 3879)
]


@pytest.mark.parametrize("host", NON_GLOBAL)
def test_non_global_addresses_are_refused(replica_settings, host):
    settings = replica_settings.model_copy(update={"crawl_allowed_private_hosts": []})
    bare = host.strip("[]")
    with Fetcher(RunContext.build(settings), allowed_hosts={bare}) as fetcher:
        with pytest.raises(RefusedURL, match="non-global"):
            fetcher.check_url(f"http://{host}/en/")


def test_a_global_address_passes(replica_settings):
    with Fetcher(RunContext.build(replica_settings), allowed_hosts={"8.8.8.8"}) as fetcher:
        fetcher.check_url("http://8.8.8.8/en/")


def test_only_listed_hosts(replica_settings):
    with Fetcher(RunContext.build(replica_settings), allowed_hosts={"mid.ru"}) as fetcher:
        with pytest.raises(RefusedURL, match="not an allowed host"):
            fetcher.check_url("http://example.org/")
        with pytest.raises(RefusedURL, match="not an http"):
            fetcher.check_url("ftp://mid.ru/")


def test_allowed_private_host_only_on_its_port(replica, replica_settings):
    port = int(replica.base_url.rsplit(":", 1)[1])
    settings = replica_settings.model_copy(update={"crawl_allowed_private_hosts": [f"127.0.0.1:{port}"]})
    with Fetcher(RunContext.build(settings), allowed_hosts={"127.0.0.1"}) as fetcher:
        assert fetcher.get(replica.base_url + ARTICLE).status == 200
        with pytest.raises(RefusedURL, match="non-global"):
            fetcher.check_url(f"http://127.0.0.1:{port + 1}/en/")
        with pytest.raises(RefusedURL, match="non-global"):
            fetcher.check_url("http://127.0.0.1/en/")  # port 80 is another service


def test_redirect_to_another_port_of_an_allowed_private_host_is_refused(replica, replica_settings):
    with Fetcher(RunContext.build(replica_settings), allowed_hosts=hosts_of([replica.base_url], [])) as fetcher:
        # The replica's two ports are allowed; its redirect goes to a third one.
        url = replica.add_offsite_redirect("http://127.0.0.1:9/en/")
        with pytest.raises(RefusedURL, match="redirect from .* refused http://127.0.0.1:9/en/"):
            fetcher.get(url)
    assert not replica.hits(contains="127.0.0.1:9")


@pytest.mark.parametrize("entry", ["127.0.0.1", "localhost", "127.0.0.1:http", "[::1]", "127.0.0.1:0"])
def test_allowed_private_hosts_need_a_port(replica_settings, entry):
    settings = replica_settings.model_copy(update={"crawl_allowed_private_hosts": [entry]})
    with pytest.raises(ConfigError, match="host:port"):
        Fetcher(RunContext.build(settings), allowed_hosts={"127.0.0.1"})


def test_allowed_private_host_forms(replica_settings):
    settings = replica_settings.model_copy(update={
        "crawl_allowed_private_hosts": ["LOCALHOST:8080", "[::1]:8081", "127.0.0.1:8082"]})
    with Fetcher(RunContext.build(settings), allowed_hosts={"localhost", "::1", "127.0.0.1"}) as fetcher:
        fetcher.check_url("http://localhost:8080/")
        fetcher.check_url("http://[::1]:8081/")
        fetcher.check_url("http://127.0.0.1:8082/")
        with pytest.raises(RefusedURL):
            fetcher.check_url("http://[::1]:8080/")


@pytest.mark.parametrize("host", ["127.0.0.1.", "localhost.", "LOCALHOST..", "no-such-host.invalid"])
def test_a_host_the_guard_cannot_resolve_is_never_requested(replica, replica_settings, host):
    """The HTTP client resolves a name without its trailing dots; the guard resolves the same name,
    and a name it cannot resolve at all is not let through (it used to pass unchecked)."""
    port = int(replica.base_url.rsplit(":", 1)[1])
    settings = replica_settings.model_copy(update={"crawl_allowed_private_hosts": []})
    with Fetcher(RunContext.build(settings), allowed_hosts={host.lower().rstrip(".")}) as fetcher:
        with pytest.raises(FetchError, match="non-global|does not resolve"):
            fetcher.get(f"http://{host}:{port}{ARTICLE}")
    assert not replica.hits(contains=ARTICLE)
