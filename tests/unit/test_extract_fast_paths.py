"""Each shortcut of extraction gives the answer of the plain way it replaces (issue 14).

The shortcuts: kept answers of whole-page look-ups (``_Query``), the date's scope read from
lines already read (``_scope_lines``), the phrase key that skips normalising long lines
(``CompiledRules.phrase_key``), the ASCII path of ``normalise_phrase``, the letter counts
that tell a line's script (``letter_counts``, with its letters spelled out instead of matched
case-insensitively) and trafilatura's metadata asked for only when a page of unknown layout
lacks its own title or date element (``read_unknown_layout``).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.extract.decode import decode_page
from pipeline.extract.document import _css, _Query, _select, parse_html
from pipeline.extract.extractor import _Read, _head_lines, _remove, _scope_lines, block_lines
from pipeline.extract.rules import (_APOSTROPHES, _CYRILLIC_LETTERS, _LATIN_LETTERS, BULLETS, NOT_A_PHRASE, compiled,
                                   letter_counts, normalise_phrase)
from pipeline.context import get_profile

ROOT = Path(__file__).resolve().parents[2]
PROFILE = get_profile()
CR = compiled(PROFILE.extraction)

PAGE = """<html><body><div class="page-body"><p class="date">14 March 2024</p>
<div class="text article-content"><p>Speech one.</p><figure class="f">photo</figure>
<ul class="crumbs"><li class="c">first</li><li class="c">last</li></ul></div>
<p>After the text.</p></div><ul class="crumbs2"><li class="c">outside</li></ul></body></html>"""


def _plain(root, selector: str) -> list:
    return _css(selector)(root)


@pytest.mark.parametrize("selector", ["li.c", "div.page-body li", "ul > li", "figure", "p", "li.c:last-child",
                                      "li + li", "li:first-child"])
def test_a_kept_answer_is_the_fresh_answer_after_a_drop(selector):
    root = lxml.html.document_fromstring(PAGE)
    query = _Query(root)
    query(selector)  # answered (and kept, when it may be) before the drop
    container = _css("div.text")(root)[0]
    _remove(container, ["figure", "li.c:last-child"])
    query.dropped()
    assert query(selector) == _plain(root, selector)


def test_a_positional_selector_is_asked_again_after_a_drop():
    root = lxml.html.document_fromstring(PAGE)
    query = _Query(root)
    assert [e.text for e in query("div.text li:last-child")] == ["last"]
    _remove(_css("div.text")(root)[0], ["li.c:last-child"])
    query.dropped()
    assert [e.text for e in query("div.text li:last-child")] == ["first"]  # a kept answer would say "last"


def _pages() -> list[str]:
    pages = [decode_page(path.read_bytes()).text for folder in ("eval", "unseen")
             for path in sorted((ROOT / "pipeline/data" / folder).glob("*.html"))]
    assert len(pages) >= 10
    return pages + [PAGE]


@pytest.mark.parametrize("scoped", ["div.page-body", "body", "div.text"])
def test_the_scope_read_in_pieces_is_the_scope_read_whole(scoped):
    checked = 0
    for text in _pages():
        root = parse_html(text)
        query = _Query(root)
        containers = _select(query, ["div.text"])
        scopes = _select(query, [scoped])
        if not containers or not scopes:
            continue
        container, scope = containers[0], scopes[0]
        _remove(container, ["figure", "script"])
        query.dropped()
        lines = block_lines(container)
        read = _Read(container, lines, scope, _head_lines(scope, container))
        assert list(_scope_lines(scope, read)) == block_lines(scope)
        checked += 1
    assert checked >= 1


def _normalise_plainly(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    for old, new in _APOSTROPHES:
        text = text.replace(old, new)
    text = text.strip(BULLETS).rstrip(" :").strip()
    return " ".join(text.split()).casefold()


LINE_CHARS = st.sampled_from(list("aZkK:`'’ \t-*•·ßİıſé\u0301Жжё\u00a0.,1") + ["\u212a", "\u0456"])
phrases = sorted(CR.boilerplate | CR.listing_starts | CR.contact_labels)


@settings(max_examples=300, deadline=None)
@given(st.text(LINE_CHARS, max_size=40))
def test_normalise_phrase_is_the_plain_normalisation(text):
    assert normalise_phrase(text) == _normalise_plainly(text)


EDGE_CHARS = st.sampled_from(list(BULLETS + ": \u00a0\u0387\u2003"))


@pytest.mark.parametrize("line", ["\u00a0" + "• " * 9 + "Address", "\u0387 " * 9 + "Phone:", "• " * 12 + "E-mail :",
                                  "Address" + " •" * 12, "\u00a0\u00a0Hotline" + " :" * 10])
def test_a_phrase_behind_many_bullets_is_still_the_phrase(line):
    assert CR.phrase_key(line) == normalise_phrase(line) in CR.contact_labels


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(EDGE_CHARS, min_size=1, max_size=2), max_size=12), st.sampled_from(phrases),
       st.lists(st.text(EDGE_CHARS, min_size=1, max_size=2), max_size=12), st.integers(0, 3))
def test_the_phrase_key_skips_only_lines_that_are_no_phrase(before, phrase, after, extra):
    line = " ".join(before) + " " + phrase.upper() + " " + " ".join(after) + " more words of speech" * extra
    key = CR.phrase_key(line)
    if key == NOT_A_PHRASE:
        plain = normalise_phrase(line)
        assert plain and plain not in CR.boilerplate | CR.listing_starts | CR.contact_labels
    else:
        assert key == normalise_phrase(line)


@settings(max_examples=300, deadline=None)
@given(st.text(LINE_CHARS, max_size=60))
def test_letter_counts_are_the_letters_the_patterns_match(text):
    cyrillic = len(re.findall(r"[а-яё]", text, re.IGNORECASE))
    latin = len(re.findall(r"[a-z]", text, re.IGNORECASE))
    assert letter_counts(text) == (cyrillic, latin)


@pytest.mark.parametrize("spelled, plain", [(_CYRILLIC_LETTERS, r"[а-яё]"), (_LATIN_LETTERS, r"[a-z]")])
def test_the_spelled_out_letters_are_those_the_case_insensitive_pattern_matches(spelled, plain):
    plain = re.compile(plain, re.IGNORECASE)
    differ = [hex(cp) for cp in range(0x110000) if bool(spelled.fullmatch(chr(cp))) != bool(plain.fullmatch(chr(cp)))]
    assert not differ


GENERIC_SPEECH = "".join(f"<p>Paragraph {i} of a statement the minister made to the press about the talks held "
                         f"today, and the agreements reached by both delegations on every point.</p>" for i in range(6))
GENERIC_PAGES = {
    "h1 and time": '<html lang="en"><head><title>Talks | MFA</title></head><body><main><article>'
                   '<h1>Statement after the talks</h1><time datetime="2024-03-14T13:20:00+03:00">14 March</time>'
                   f"{GENERIC_SPEECH}</article></main></body></html>",
    "no h1": '<html><head><title>Statement after the talks, 14 March 2024 | MFA</title>'
             '<meta property="article:published_time" content="2024-03-14T13:20:00+03:00"></head><body><main>'
             f"<article>{GENERIC_SPEECH}</article></main></body></html>",
    "no date element": '<html><head><title>Talks</title><meta name="date" content="2024-03-14"></head><body>'
                       f"<main><article><h1>Statement after the talks</h1>{GENERIC_SPEECH}</article></main></body></html>",
    "empty h1, no date": f"<html><head><title>Talks</title></head><body><h1> </h1><div>{GENERIC_SPEECH}</div></body></html>",
}


@pytest.mark.parametrize("name", sorted(GENERIC_PAGES))
def test_an_unknown_layout_reads_as_it_does_with_trafilaturas_metadata_always_on(name):
    # The plain way: trafilatura's metadata always extracted, the page's own elements first.
    import trafilatura

    from pipeline.extract.extractor import _first_text, _element_text, read_unknown_layout
    from pipeline.extract.clean import split_lines

    text = GENERIC_PAGES[name]
    root = parse_html(text)
    document = trafilatura.bare_extraction(text, with_metadata=True, favor_recall=True, include_comments=False,
                                           include_tables=True)
    heading = root.find(".//h1")
    plain_title = (_element_text(heading) if heading is not None else None) or document.title
    plain_date = _first_text(_Query(root), ["time[datetime]", 'meta[property="article:published_time"]']) \
        or document.date
    raw = read_unknown_layout(text, parse_html(text), PROFILE)
    assert (raw.lines, raw.title, raw.date_text) == (split_lines(document.text), plain_title, plain_date)
    assert raw.title  # from trafilatura when the page has no <h1> of its own
