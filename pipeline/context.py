"""The run context: what every stage of one run shares, built once at each entry point.

Each entry point (a CLI command, an ``mfa_airflow`` task, a bench script) builds one
``RunContext`` and hands it down, the way Scrapy hands its ``Crawler`` to every
component: the settings, the site profile, what is derived from the two (the base
URLs, the hosts a crawl may touch, the languages, the identity rules), and for a run
its ``RunReport`` and the Elasticsearch client, opened lazily through the store's one
client factory (``pipeline.store.client.connect``) and closed with the context.

This module is the only place the library reads the process-wide settings
(``get_settings``) or loads the profile they name (``get_profile``); everything
below takes the context, or the pieces of it a stage needs, as parameters.

It is also the one clock of a run: ``RunContext.now()`` (``clock``, by default
``utc_now``). The crawl takes "now" from it (its night, the ledger's stamps, the
revisit policy's due dates), so a test or a bench passes a clock and simulates
nights in seconds; only waits (rate limits, Retry-After) read the real time.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit

from pipeline.model.ids import host_key
from pipeline.profile import IdentityRule, SiteProfile, load_profile
from pipeline.report import RunReport
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pipeline.store.client import Elasticsearch  # the client type, named where the store owns it


def utc_now() -> datetime:
    """The real time, aware, in UTC: the default clock of a run."""
    return datetime.now(timezone.utc)


def shifted_clock(by: timedelta) -> Callable[[], datetime]:
    """A clock ``by`` ahead of the real one (a test's or a bench's later night); it still ticks."""
    return lambda: utc_now() + by


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment (MFA_*)."""
    return Settings()


@lru_cache(maxsize=8)
def _cached_profile(path: str) -> SiteProfile:
    return load_profile(Path(path))


def get_profile(path: Path | str | None = None) -> SiteProfile:
    """The profile at ``path`` (default: the one the process-wide settings name), loaded once per file."""
    return _cached_profile(str(Path(path if path is not None else get_settings().site_profile_path).resolve()))


def base_urls(profile: SiteProfile, settings: Settings) -> dict[str, str]:
    """Base URL per site ('current', 'archive'): the profile's, unless the settings override them."""
    return {
        "current": (settings.crawl_base_url or profile.site.base_url).rstrip("/"),
        "archive": (settings.crawl_archive_url or profile.crawl.archive_base_url).rstrip("/"),
    }


def hosts_of(urls, hosts) -> frozenset[str]:
    """The host keys of ``hosts`` and of the URLs' hosts (empty ones dropped)."""
    found = {host_key(h) for h in hosts} | {host_key(urlsplit(u).hostname or "") for u in urls if u}
    found.discard("")
    return frozenset(found)


@dataclass(frozen=True, eq=False)
class RunContext:
    """Settings, profile and what derives from them; for a run, its report and Elasticsearch client.

    ``client``: a client the caller owns (left open by ``close``); without one, ``es``
    opens one on first use and ``close`` (or leaving the ``with`` block) closes it.
    """

    settings: Settings
    profile: SiteProfile
    report: RunReport | None = None
    client: Any = field(default=None, repr=False)
    # The run's clock (aware UTC datetimes): the real time unless a test or a bench shifts it.
    clock: Callable[[], datetime] = field(default=utc_now, repr=False)
    # The client opened on first use; shared by the contexts ``for_run`` derives (``replace`` copies the holder).
    _opened_client: dict = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, settings: Settings | None = None, profile: SiteProfile | None = None, *,
              report: RunReport | None = None, es: Elasticsearch | None = None,
              overrides: dict[str, Any] | None = None, clock: Callable[[], datetime] | None = None) -> RunContext:
        """The context of the given settings (default: the environment's, with ``overrides`` of some
        fields, such as a command's options) and profile (default: the one the settings name);
        ``clock``: what ``now()`` reads (default: the real time)."""
        settings = settings if settings is not None else get_settings()
        if overrides:
            settings = settings.model_copy(update=overrides)
        profile = profile if profile is not None else get_profile(settings.site_profile_path)
        return cls(settings=settings, profile=profile, report=report, client=es, clock=clock or utc_now)

    def for_run(self, report: RunReport) -> RunContext:
        """The same context for a run with ``report``; both share one client (closing either closes it)."""
        return replace(self, report=report)

    def run_report(self, name: str) -> RunReport:
        """The run's report: the context's, else a new one called ``name``."""
        return self.report if self.report is not None else RunReport(name=name)

    def now(self) -> datetime:
        """The run's time (aware, UTC) from its clock."""
        return self.clock()

    # ---- derived once -------------------------------------------------------
    @cached_property
    def base_urls(self) -> dict[str, str]:
        return base_urls(self.profile, self.settings)

    @cached_property
    def allowed_hosts(self) -> frozenset[str]:
        """The hosts a crawl, a redrive or the site check may touch: the profile's plus those of the base URLs."""
        return hosts_of(self.base_urls.values(), self.profile.site.hosts)

    @cached_property
    def site_hosts(self) -> frozenset[str]:
        """Every host the site is known by: the profile's and those of its configured and overridden
        base URLs (which pages of a WARC ``replay --any-url`` takes)."""
        urls = [self.settings.crawl_base_url, self.settings.crawl_archive_url, self.profile.site.base_url,
                self.profile.crawl.archive_base_url]
        return hosts_of(urls, self.profile.site.hosts)

    @property
    def languages(self) -> list[str]:
        """The crawl's languages in profile order (Accept-Language, default of a crawl's languages)."""
        return list(self.profile.crawl.languages)

    @property
    def identity(self) -> list[IdentityRule]:
        return self.profile.site.identity

    # ---- the run's Elasticsearch client ---------------------------------------
    @property
    def es(self) -> Elasticsearch:
        """The run's client: the caller's, else one opened on first use by the store's client factory."""
        if self.client is not None:
            return self.client
        if "es" not in self._opened_client:
            from pipeline.store.client import connect

            self._opened_client["es"] = connect(self.settings)
        return self._opened_client["es"]

    def close(self) -> None:
        """Close the client this context opened (never the caller's); a later ``es`` opens a new one."""
        opened = self._opened_client.pop("es", None)
        if opened is not None:
            opened.close()

    def __enter__(self) -> RunContext:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
