"""Stage extract, step 2: a page's bytes -> one parsed document, shared by every reader.

``parse_document`` is the one parser entry for HTML pages: the blocked check
(extract/challenge.py, crawl/blocked.py), the article's language links and extraction
read the same ``Document``: its text decoded once (decode.py), its lxml tree parsed once,
the CSS look-ups on it (``_Query``: answers kept per selector) and the profile layout that
detects it, found once. Each part is made when first asked for, so a feed or robots.txt
that is not HTML is never parsed, and a page that cannot be decoded raises DropPage only
when a reader needs its text.

The layout's readers (detection, extraction, the language links) read ``Document.article``:
the page parsed without the content of the profile's chrome blocks (precut.py: the menus,
most of a heavy page's parsing) when that provably reads the same for the layout detected,
else the whole page. Readers of the whole page (the challenge test, a listing, a page of
no layout) read ``Document.root``, the whole page parsed, only when they ask for it.

Extraction reads the document last: it drops the layout's boilerplate out of the tree
(``_remove`` in extractor.py), which the kept look-ups allow for (``_Query.dropped``).
A document lives in one process: pages sent to extraction workers are parsed there.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cached_property, lru_cache

from cssselect import SelectorError
from cssselect import parser as cssparser
from cssselect.parser import parse as cssselect_parse
from lxml import etree
from lxml.cssselect import CSSSelector

from pipeline.model.errors import ConfigError, DropPage
from pipeline.extract.decode import Decoded, decode_page
from pipeline.extract.flatten import flatten_deep_html
from pipeline.extract.precut import chrome_cut
from pipeline.profile import HtmlLayout, SiteProfile, compiled_selector


class Document:
    """One page, parsed once: ``content`` (bytes), ``decoded`` (text and whether it is HTML),
    ``root`` (the lxml tree), ``query`` (CSS look-ups on it) and ``layout`` (the profile's
    article layout that detects it, or None)."""

    def __init__(self, content: bytes, content_type: str | None, profile: SiteProfile):
        self.content = content
        self.content_type = content_type
        self.profile = profile

    @cached_property
    def decoded(self) -> Decoded:
        """The text; DropPage when the page is too large, empty, binary or undecodable."""
        limit = self.profile.extraction.max_bytes
        if len(self.content) > limit:
            raise DropPage(f"input too large: {len(self.content)} bytes > {limit}")
        return decode_page(self.content, self.content_type)

    @cached_property
    def root(self) -> etree._Element:
        """The tree of the whole text, HTML or not (plain text reads as one paragraph)."""
        return parse_html(self.decoded.text)

    @cached_property
    def article(self) -> "Article":
        """The tree the layout's readers use, with its look-ups and the layout detected on it: the
        page without the content of its chrome blocks (precut.py) when that provably reads the
        same for the layout detected, else the whole page (``root``)."""
        cut = chrome_cut(self.content, self.decoded, self.profile.extraction)
        if cut is not None:
            tree = parse_html(cut.text)
            query = _Query(tree)
            layout = _layout_of(query, self.profile)
            if layout is not None and cut.fits(tree, layout):
                return Article(tree, query, layout, cut=True)
        query = _Query(self.root)
        return Article(self.root, query, _layout_of(query, self.profile), cut=False)

    @property
    def query(self) -> "_Query":
        """CSS look-ups on ``article.root``."""
        return self.article.query

    @property
    def layout(self) -> HtmlLayout | None:
        return self.article.layout


@dataclass(frozen=True)
class Article:
    """``root``: the tree a layout's readers use (``cut``: without the content of its chrome
    blocks), ``query``: the look-ups on it, ``layout``: the profile layout that detects it."""

    root: etree._Element
    query: "_Query"
    layout: HtmlLayout | None
    cut: bool


def parse_document(content: bytes, content_type: str | None, profile: SiteProfile) -> Document:
    """The page as one ``Document``; nothing is decoded or parsed until a reader asks."""
    return Document(content, content_type, profile)


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")


def parse_html(text: str) -> etree._Element:
    """A tolerant lxml tree; DropPage when nothing can be parsed.

    Plain ``etree`` elements, not ``lxml.html``'s: those are looked up in Python for every
    element the code touches (the class of each tag), a few per cent of extracting a page.

    ``huge_tree`` lifts libxml2's nesting limit from 256 to 2048 levels; a page deeper
    than that is parsed again after flatten_deep_html, so no text below the limit is lost.
    """
    text = _XML_DECLARATION.sub("", text, count=1)
    root, too_deep = _parse(text)
    if too_deep:
        root, _ = _parse(flatten_deep_html(text))
    return root


_PARSERS = threading.local()  # one parser per thread: lxml parsers are not thread-safe


def _parse(text: str) -> tuple[etree._Element, bool]:
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = etree.HTMLParser(huge_tree=True)
    try:
        root = etree.fromstring(text, parser)
    except (etree.ParserError, ValueError) as exc:
        raise DropPage(f"unparsable HTML: {exc}") from None
    if root is None:
        raise DropPage("unparsable HTML: Document is empty")
    # Past the depth limit libxml2 stops reading: the limit is then its last error.
    last = parser.error_log.last_error
    return root, last is not None and last.type_name == "ERR_RESOURCE_LIMIT"


class _Query:
    """CSS look-ups on one parsed page, each a walk of the tree in libxml2.

    A profile lists several selectors per field (one per layout variant), most of which
    a given page cannot match: a selector whose tags and classes (``_needs``) do not all
    occur in the page is answered "nothing" without the walk. The page's tags and
    classes are read once, at the first look-up; later ones may run after ``_remove``
    dropped elements, and dropping only takes away, so what was absent stays absent.

    A whole-page answer is kept for the selectors that only test an element and its
    ancestors (``_stable``): layouts look the same selector up more than once (detection,
    then the field; the head, then the date's scope). Dropping a subtree cannot make such
    a selector match anew, nor stop it matching an element that stays, so after ``dropped``
    the kept answer is the old one without the elements that left the page.
    """

    def __init__(self, root):
        self.root = root
        self._classes: set[str] | None = None
        self._answers: dict[str, list] = {}
        self._pruned = False

    def __call__(self, selector: str, scope=None) -> list:
        if scope is None:
            kept = self._answers.get(selector)
            if kept is not None:
                return [e for e in kept if self._attached(e)] if self._pruned else kept
        needs = _needs(selector)
        if needs is not None and needs[1]:
            # Classes only: they are read as strings in one XPath call, while listing the
            # tags would make a Python object of every element.
            if self._classes is None:
                self._classes = _classes(self.root)
            if not needs[1] <= self._classes:
                return []
        found = _css(selector)(self.root if scope is None else scope)
        if scope is None and _stable(selector):
            self._answers[selector] = found
        return found

    def dropped(self) -> None:
        """Subtrees were dropped from the page (``_remove``)."""
        self._pruned = True

    def _attached(self, element) -> bool:
        top = element
        for top in element.iterancestors():
            pass
        return top is self.root


def _select(query: _Query, selectors: list[str]) -> list:
    for selector in selectors:
        found = query(selector)
        if found:
            return found
    return []


def _css(selector: str) -> CSSSelector:
    try:
        return compiled_selector(selector)
    except SelectorError as exc:
        raise ConfigError(f"bad CSS selector in the site profile: {selector!r}: {exc}") from None



_CLASS_SEPARATOR = re.compile(r"[ \t\r\n]+")  # how XPath's normalize-space splits @class


def _present(element) -> tuple[set[str], set[str]]:
    """The tag names (lower-case) and class tokens in ``element`` and below it."""
    tags = {node.tag.lower() for node in element.iter() if isinstance(node.tag, str)}
    return tags, _classes(element)


_CLASS_VALUES = etree.XPath("descendant-or-self::*/@class", smart_strings=False)


def _classes(element) -> set[str]:
    """The class tokens in ``element`` and below it."""
    return set(_CLASS_SEPARATOR.split(" ".join(_CLASS_VALUES(element))))


@lru_cache(maxsize=512)
def _needs(selector: str) -> tuple[frozenset[str], frozenset[str]] | None:
    """Tags and classes that must occur in a subtree for ``selector``, applied to it, to
    match anything; None when that cannot be told (groups, unusual selectors)."""
    try:
        parsed = cssselect_parse(selector)
    except SelectorError:
        return None
    if len(parsed) != 1:
        return None
    tags: set[str] = set()
    classes: set[str] = set()
    if not _collect_needs(parsed[0].parsed_tree, tags, classes):
        return None
    return frozenset(tags), frozenset(classes)


def _collect_needs(tree, tags: set[str], classes: set[str]) -> bool:
    if isinstance(tree, cssparser.Element):
        if tree.namespace is None and tree.element not in (None, "*"):
            tags.add(tree.element.lower())  # the HTML translator lower-cases element names
        return tree.namespace is None
    if isinstance(tree, cssparser.Class):
        classes.add(tree.class_name)
        return _collect_needs(tree.selector, tags, classes)
    if isinstance(tree, (cssparser.Hash, cssparser.Attrib, cssparser.Pseudo, cssparser.Function, cssparser.Negation)):
        return _collect_needs(tree.selector, tags, classes)  # the extra condition only narrows
    if isinstance(tree, cssparser.CombinedSelector):
        if tree.combinator in (" ", ">"):
            return _collect_needs(tree.selector, tags, classes) and _collect_needs(tree.subselector, tags, classes)
        # "+" / "~": the sibling may lie outside the subtree (a sibling of its root)
        return _collect_needs(tree.selector, tags, classes)
    return False


@lru_cache(maxsize=512)
def _stable(selector: str) -> bool:
    """Whether ``selector`` tests only an element and its ancestors (tags, classes, ids,
    attributes; descendant and child combinators): no sibling or position pseudo-classes,
    whose answer can change when another element is dropped."""
    try:
        parsed = cssselect_parse(selector)
    except SelectorError:
        return False
    return all(group.pseudo_element is None and _ancestral(group.parsed_tree) for group in parsed)


def _ancestral(tree, combined: bool = True) -> bool:
    """Tags, classes, ids and attributes only; with ``combined`` also descendant and child
    combinators of such parts."""
    if isinstance(tree, cssparser.Element):
        return True
    if isinstance(tree, (cssparser.Class, cssparser.Hash, cssparser.Attrib)):
        return _ancestral(tree.selector, combined)
    if combined and isinstance(tree, cssparser.CombinedSelector):
        return tree.combinator in (" ", ">") and _ancestral(tree.selector) and _ancestral(tree.subselector)
    return False



def _layout_of(query: _Query, profile: SiteProfile):
    for layout in profile.extraction.layouts:
        if any(query(selector) for selector in layout.detect):
            return layout
    return None

