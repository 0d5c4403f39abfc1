"""Blocked responses: anti-bot challenges and other HTTP 200 answers that are not the page asked for.

mid.ru sits behind an F5 (TSPD) JavaScript challenge that answers **200** with a near-empty
page (site-evidence.md, "Being blocked"); a status code proves nothing. Each kind of page
is checked before anything reads it:

- every kind: an anti-bot challenge (pipeline/sources/challenge.py: a marker of the profile,
  or a body with a ``<script>`` and almost no visible text);
- article: none of the profile's article layouts detects the page (no article container);
- listing: the listing layout's ``container`` is absent (an empty listing still has it);
- feed: an HTML body where RSS was asked for.

``check`` returns the reason, or None for a real page; the crawl raises ``errors.Blocked``
with it, so a blocked page is counted as ``blocked``, never extracted, indexed, or taken
as "empty" or "done".
"""

from __future__ import annotations

from pipeline.model.errors import Blocked
from pipeline.profile import ListingLayout, SiteProfile, compiled_selector
from pipeline.sources.challenge import HTML_START, challenge_reason, has_article, parse_html_bytes

PAGE_KINDS = ("article", "listing", "feed", "robots")


def check(content: bytes, page_kind: str, profile: SiteProfile, *, listing: ListingLayout | None = None) -> str | None:
    """The reason a response of ``page_kind`` is blocked, or None when it is the page asked for."""
    if page_kind == "feed":
        if not HTML_START.search(content[:512]):
            return None  # XML, or junk the feed parser reports as such
        return challenge_reason(content, profile) or "feed answered with HTML, not RSS (a challenge or an error page)"
    if page_kind == "robots":
        if not HTML_START.search(content[:512]):
            return None
        return challenge_reason(content, profile) or "robots.txt answered with HTML (a challenge or an error page)"
    root = parse_html_bytes(content)
    if root is None:
        return None  # not HTML at all: the extract stage says what it is
    # A page with its container is the page asked for, even with a stray marker in a <noscript>.
    if page_kind == "article":
        if has_article(root, profile):
            return None
        missing = "structural miss: no article container (none of the layouts' detect selectors matched)"
    elif page_kind == "listing" and listing is not None and listing.container:
        if compiled_selector(listing.container)(root):
            return None
        missing = f"structural miss: no listing container ({listing.container!r} matched nothing)"
    else:
        return challenge_reason(content, profile, root)
    return challenge_reason(content, profile, root) or missing


def raise_if_blocked(content: bytes, page_kind: str, profile: SiteProfile, url: str, *,
                     listing: ListingLayout | None = None) -> None:
    """Raise ``Blocked`` (kind ``blocked``) naming the URL and the reason."""
    reason = check(content, page_kind, profile, listing=listing)
    if reason:
        raise Blocked(f"blocked: {page_kind} {url}: {reason}")
