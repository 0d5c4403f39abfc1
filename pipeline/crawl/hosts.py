"""Hosts: where the crawler may connect (the network guard) and how often (the rate limiter).

The guard lets a URL through only when it is http(s) on one of the crawl's hosts
and, unless it is an allowed private ``host:port`` (how tests and demos reach the
local replica), every address the host resolves to is globally reachable. An
allowed private host is allowed on its configured port only: the replica's host is
also the host of every other local service (Elasticsearch, Airflow...), and a
redirect must not lead the crawler there.

The rate limiter spaces requests per host; the fetcher waits on it before every
attempt, retries included, and robots.txt's Crawl-delay can slow a host down further.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from typing import Iterable
from urllib.parse import urlsplit

from pipeline.model.errors import ConfigError, RefusedURL, SiteUnreachable
from pipeline.model.ids import host_key

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Not globally reachable although ``is_global`` says so on some Python versions
# (192.0.0.0/24 before 3.12.4), or reachable but never a web site (multicast), or never
# a public address at all: local-use NAT64 (64:ff9b:1::/48, RFC 8215: a network's own
# translator into its private space), IPv4-compatible IPv6 (::/96, deprecated by RFC 4291;
# ::127.0.0.1 reaches loopback on some stacks) and site-local (fec0::/10, RFC 3879).
_NOT_GLOBAL_EXTRA = tuple(ipaddress.ip_network(n) for n in (
    "192.0.0.0/24", "224.0.0.0/4", "ff00::/8", "64:ff9b:1::/48", "::/96", "fec0::/10"))
# NAT64's well-known prefix carries an IPv4 address in its last 32 bits (RFC 6052).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, 6to4, NAT64), if any."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_global_address(addr: str) -> bool:
    """True when ``addr`` (and any IPv4 address it wraps) is globally reachable."""
    ip = ipaddress.ip_address(addr.split("%")[0])  # drop an IPv6 zone ("fe80::1%eth0")
    inner = _embedded_ipv4(ip)
    if inner is not None and not is_global_address(str(inner)):
        return False
    return ip.is_global and not any(ip.version == net.version and ip in net for net in _NOT_GLOBAL_EXTRA)


def default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def parse_host_port(entry: str) -> tuple[str, int]:
    """``"127.0.0.1:8080"``, ``"localhost:8080"``, ``"[::1]:8080"`` -> (host key, port); ConfigError otherwise."""
    parts = urlsplit("//" + entry.strip())
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or not port:
        raise ConfigError(f"crawl_allowed_private_hosts: {entry!r} is not host:port (e.g. 127.0.0.1:8080); "
                          "a private host is allowed on one port, not on all of them")
    return host_key(parts.hostname), port


class NetworkGuard:
    """Decides whether a URL may be requested at all (before robots.txt, before each redirect hop)."""

    def __init__(self, allowed_hosts: Iterable[str], allowed_private: Iterable[str]):
        self.allowed_hosts = {host_key(h) for h in allowed_hosts}
        self.allowed_private = {parse_host_port(e) for e in allowed_private}
        self._addresses: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def check(self, url: str) -> None:
        """Raise RefusedURL unless the URL may be fetched."""
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            raise RefusedURL(f"refused {url}: bad port") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RefusedURL(f"refused {url}: not an http(s) URL")
        host = host_key(parts.hostname)
        if host not in self.allowed_hosts:
            raise RefusedURL(f"refused {url}: host {parts.hostname} is not an allowed host")
        port = port or default_port(parts.scheme)
        if (host, port) in self.allowed_private:
            return
        addresses = self._resolve(parts.hostname, port)
        if not addresses:
            # Unchecked is unsafe: the client might resolve it after all (another resolver, a
            # record that appears a moment later). Not cached, so the next URL asks again.
            raise SiteUnreachable(f"site unreachable: {url}: {parts.hostname} does not resolve")
        bad = next((a for a in addresses if not is_global_address(a)), None)
        if bad is not None:
            ports = sorted(p for h, p in self.allowed_private if h == host)
            only = f" (allowed on port {', '.join(map(str, ports))} only)" if ports else ""
            raise RefusedURL(f"refused {url}: {parts.hostname} is a non-global address ({bad}){only}")

    def _resolve(self, hostname: str, port: int) -> list[str]:
        """The addresses of ``hostname`` as the HTTP client resolves it: urllib3 drops trailing
        dots (``127.0.0.1.`` connects to 127.0.0.1), so the guard does too. [] when it does not resolve."""
        name = hostname.rstrip(".")
        with self._lock:
            cached = self._addresses.get(name)
        if cached is None:
            try:
                infos = socket.getaddrinfo(name, port, proto=socket.IPPROTO_TCP)
            except (socket.gaierror, UnicodeError, ValueError):
                return []
            cached = [info[4][0] for info in infos]
            with self._lock:
                self._addresses[name] = cached
        return cached


class RateLimiter:
    """At most one request per ``interval`` seconds per host, shared by all threads.

    The next slot counts from the moment the previous request was actually let
    go (not from when it was planned), so a thread that oversleeps pushes the
    ones after it back instead of letting them bunch up behind it.
    """

    # Between being let go and reaching the server a request can lose a millisecond or
    # two to thread scheduling; this margin keeps the rate the server sees under the limit.
    MARGIN_S = 0.005

    def __init__(self, rate_per_second: float):
        self.interval = 1.0 / rate_per_second + self.MARGIN_S
        self._next: dict[str, float] = {}
        self._interval_for: dict[str, float] = {}
        self._lock = threading.Lock()

    def set_interval(self, host: str, seconds: float) -> None:
        """Slow ``host`` down to one request per ``seconds`` (never faster than the configured rate)."""
        with self._lock:
            self._interval_for[host] = max(self.interval, seconds + self.MARGIN_S)

    def interval_for(self, host: str) -> float:
        """Seconds between two requests to ``host`` (the configured rate, or its Crawl-delay)."""
        with self._lock:
            return self._interval_for.get(host, self.interval)

    def wait(self, host: str) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                due = self._next.get(host, now)
                if now >= due:
                    self._next[host] = now + self._interval_for.get(host, self.interval)
                    return
            time.sleep(due - now)
