"""Anti-bot challenges: an HTTP 200 answer that is not the page asked for, however it came in.

mid.ru sits behind an F5 (TSPD) JavaScript challenge that answers **200** with a near-empty
page (site-evidence.md, "Being blocked"). The crawl checks every answer before reading it
(pipeline/crawl/blocked.py); an archive (a crawl's own WARC files, a web archive's capture)
holds such answers too, and the ingest path names them when one is replayed. One test for both:
a challenge marker of the profile (``crawl.blocked.markers``) with little text, or a body with a
``<script>`` and almost no visible text.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from pipeline.profile import SiteProfile, compiled_selector

HTML_START = re.compile(rb"^\s*(?:<!doctype html|<html)", re.I)


def parse_html_bytes(content: bytes):
    """An lxml.html tree of the body, or None when nothing can be parsed."""
    try:
        return lxml.html.document_fromstring(content)
    except (etree.ParserError, ValueError):
        return None


def _visible_text(root) -> str:
    for bad in root.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    return " ".join(root.text_content().split())


def challenge_reason(content: bytes, profile: SiteProfile, root=None) -> str | None:
    """Why a body is an anti-bot challenge (a marker, or scripts and almost no text); None when not.
    ``root``: the body as the caller parsed it already (``parse_html_bytes``); its scripts are
    taken out here."""
    rules = profile.crawl.blocked
    text = content.decode("utf-8", "replace")
    marker = next((m for m in rules.markers if m in text), None)
    root = parse_html_bytes(content) if root is None else root
    visible = _visible_text(root) if root is not None else ""
    if marker is not None and len(visible) < 20 * rules.min_text_chars:
        return f"anti-bot challenge (marker {marker!r}, {len(visible)} characters of text)"
    has_script = b"<script" in content.lower()
    if has_script and len(visible) < rules.min_text_chars:
        return f"anti-bot challenge (scripts and {len(visible)} characters of text)"
    return None


def has_article(root, profile: SiteProfile) -> bool:
    """One of the profile's article layouts detects the page: the page asked for, even with a
    stray marker in a <noscript>."""
    return any(compiled_selector(s)(root) for layout in profile.extraction.layouts for s in layout.detect)


def archived_challenge(content: bytes, profile: SiteProfile) -> str | None:
    """Why an archived HTML answer at an article URL is a challenge and not the article, or None."""
    root = parse_html_bytes(content)
    if root is not None and has_article(root, profile):
        return None
    return challenge_reason(content, profile, root)
