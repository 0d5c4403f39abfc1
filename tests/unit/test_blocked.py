"""The blocked check (crawl/blocked.py) reads the page as extraction does: one HTML sniffer."""

from __future__ import annotations

import pytest

from pipeline.crawl.blocked import check
from pipeline.extract.document import parse_document
from pipeline.context import get_profile
from mfa_replica.pages import CHALLENGE


@pytest.mark.parametrize("kind", ["robots", "feed"])
@pytest.mark.parametrize("head", ["<!-- F5 -->\n<html>", "<head>"])
def test_a_challenge_in_place_of_robots_or_a_feed_is_blocked_however_its_html_starts(kind, head):
    """Extraction takes a body starting with a comment or <head> for HTML; the blocked check
    sniffed only <!doctype html / <html, so such a challenge passed as robots rules or a feed."""
    body = CHALLENGE.replace("<!DOCTYPE html><html>", head)
    assert "anti-bot challenge" in check(parse_document(body.encode(), None, get_profile()), kind)


@pytest.mark.parametrize("kind", ["robots", "feed"])
def test_rules_and_rss_are_not_blocked(kind):
    for body in (b"User-agent: *\nDisallow: /search/\n", b"<?xml version='1.0'?><rss><channel><title>x</title></channel></rss>"):
        assert check(parse_document(body, None, get_profile()), kind) is None
