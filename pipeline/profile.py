"""The site profile: everything specific to mid.ru, loaded from config/site.yaml.

Selectors, URL patterns and boilerplate phrases are data, so an operator can
follow a layout change by editing YAML, not code. This module only defines the
shape (pydantic models) and loads it; the stages read what they need from it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteInfo(_Strict):
    name: str
    base_url: str
    hosts: list[str]
    default_language: str = "en"


class ExtractionRules(_Strict):
    """Selectors and phrase lists used by extract.py, clean.py and parse.py."""

    model_config = ConfigDict(extra="allow", frozen=True)


class CrawlRules(_Strict):
    """Sections, listing selectors and URL patterns used by sources and fetch."""

    model_config = ConfigDict(extra="allow", frozen=True)


class SiteProfile(_Strict):
    site: SiteInfo
    extraction: ExtractionRules = Field(default_factory=ExtractionRules)
    crawl: CrawlRules = Field(default_factory=CrawlRules)


def load_profile(path: Path) -> SiteProfile:
    """Read and validate a site profile; a clear ConfigError when it is wrong."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read site profile {path}: {exc}") from None
    try:
        return SiteProfile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"site profile {path} is invalid: {exc}") from None


@lru_cache(maxsize=8)
def _cached(path: str) -> SiteProfile:
    return load_profile(Path(path))


def get_profile(path: Path | None = None) -> SiteProfile:
    """The profile at ``path`` (default: the one named by the settings), cached."""
    if path is None:
        from .settings import get_settings

        path = get_settings().site_profile_path
    return _cached(str(Path(path).resolve()))
