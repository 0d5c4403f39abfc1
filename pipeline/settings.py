"""Settings shared by the CLI, the library and the DAGs.

Read from the environment with the ``MFA_`` prefix (``MFA_ES_URL``,
``MFA_INDEX_ALIAS``...). Inside Airflow the DAGs build the same model from the
``elasticsearch_default`` connection instead (see mfa_airflow.settings_from_airflow).
Secrets only ever come from the environment or an Airflow connection.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
# In a checkout config/ sits beside the package; an installed copy carries it as pipeline/config.
_IN_CHECKOUT = (REPO_ROOT / "config" / "site.yaml").is_file()
DEFAULT_CONFIG_DIR = REPO_ROOT / "config" if _IN_CHECKOUT else PACKAGE_DIR / "config"
# The one size cap of an input page (MFA_MAX_PAGE_BYTES); readers default to it.
DEFAULT_PAGE_BYTES = 10 * 1024 * 1024
DEFAULT_STATE_DIR = REPO_ROOT / ".state" if _IN_CHECKOUT else Path(".state")


# Elasticsearch allows 255 bytes; the pipeline adds suffixes to a name (-v12, -history, -template).
INDEX_NAME_MAX_BYTES = 230
_INDEX_NAME_FORBIDDEN = '\\/*?"<>| ,#:'


def index_name_problem(name: str) -> str | None:
    """Which of Elasticsearch's rules for index and alias names ``name`` breaks; None when it keeps them all."""
    if not name:
        return "an index name cannot be empty"
    if name != name.lower():
        return f"{name!r}: index names are lower case"
    bad = sorted({c for c in name if c in _INDEX_NAME_FORBIDDEN})
    if bad:
        return f"{name!r}: an index name cannot contain {', '.join(repr(c) for c in bad)}"
    if name[0] in "-_+" or name in (".", ".."):
        return f"{name!r}: an index name cannot start with '-', '_' or '+', nor be '.' or '..'"
    if len(name.encode("utf-8")) > INDEX_NAME_MAX_BYTES:
        return f"an index name is at most {INDEX_NAME_MAX_BYTES} bytes (this one: {len(name.encode('utf-8'))})"
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MFA_", extra="ignore")

    es_url: str = "http://127.0.0.1:9200"
    es_username: str | None = None
    es_password: SecretStr | None = None
    es_api_key: SecretStr | None = None
    es_request_timeout: float = 30.0
    es_verify_certs: bool = True
    es_ca_certs: Path | None = Field(None, description="CA bundle (PEM) the node's TLS certificate is checked against")

    index_alias: str = Field("mfa-transcripts", description="read alias analysts query")
    deadletter_index: str = "mfa-deadletter"
    state_index: str = "mfa-crawl-state"
    bulk_chunk_size: int = 200
    # Bulk chunks the writer has in flight at once (each its look-ups, then its _bulk requests);
    # chunks that share a document or a match key never overlap, and one _bulk per index is sent at a
    # time (writer.WriteGates). Two: the next chunk's look-ups and documents go while the one before
    # keeps its versions, so the node is not left waiting (docs/indexing.md, "Efficiency").
    bulk_in_flight: int = Field(2, ge=1, description="bulk chunks in flight at once (1: one at a time)")
    max_page_bytes: int = Field(DEFAULT_PAGE_BYTES, description="the one size cap of an input page: fetched "
                                "responses, dump files, WARC records")
    es_retry_window: float = Field(120.0, description="seconds an index write keeps retrying while the node "
                                                       "does not answer or answers busy")
    # Plausibility gate: a new version of a stored document whose body lost more than this
    # share of its words is not written over it (a cut-short page); it goes to the dead letters.
    index_max_shrink: float = Field(0.5, ge=0, le=1, description="largest share of words a re-indexed body may lose")
    # Processes extracting pages in ingest(); 1 extracts in the calling process (no pool). With more,
    # they start only when a stream passes extract_workers_after inputs: a replay or an archive
    # partition gets them, a crawl's batches and short runs never pay for them. One by default: two
    # put a replay's memory over 300 MB (RSS summed) for a gain that did not show on a shared machine
    # (docs/indexing.md, "Efficiency against the bound").
    extract_workers: int = Field(1, ge=1, description="extraction processes per ingest run (1: none)")
    extract_workers_after: int = Field(1000, ge=0, description="inputs a stream extracts in its own process "
                                       "before it starts the extraction processes")

    # --- crawling (pipeline/crawl/fetch.py, pipeline/crawl/crawler.py); defaults are for the live site ---
    crawl_user_agent: str = Field(
        "mfa-ingest/0.1 (archive of published MFA transcripts; polite crawler, honours robots.txt)",
        description="descriptive User-Agent sent with every request",
    )
    crawl_base_url: str | None = Field(None, description="override of the profile's site.base_url (e.g. a replica)")
    crawl_archive_url: str | None = Field(None, description="override of the profile's crawl.archive_base_url")
    # One request per 5 s: the low end of what production scrapers of mid.ru wait (5-40 s) behind
    # its F5 firewall (docs/evidence/site-evidence.md, docs/crawling.md "Politeness defaults").
    crawl_rate_per_host: float = Field(0.2, gt=0, description="requests per second per host, retries included")
    crawl_concurrency: int = Field(2, ge=1, description="article fetches in flight at once")
    crawl_connect_timeout: float = 10.0
    crawl_read_timeout: float = 30.0
    crawl_max_retries: int = 5
    crawl_backoff_factor: float = 1.0
    crawl_backoff_max: float = 120.0
    crawl_backoff_jitter: float = 0.5
    crawl_retry_after_max: float = 300.0
    crawl_max_redirects: int = 5
    crawl_respect_robots: bool = True
    crawl_robots_ttl: float = 24 * 3600.0
    crawl_allowed_private_hosts: list[str] = Field(
        default_factory=list,
        description="host:port pairs allowed on a non-global address, on that port only (the replica), "
                    'e.g. ["127.0.0.1:8080"]')
    crawl_max_listing_pages: int = Field(2000, description="safety cap on listing pages walked per section")
    crawl_known_streak: int = Field(20, description="nightly crawl stops a listing after this many known documents in a row")
    crawl_batch_size: int = Field(50, description="pages indexed between two state checkpoints")
    crawl_retry_schedule: list[float] = Field(
        default_factory=lambda: [3600.0, 6 * 3600.0, 24 * 3600.0, 7 * 24 * 3600.0],
        description="seconds before a failed page is due again, by attempt; the last delay repeats forever")
    crawl_rss: bool = True
    crawl_progress: bool | None = Field(None, description="progress bar; default: only when stderr is a terminal")
    # --- backfill from web archives (pipeline/crawl/webarchive.py); any pywb-compatible archive ---
    wayback_cdx_url: str = Field("https://web.archive.org/cdx/search/cdx",
                                 description="CDX server of the Wayback Machine (or of any pywb: .../COLLECTION/cdx)")
    wayback_replay_url: str = Field("https://web.archive.org/web/",
                                    description="replay prefix; a capture is read raw at {this}{timestamp}id_/{url}")
    commoncrawl_index_url: str = Field("https://index.commoncrawl.org/CC-MAIN-2024-51-index",
                                       description="Common Crawl index server of one crawl (pywb CDX API)")
    commoncrawl_data_url: str = Field("https://data.commoncrawl.org/",
                                      description="prefix of the WARC files the index names (read by Range requests)")
    archive_rate_per_host: float = Field(0.5, gt=0, description="requests per second per archive host, retries "
                                         "included (archives ask for less than the site)")
    warc_max_bytes: int = Field(256 * 1024 * 1024, description="rotate the crawl WARC file after this size")
    warc_enabled: bool = True
    # Shared storage by URL (pipeline/storage.py): file:///..., s3://bucket/prefix, any fsspec protocol.
    warc_url: str | None = Field(None, description="folder URL for the crawl's WARC files (default: state_dir/warc)")
    deadletter_url: str | None = Field(None, description="folder URL for dead-letter files (default: state_dir/deadletter)")
    deadletter_max_bytes: int = Field(64 * 1024 * 1024, ge=0, description="a run's dead-letter file keeps the "
                                      "refused inputs' bytes up to this size; past it, only what failed and why")
    deadletter_index_max_bytes: int = Field(2 * 1024 ** 3, ge=0, description="the dead-letter index keeps "
                                            "refused inputs' bytes up to this total, its open letters together; "
                                            "past it a letter keeps what failed and why, and says its bytes were "
                                            "dropped")
    deadletter_keep_resolved_days: float = Field(30.0, ge=0, description="redrive deletes the dead letters "
                                                 "resolved more than this many days ago")

    config_dir: Path = DEFAULT_CONFIG_DIR
    state_dir: Path = DEFAULT_STATE_DIR
    site_profile: Path | None = None

    @field_validator("index_alias", "deadletter_index", "state_index")
    @classmethod
    def _index_name(cls, name: str) -> str:
        problem = index_name_problem(name)
        if problem:
            raise ValueError(problem)
        return name

    @property
    def site_profile_path(self) -> Path:
        return self.site_profile or self.config_dir / "site.yaml"

    @property
    def deadletter_dir(self) -> Path | str:
        """Where dead-letter files go: MFA_DEADLETTER_URL, else <state_dir>/deadletter."""
        return self.deadletter_url or self.state_dir / "deadletter"

    @property
    def warc_dir(self) -> Path | str:
        """Where the crawl's WARC files go: MFA_WARC_URL, else <state_dir>/warc."""
        return self.warc_url or self.state_dir / "warc"
