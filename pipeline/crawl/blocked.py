"""Blocked responses: anti-bot challenges and other HTTP 200 answers that are not the page asked for.

mid.ru sits behind an F5 (TSPD) JavaScript challenge that answers **200** with a near-empty
page (site-evidence.md, "Being blocked"); a status code proves nothing. Each kind of page
is checked before anything reads it, on the page's one parse (``extract.document.Document``,
which the article's language links and extraction then read):

- every kind: an anti-bot challenge (pipeline/extract/challenge.py: a marker of the profile,
  or a body with a ``<script>`` and almost no visible text);
- article: none of the profile's article layouts detects the page (no article container);
- listing: the listing layout's ``container`` is absent (an empty listing still has it);
- feed, robots.txt: an HTML body (as extraction sniffs HTML: ``decode.looks_like_html``)
  where RSS or rules were asked for.

A challenge is ``errors.Blocked`` (kind ``blocked``: slow down, try later). A page that is no
challenge but lacks its container is ``errors.LayoutChanged`` (kind ``layout_changed``): the
site was redesigned, the reason names the profile selector to fix, and no backoff or retry
helps. ``problem`` returns that error (unraised), ``check`` its reason, or None for a real
page; the crawl raises it, so such a page is never extracted, indexed, or taken as "empty"
or "done".
"""

from __future__ import annotations

from pipeline.model.errors import Blocked, DropPage, FetchError, LayoutChanged
from pipeline.extract.challenge import challenge_reason, has_article
from pipeline.extract.decode import looks_like_html
from pipeline.extract.document import Document
from pipeline.profile import ListingLayout, compiled_selector

PAGE_KINDS = ("article", "listing", "feed", "robots")
# Kinds that are not HTML, and the reason when one comes as HTML that is no known challenge.
_NOT_HTML = {"feed": "feed answered with HTML, not RSS (a challenge or an error page)",
             "robots": "robots.txt answered with HTML (a challenge or an error page)"}


def check(document: Document, page_kind: str, *, listing: ListingLayout | None = None) -> str | None:
    """The reason a response of ``page_kind`` is not the page asked for, or None when it is.
    ``document``: the response as ``extract.document.parse_document`` reads it, shared with
    whatever reads the page next (its language links, extraction)."""
    found = problem(document, page_kind, listing=listing)
    return found.reason if found is not None else None


def problem(document: Document, page_kind: str, *,
            listing: ListingLayout | None = None) -> FetchError | None:
    """``Blocked`` (a challenge), ``LayoutChanged`` (no challenge, no container) or None (the page asked for)."""
    if page_kind in _NOT_HTML:
        if not looks_like_html(document.content[:512]):
            return None  # rules, XML, or junk the feed parser reports as such
        return Blocked(challenge_reason(document) or _NOT_HTML[page_kind])
    try:
        # An article is read through the layout's tree (the whole page only when that is no
        # layout's): asking for ``root`` first would parse a page with chrome blocks twice.
        root = document.article.root if page_kind == "article" else document.root
    except DropPage:
        return None  # nothing to read: the extract stage says what it is
    # A page with its container is the page asked for, even with a stray marker in a <noscript>.
    if page_kind == "article":
        if has_article(document):
            return None
        missing = ("article container missing: none of the article layouts' detect selectors matched: "
                   "check the detect selectors of extraction.layouts in the site profile (mfa-ingest check-site)")
    elif page_kind == "listing" and listing is not None and listing.container:
        if compiled_selector(listing.container)(root):
            return None
        name = next((n for n, layout in document.profile.crawl.layouts.items() if layout is listing), "?")
        missing = (f"listing container {listing.container!r} matched nothing: check crawl.layouts.{name}.container "
                   "in the site profile (mfa-ingest check-site)")
    else:
        reason = challenge_reason(document)
        return Blocked(reason) if reason else None
    reason = challenge_reason(document)
    return Blocked(reason) if reason else LayoutChanged(missing)


def raise_if_blocked(document: Document, page_kind: str, url: str, *,
                     listing: ListingLayout | None = None) -> None:
    """Raise ``Blocked`` (a challenge) or ``LayoutChanged`` (no container) naming the URL and the reason."""
    found = problem(document, page_kind, listing=listing)
    if found is not None:
        label = "blocked" if found.kind == "blocked" else "layout changed"
        raise type(found)(f"{label}: {page_kind} {url}: {found.reason}")
