"""Stage extract: whether a parsed page is an anti-bot challenge, not the page asked for.

mid.ru sits behind an F5 (TSPD) JavaScript challenge that answers **200** with a near-empty
page (site-evidence.md, "Being blocked"). The crawl checks every answer before reading it
(pipeline/crawl/blocked.py); an archive (a crawl's own WARC files, a web archive's capture)
holds such answers too, and the ingest path names them when one is replayed. One test for both,
on the page's ``Document`` (extract/document.py, the parse extraction reads too): a challenge
marker of the profile (``crawl.blocked.markers``) with little text, or a body with a
``<script>`` and almost no visible text.
"""

from __future__ import annotations

from lxml import etree

from pipeline.model.errors import DropPage
from pipeline.extract.document import Document

# The text a reader sees: every text node outside scripts, styles and templates (the tree is
# shared with extraction, so nothing is dropped out of it to read this).
_VISIBLE_TEXT = etree.XPath("//text()[not(ancestor::script or ancestor::style or ancestor::noscript"
                            " or ancestor::template)]", smart_strings=False)


def _visible_text(root) -> str:
    return " ".join("".join(_VISIBLE_TEXT(root)).split())


def challenge_reason(document: Document) -> str | None:
    """Why a page is an anti-bot challenge (a marker, or scripts and almost no text); None when
    not, or when it has no text at all (DropPage: the extract stage says what it is)."""
    rules = document.profile.crawl.blocked
    try:
        text, root = document.decoded.text, document.root
    except DropPage:
        return None
    marker = next((m for m in rules.markers if m in text), None)
    visible = _visible_text(root)
    if marker is not None and len(visible) < 20 * rules.min_text_chars:
        return f"anti-bot challenge (marker {marker!r}, {len(visible)} characters of text)"
    has_script = "<script" in text.lower()
    if has_script and len(visible) < rules.min_text_chars:
        return f"anti-bot challenge (scripts and {len(visible)} characters of text)"
    return None


def has_article(document: Document) -> bool:
    """One of the profile's article layouts detects the page: the page asked for, even with a
    stray marker in a <noscript>. False for a page without text (DropPage)."""
    try:
        return document.layout is not None
    except DropPage:
        return False


def archived_challenge(document: Document) -> str | None:
    """Why an answer archived or saved in place of an article (a WARC record, a capture, a
    dump) is a challenge and not the article, or None. Asked after extraction too: a page no
    layout detects is the tree as parsed (extraction drops boilerplate only from a detected
    layout's text)."""
    return None if has_article(document) else challenge_reason(document)
