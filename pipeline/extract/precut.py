"""Stage extract, step 2a: a page's bytes -> the page with its chrome blocks emptied, before parsing.

A heavy page is mostly menus: on the extract bench's 97 KB pages the header and footer are
4.3 of the 4.7 ms libxml2 takes to parse five pages, and no reader of a known layout looks
inside them. The profile names such blocks per layout (``chrome_blocks``: the start of the
start tag as the page writes it, ``<header class="header"``); ``chrome_cut`` leaves the
content of each out of the bytes, keeps its start and end tag (the element stays, empty, so
the blocks and lines around it read the same) and puts a marker comment in its place.

The cut is used only where it provably changes nothing a reader of the detected layout
sees; anywhere in doubt the whole page is parsed (``Document`` in document.py):

* **bytes**: the page is UTF-8 read verbatim (``Decoded.verbatim``), the block's start tag
  ends cleanly, its end tag is found with nesting counted (in any letter case), and its
  content holds nothing that changes how the parser reads what follows: no comment,
  ``<!``/``<?`` construct, element whose content is not markup (script, style, title,
  textarea...), ``html``/``head``/``body`` tag, ``meta``, foreign content (svg, math) or
  numeric character reference. The parser then leaves the block at its end tag in the
  state it entered it (libxml2 closes what the block left open at that end tag).
* **readers** (``_Verdict``): no element of the block can match a selector any layout reads
  with (detect, text, title, date, time, date scope, number, section, languages, head): each
  such selector needs a tag, class, id or attribute that the block's bytes lack. Tokens of
  an ancestor part of a selector could also be met by ``<html>`` or ``<body>``, whose
  attributes are checked once parsed. ``<title>`` (the document title) cannot be in a block.
* **tree** (``Cut.fits``): the layout detected on the cut page lists every block cut, and
  each emptied block is a child of ``<body>`` (or ``<html>``): no element a reader walks
  (the article head, the text container, a date scope) holds one.

Judging a block (its tag inventory, the readers' tokens) costs about what parsing it would,
so it is done once per block content: a verdict depends only on the block's bytes and the
profile, and a site's chrome is the same on page after page. A block is judged the second
time its exact bytes are seen (the first time the page is parsed whole: a site whose chrome
changes on every page pays a hash per block, never the judging), and its verdict is kept
(64 blocks) with the block's length, so a later page with the same block is recognised by one
comparison of bytes. Pages under 32 KB and blocks under 2 KB are parsed as they are (leaving
them out saves less than it costs), and so are blocks over 256 KB (the verdicts keep their
blocks' bytes: at most 16 MB).
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass
from functools import lru_cache

from cssselect import SelectorError
from cssselect import parser as cssparser
from cssselect.parser import parse as cssselect_parse
from lxml import etree

from pipeline.profile import ExtractionRules, HtmlLayout

# A page cannot hold the marker by chance or design: it changes with every process.
MARKER = f"mfa:precut:{secrets.token_hex(8)}"
_MARKER_BYTES = f"<!--{MARKER}-->".encode()
# The rest of a start tag after the profile's start: attributes, then ">" (no "/>").
_START_TAG_REST = re.compile(rb"""(?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*\s*>""")
_DELIMITERS = b" \t\n\r\f/>"
# Every tag name in a block (lower-cased), "!" and "?" for <! and <? constructs, "/" for "</"
# not followed by a letter (a bogus comment that could hide an end tag).
_TAG_NAMES = re.compile(rb"<(!|\?|/(?![a-z])|/?[a-z][a-z0-9-]*)")
# What changes how the parser reads the bytes after a block (module docstring).
_UNSAFE_NAMES = frozenset(prefix + name.encode() for prefix in (b"", b"/") for name in """html head body frameset
script style xmp iframe noembed noframes noscript plaintext title textarea template svg math meta base object embed
applet select""".split()) | {b"!", b"?", b"/"}
_ALNUM_RUN = re.compile(rb"[a-z0-9]+")
# libxml2 lets an end tag close only elements of its priority or lower: a block's end tag
# passes over an open span or li, but a <div> or table part left open inside the block keeps
# the block open past its end tag, and it swallows the rest of the page. These must nest.
_STRONG_NAMES = frozenset(prefix + name for prefix in (b"", b"/")
                          for name in (b"div", b"table", b"thead", b"tbody", b"tfoot", b"tr", b"td", b"th"))
_MARKED = etree.XPath(f"//comment()[. = '{MARKER}']", smart_strings=False)
_KEPT = 64  # verdicts kept: a site has a few chrome variants (per language, per section)
_KEPT_LENGTHS = 8


@dataclass(frozen=True)
class Cut:
    """The page's text with the content of ``blocks`` (their profile start tags) left out, and
    ``weak``: the reader tokens that ``<html>`` and ``<body>`` must not carry (``fits``)."""

    text: str
    blocks: tuple[str, ...]
    weak: frozenset[bytes]

    def fits(self, root, layout: HtmlLayout) -> bool:
        """Whether the cut tree reads as the whole page for ``layout`` (module docstring)."""
        if not set(self.blocks) <= set(layout.chrome_blocks):
            return False
        marks = _MARKED(root)
        if len(marks) != len(self.blocks):
            return False
        for mark in marks:
            block = mark.getparent()
            parent = block.getparent() if block is not None else None
            if parent is None or parent.tag not in ("body", "html") or len(block) != 1 or block.text:
                return False
        if self.weak:
            outer = [root, *root.iterchildren("body")]
            attributes = " ".join(v for element in outer for v in element.attrib.values()).lower().encode()
            if any(token in attributes for token in self.weak):
                return False
        return True


def chrome_cut(content: bytes, decoded, rules: ExtractionRules) -> Cut | None:
    """The page with its chrome blocks emptied, or None: no block of the profile in it, or one
    that cannot be left out safely (the whole page is then parsed)."""
    if len(content) < _MIN_PAGE_BYTES:
        return None
    plan = _plan(rules)
    if not plan.blocks or not decoded.verbatim or not decoded.is_html:
        return None
    pieces: list[bytes] = []
    cut: list[str] = []
    weak: set[bytes] = set()
    last = 0
    pending = False
    for start_tag, tag in plan.blocks:
        start = content.find(start_tag, last)
        if start < 0:
            continue
        found = _judged_block(content, start, start_tag, tag, plan)
        if found is None:
            return None
        if found is _PENDING:
            pending = True  # seen for the first time: the blocks after it are sighted too
            continue
        if found is _SMALL:
            continue
        end, content_start, verdict = found
        weak |= verdict
        pieces += (content[last:content_start], _MARKER_BYTES)
        last = end
        cut.append(start_tag.decode())
    if not cut or pending:
        return None
    pieces.append(content[last:])
    return Cut(b"".join(pieces).decode("utf-8"), tuple(cut), frozenset(weak))


_MISSING = object()
_PENDING = object()
_SMALL = object()
# Pages and blocks smaller than these are parsed whole: leaving the blocks out saves less than
# finding and checking them costs (measured on the replay bench's 23 KB replica pages, whose
# header and footer are 700 bytes: 1.6-2.1% slower with the cut).
_MIN_PAGE_BYTES = 32_768
_MIN_BLOCK_BYTES = 2048
# A larger block is parsed too: the verdicts keep their blocks' bytes (at most 64 x 256 KB).
_MAX_BLOCK_BYTES = 262_144
# Verdicts by (plan, start tag, block bytes); the lengths of the blocks judged per (plan, start
# tag), so a page whose block is one judged before is recognised without searching its end;
# blocks seen once (by hash), judged when seen again: a site whose chrome changes on every
# page pays a hash per block, not the judging.
_VERDICTS: dict[tuple[int, bytes, bytes], frozenset[bytes] | None] = {}
_LENGTHS: dict[tuple[int, bytes], tuple[tuple[int, int], ...]] = {}
_SIGHTED: dict[int, None] = {}
_LOCK = threading.Lock()


def _judged_block(content: bytes, start: int, start_tag: bytes, tag: bytes,
                  plan: "_Plan") -> tuple[int, int, frozenset[bytes]] | object | None:
    """(where the block's end tag starts, where its content starts, its weak tokens) for the
    block whose start tag begins at ``start``; None when it is not to be left out, ``_PENDING``
    when it is seen for the first time (not judged yet), ``_SMALL`` when it is parsed for its
    size (too small to be worth it, or too large to keep)."""
    closing = b"</" + tag
    for length, start_tag_length in _LENGTHS.get((id(plan), start_tag), ()):
        end = start + length
        if content.startswith(closing, end):
            verdict = _VERDICTS.get((id(plan), start_tag, content[start:end]), _MISSING)
            if verdict is not _MISSING:
                return None if verdict is None else (end, start + start_tag_length, verdict)
    rest = _START_TAG_REST.match(content, start + len(start_tag))
    if rest is None:
        return None
    end = _first_end_tag(content, closing, rest.end())
    if end < 0:
        return None
    if not _MIN_BLOCK_BYTES <= end - rest.end() <= _MAX_BLOCK_BYTES:
        return _SMALL
    key = (id(plan), start_tag, content[start:end])
    verdict = _VERDICTS.get(key, _MISSING)
    if verdict is _MISSING:
        sighting = hash(key)
        with _LOCK:
            if sighting not in _SIGHTED:
                _keep(_SIGHTED, sighting, None)
                return _PENDING
        verdict = _judge(key[2].lower(), rest.end() - start, tag, plan)
        with _LOCK:
            _keep(_VERDICTS, key, verdict)
            lengths = _LENGTHS.get(key[:2], ())
            _LENGTHS[key[:2]] = ((end - start, rest.end() - start), *lengths[:_KEPT_LENGTHS - 1])
    return None if verdict is None else (end, rest.end(), verdict)


def _keep(kept: dict, key, value) -> None:
    if len(kept) >= _KEPT:
        kept.pop(next(iter(kept)))
    kept[key] = value


def _first_end_tag(data: bytes, closing: bytes, pos: int) -> int:
    """Where the first end tag ``closing`` (``</header``) after ``pos`` starts, or -1. A block is
    left out only when this ends it: ``_judge`` refuses a block whose same-named elements do not
    nest inside it, in any letter case."""
    while True:
        close = data.find(closing, pos)
        if close < 0:
            return -1
        after = close + len(closing)
        if after < len(data) and data[after] in _DELIMITERS:
            return close
        pos = after


def _judge(block: bytes, start_tag_end: int, tag: bytes, plan: "_Plan") -> frozenset[bytes] | None:
    """None when the block (lower-cased: start tag and content) cannot be left out; else the weak
    tokens ``Cut.fits`` checks (module docstring)."""
    names = _TAG_NAMES.findall(block, start_tag_end)
    tags = set(names)
    if b"&#" in block or not tags.isdisjoint(_UNSAFE_NAMES):
        return None  # (a numeric reference could spell any token below)
    # The strong elements and the block's own tag nest: the parser ends the block at its end tag.
    nesting = _STRONG_NAMES | {tag, b"/" + tag}
    stack: list[bytes] = []
    for name in [name for name in names if name in nesting]:
        if name[0] != 47:  # "/"
            stack.append(name)
        elif not stack or stack.pop() != name[1:]:
            return None
    if stack:
        return None
    tags.add(tag)  # the block itself: a reader's selector could match it
    loose = b"&" in block  # a named reference can spell punctuation: compare letter and digit runs only
    present: dict[bytes, bool] = {}

    def absent(token: bytes) -> bool:
        if token[0] == 60:  # "<": a tag, from the inventory
            return token[1:] not in tags
        found = present.get(token)
        if found is None:
            runs = _ALNUM_RUN.findall(token) if loose else (token,)
            found = present[token] = all(run in block for run in runs)
        return not found

    weak: set[bytes] = set()
    for alternatives in plan.readers:
        for token, is_weak in alternatives:
            if absent(token):
                if is_weak:
                    weak.add(token)
                break
        else:
            return None  # a reader's selector could match inside the block
    return frozenset(weak)


@dataclass(frozen=True)
class _Plan:
    """The profile's blocks (start tag bytes, lower-case tag name) in no particular order, and
    per reader selector its alternatives: (token, weak), any one absent from a block proves
    the selector matches nothing in it."""

    rules: ExtractionRules
    blocks: tuple[tuple[bytes, bytes], ...]
    readers: tuple[tuple[tuple[bytes, bool], ...], ...]


_PLANS: dict[int, _Plan] = {}
_READ_FIELDS = ("detect", "text", "title", "date", "time", "date_scope", "doc_number", "section", "languages", "head")


def _plan(rules: ExtractionRules) -> _Plan:
    """One plan per profile object (profiles are immutable and cached)."""
    plan = _PLANS.get(id(rules))
    if plan is None or plan.rules is not rules:
        starts = dict.fromkeys(s for layout in rules.layouts for s in layout.chrome_blocks)
        blocks = tuple((s.encode(), s[1:].split(None, 1)[0].lower().encode()) for s in starts)
        selectors = dict.fromkeys(s for layout in rules.layouts for name in _READ_FIELDS for s in getattr(layout, name))
        readers = tuple(_alternatives(s) for s in selectors) if blocks else ()
        plan = _PLANS[id(rules)] = _Plan(rules, blocks, readers)
    return plan


@lru_cache(maxsize=512)
def _alternatives(selector: str) -> tuple[tuple[bytes, bool], ...]:
    """The tokens (lower-case bytes) of which any one, absent from a block, proves that
    ``selector`` matches nothing inside it: those of its subject part, then of the parts it
    must descend from (``weak`` when they could be met by <html> or <body>). Empty when the
    selector cannot be judged: no block can then be left out."""
    try:
        groups = cssselect_parse(selector)
    except SelectorError:
        return ()
    if len(groups) != 1:
        return ()
    tokens: list[tuple[bytes, bool]] = []
    tree = groups[0].parsed_tree
    subject = True
    while True:
        if isinstance(tree, cssparser.CombinedSelector):
            part, next_tree, combinator = tree.subselector, tree.selector, tree.combinator
        else:
            part, next_tree, combinator = tree, None, None
        tag, own = _part_tokens(part)
        weak = not subject and tag in (None, "html", "body")
        tokens += [(token, weak) for token in own]
        # Across a sibling combinator the part lies beside, not around: the block's root's
        # siblings are outside it, so nothing further left is a sound proof.
        if next_tree is None or combinator not in (" ", ">"):
            break
        tree, subject = next_tree, False
    # Tags first (looked up in the block's inventory), then long names: rarer in a menu, so the
    # first scan usually decides.
    return tuple(sorted(tokens, key=lambda t: (t[1], not t[0].startswith(b"<"), -len(t[0]))))


def _part_tokens(part) -> tuple[str | None, list[bytes]]:
    """One compound part: its tag (None for none or ``*``) and the tokens an element matching
    it must carry in its start tag (``<tag``, class names, id, attribute names and values)."""
    tokens: list[bytes] = []
    tag = None
    while True:
        if isinstance(part, cssparser.Element):
            if part.element not in (None, "*") and part.namespace is None:
                tag = part.element.lower()
                tokens.append(b"<" + tag.encode())
            return tag, tokens
        if isinstance(part, cssparser.Class):
            tokens.append(part.class_name.lower().encode())
        elif isinstance(part, cssparser.Hash):
            tokens.append(part.id.lower().encode())
        elif isinstance(part, cssparser.Attrib):
            if part.namespace is None:
                tokens.append(part.attrib.lower().encode())
            value = part.value.value if part.value is not None and hasattr(part.value, "value") else part.value
            if isinstance(value, str) and part.operator in ("=", "~=", "|=", "^=", "$=", "*=") and value:
                tokens.append(value.lower().encode())
        elif not isinstance(part, (cssparser.Pseudo, cssparser.Function, cssparser.Negation)):
            return tag, []  # an unknown kind of part: no token of it is sound
        part = part.selector


__all__ = ["Cut", "MARKER", "chrome_cut"]
