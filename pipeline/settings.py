"""Settings shared by the CLI, the library and the DAGs.

Read from the environment with the ``MFA_`` prefix (``MFA_ES_URL``,
``MFA_INDEX_ALIAS``...). Inside Airflow the DAGs build the same model from the
``elasticsearch_default`` connection instead (see dags/_wiring.py).
Secrets only ever come from the environment or an Airflow connection.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MFA_", extra="ignore")

    es_url: str = "http://127.0.0.1:9200"
    es_username: str | None = None
    es_password: SecretStr | None = None
    es_api_key: SecretStr | None = None
    es_request_timeout: float = 30.0
    es_verify_certs: bool = True

    index_alias: str = Field("mfa-transcripts", description="read alias analysts query")
    deadletter_index: str = "mfa-deadletter"
    state_index: str = "mfa-crawl-state"
    bulk_chunk_size: int = 200

    config_dir: Path = REPO_ROOT / "config"
    state_dir: Path = REPO_ROOT / ".state"
    site_profile: Path | None = None

    @property
    def site_profile_path(self) -> Path:
        return self.site_profile or self.config_dir / "site.yaml"

    @property
    def deadletter_dir(self) -> Path:
        return self.state_dir / "deadletter"

    @property
    def warc_dir(self) -> Path:
        return self.state_dir / "warc"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
