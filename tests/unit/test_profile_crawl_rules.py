"""The crawl section of the site profile is checked when it is loaded, not mid-crawl."""

from __future__ import annotations

import pytest
import yaml

from pipeline.model.errors import ConfigError
from pipeline.profile import load_profile
from pipeline.settings import REPO_ROOT


def profile_with(tmp_path, change):
    data = yaml.safe_load((REPO_ROOT / "config" / "site.yaml").read_text(encoding="utf-8"))
    change(data["crawl"])
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_shipped_profile_loads():
    assert load_profile(REPO_ROOT / "config" / "site.yaml").crawl.sections


def test_a_section_naming_an_unknown_layout_is_a_config_error(tmp_path):
    path = profile_with(tmp_path, lambda crawl: crawl["sections"][0].update(layout="curent"))
    with pytest.raises(ConfigError, match="unknown layout 'curent'"):
        load_profile(path)


def test_a_layout_on_an_unknown_site_is_a_config_error(tmp_path):
    path = profile_with(tmp_path, lambda crawl: crawl["layouts"]["archive"].update(site="archiv"))
    with pytest.raises(ConfigError, match="'archiv'"):
        load_profile(path)


def edited_profile(tmp_path, change):
    data = yaml.safe_load((REPO_ROOT / "config" / "site.yaml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_bad_article_selector_is_a_load_time_error_naming_it(tmp_path):
    """Before: the selector compiled on the first page, and every page became a dead letter."""
    path = edited_profile(tmp_path, lambda d: d["extraction"]["layouts"][0]["text"].insert(0, "div.text >> p"))
    with pytest.raises(ConfigError, match=r"bad CSS selector 'div.text >> p'"):
        load_profile(path)


def test_a_bad_listing_selector_is_a_load_time_error_naming_it(tmp_path):
    path = edited_profile(tmp_path, lambda d: next(iter(d["crawl"]["layouts"].values())).update(item="li[class="))
    with pytest.raises(ConfigError, match=r"bad CSS selector 'li\[class='"):
        load_profile(path)
