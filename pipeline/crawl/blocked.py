"""Blocked responses: anti-bot challenges and other HTTP 200 answers that are not the page asked for.

mid.ru sits behind an F5 (TSPD) JavaScript challenge that answers **200** with a near-empty
page (site-evidence.md, "Being blocked"); a status code proves nothing. Each kind of page
is checked before anything reads it:

- every kind: a challenge marker of the profile (``crawl.blocked.markers``), or a body with
  a ``<script>`` and almost no visible text;
- article: none of the profile's article layouts detects the page (no article container);
- listing: the listing layout's ``container`` is absent (an empty listing still has it);
- feed: an HTML body where RSS was asked for.

``check`` returns the reason, or None for a real page; the crawl raises ``errors.Blocked``
with it, so a blocked page is counted as ``blocked``, never extracted, indexed, or taken
as "empty" or "done".
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from pipeline.errors import Blocked
from pipeline.profile import ListingLayout, SiteProfile, compiled_selector

PAGE_KINDS = ("article", "listing", "feed", "robots")
_HTML_START = re.compile(rb"^\s*(?:<!doctype html|<html)", re.I)


def _visible_text(root) -> str:
    for bad in root.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    return " ".join(root.text_content().split())


def _parse(content: bytes):
    try:
        return lxml.html.document_fromstring(content)
    except (etree.ParserError, ValueError):
        return None


def challenge_reason(content: bytes, profile: SiteProfile, *, html_expected: bool = True) -> str | None:
    """Why a body is an anti-bot challenge (a marker, or scripts and almost no text); None when not."""
    rules = profile.crawl.blocked
    text = content.decode("utf-8", "replace")
    marker = next((m for m in rules.markers if m in text), None)
    if not html_expected and not _HTML_START.search(content[:512]) and marker is None:
        return None
    root = _parse(content)
    visible = _visible_text(root) if root is not None else ""
    if marker is not None and len(visible) < 20 * rules.min_text_chars:
        return f"anti-bot challenge (marker {marker!r}, {len(visible)} characters of text)"
    has_script = b"<script" in content.lower()
    if has_script and len(visible) < rules.min_text_chars:
        return f"anti-bot challenge (scripts and {len(visible)} characters of text)"
    return None


def check(content: bytes, page_kind: str, profile: SiteProfile, *, listing: ListingLayout | None = None) -> str | None:
    """The reason a response of ``page_kind`` is blocked, or None when it is the page asked for."""
    if page_kind == "feed":
        if not _HTML_START.search(content[:512]):
            return None  # XML, or junk the feed parser reports as such
        return challenge_reason(content, profile) or "feed answered with HTML, not RSS (a challenge or an error page)"
    if page_kind == "robots":
        if not _HTML_START.search(content[:512]):
            return None
        return challenge_reason(content, profile) or "robots.txt answered with HTML (a challenge or an error page)"
    root = _parse(content)
    if root is None:
        return None  # not HTML at all: the extract stage says what it is
    # A page with its container is the page asked for, even with a stray marker in a <noscript>.
    if page_kind == "article":
        selectors = [s for layout in profile.extraction.layouts for s in layout.detect]
        if any(compiled_selector(s)(root) for s in selectors):
            return None
        missing = "structural miss: no article container (none of the layouts' detect selectors matched)"
    elif page_kind == "listing" and listing is not None and listing.container:
        if compiled_selector(listing.container)(root):
            return None
        missing = f"structural miss: no listing container ({listing.container!r} matched nothing)"
    else:
        return challenge_reason(content, profile)
    return challenge_reason(content, profile) or missing


def raise_if_blocked(content: bytes, page_kind: str, profile: SiteProfile, url: str, *,
                     listing: ListingLayout | None = None) -> None:
    """Raise ``Blocked`` (kind ``blocked``) naming the URL and the reason."""
    reason = check(content, page_kind, profile, listing=listing)
    if reason:
        raise Blocked(f"blocked: {page_kind} {url}: {reason}")
