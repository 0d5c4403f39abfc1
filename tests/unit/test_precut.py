"""The chrome pre-cut (extract/precut.py): a page parsed without the content of its chrome blocks
reads as the whole page, and any page where that is in doubt is parsed whole (issue 25).

Every fixture, evaluation, replica and bench page gives the same record, the same language
links and the same blocked-check answer with the profile's ``chrome_blocks`` and without them;
the extract bench's heavy pages are cut (the speed-up is there); each way a block could change
what a reader sees makes the page parse whole; and the parser behaves as the pre-cut assumes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from pipeline.context import get_profile
from pipeline.crawl import blocked
from pipeline.extract.document import parse_document, parse_html
from pipeline.extract.extractor import extract_record, language_links
from pipeline.extract.precut import MARKER, _STRONG_NAMES
from pipeline.model.errors import PipelineError
from pipeline.model.records import Page
from pipeline.profile import CHROME_BLOCK_TAGS, HtmlLayout

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import extract_bench  # noqa: E402

PROFILE = get_profile()
WHOLE = PROFILE.model_copy(update={"extraction": PROFILE.extraction.model_copy(update={
    "layouts": [layout.model_copy(update={"chrome_blocks": []}) for layout in PROFILE.extraction.layouts]})})
URL = "https://mid.ru/en/foreign_policy/news/1785001/"


def _outcome(content: bytes, profile, url: str | None = URL):
    """What every reader of a page makes of it: the record (or the error), the language links,
    the blocked check. The page is seen once before: a block is judged when seen again."""
    parse_document(content, None, profile).article
    try:
        record = extract_record(Page(source="p", url=url, content=content), profile).model_dump(mode="json")
    except PipelineError as exc:
        record = f"{type(exc).__name__}: {exc.reason}"
    document = parse_document(content, None, profile)
    return record, language_links(document, url), blocked.check(document, "article")


def _replica_pages() -> list[bytes]:
    from mfa_replica.content import base_articles
    from mfa_replica.pages import PageOptions, render_archive_article, render_article, render_listing

    pages = []
    options = [PageOptions(), PageOptions(date_form="element"), PageOptions(no_time=True),
               PageOptions(changed_template=True), PageOptions(renamed_text_block=True)]
    articles = base_articles()
    for article in articles:
        for option in options:
            render = render_article if article.site == "current" else render_archive_article
            page = render(article, option)
            pages.append(page.encode(article.encoding if article.site != "current" else "utf-8", "replace"))
            # the same page in a heavy chrome: the replica's header and footer with the site's menus
            pages.append(page.replace('<header class="header">', '<header class="header">' + MENU)
                         .replace('<footer class="footer">', '<footer class="footer">' + MENU).encode("utf-8"))
    pages.append(render_listing(articles[:5], "en", None, PageOptions()).encode())
    return pages


MENU = '<nav class="menu"><ul>' + "".join(
    f'<li class="menu__item"><a href="/en/section_{i}/">Section {i}</a><ul>'
    + "".join(f"<li><a href=/en/s{i}/{j}/>Subsection {i}.{j}</a></li>" for j in range(12)) + "</ul></li>"
    for i in range(40)) + "</ul></nav>"


def _all_pages() -> list[bytes]:
    data = ROOT / "pipeline/data"
    files = [*sorted(data.glob("*/*.html")), *sorted((ROOT / "sample/dumps").glob("*"))]
    return ([p.read_bytes() for p in files] + _replica_pages() + extract_bench.fixture_pages()
            + extract_bench.seed_pages() + extract_bench.seed_pages(chrome=False))


def test_every_page_reads_the_same_with_and_without_the_cut():
    pages = _all_pages()
    cut = 0
    for content in pages:
        assert _outcome(content, PROFILE) == _outcome(content, WHOLE)
        cut += parse_document(content, None, PROFILE).article.cut
    # the replica's current-layout pages in a heavy chrome and the bench's are cut: the comparison
    # is not vacuous
    assert cut >= 40, cut


def _seen(content: bytes):
    """The page's document after a first sighting of its blocks (judged when seen again)."""
    parse_document(content, None, PROFILE).article
    return parse_document(content, None, PROFILE)


def test_a_block_is_judged_when_seen_again():
    page = HEAVY.replace("Section 1<", "Section 1 (first sighting)<", 1).encode()
    assert parse_document(page, None, PROFILE).article.cut is False
    assert parse_document(page, None, PROFILE).article.cut is True
    assert parse_document(page, None, PROFILE).article.cut is True


def test_the_bench_pages_are_parsed_without_their_menus():
    for content in extract_bench.seed_pages():
        document = _seen(content)
        article = document.article
        assert article.cut and article.layout.name == "current"
        assert len(article.root.xpath("//li")) == 0  # header and footer: 40 entries of 12 each
        assert len(document.root.xpath("//li")) == 2 * 40 * 13  # the whole page stays there for who asks


HEAVY = extract_bench.seed_pages()[0].decode()
HEADER = '<header class="header">'


def _in_header(extra: str) -> bytes:
    return HEAVY.replace("</header>", extra + "</header>", 1).encode()


def _header_left_out(document) -> bool:
    headers = list(document.article.root.iter("header"))
    return bool(headers) and [etree.tostring(c, with_tail=False) for c in headers[0]] == [f"<!--{MARKER}-->".encode()]


@pytest.mark.parametrize("page, why", [
    (_in_header('<time datetime="2019-01-01">1 January 2019</time>'), "a date reader's element in the block"),
    (_in_header('<h1 class="photo-content__title">Menu title</h1>'), "a detect and title reader's element"),
    (_in_header('<link rel="alternate" hreflang="ru" href="/ru/">'), "a languages reader's element"),
    (_in_header('<script>var x = "</header>";</script>'), "a script, whose text is no markup"),
    (_in_header("<!-- a comment -->"), "a comment"),
    (_in_header("<title>Another title</title>"), "a <title>"),
    (_in_header("<div>an open div"), "a div left open: libxml2 would not end the block at its end tag"),
    (_in_header("<table><tr><td>cell</td></tr>"), "a table left open"),
    (_in_header("</div><div>"), "divs that do not nest"),
    (_in_header('<header class="inner">'), "a nested block of the same tag left open"),
    (_in_header("<HEADER>x"), "a nested block in upper case left open"),
    (_in_header("<span>&#104;</span>"), "a numeric character reference"),
    (_in_header("<body class=\"x\">"), "a body tag"),
    (HEAVY.replace("</header>", "", 1).encode(), "the block's end tag missing"),
    (HEAVY.replace(HEADER, '<div class="wrap">' + HEADER, 1).replace("</header>", "</header></div>", 1).encode(),
     "the block not a child of <body>"),
    (HEAVY.replace("<body>", '<body class="article-langs">', 1).encode(), "a reader's class on <body>"),
    (HEAVY.replace(HEADER, '<header class="header" data-x=\'a>b', 1).encode(), "an unfinished start tag"),
    (HEAVY.encode("utf-16"), "not UTF-8 read verbatim"),
])
def test_a_page_in_doubt_is_parsed_whole(page, why):
    assert not _header_left_out(_seen(page)), why
    assert _outcome(page, PROFILE) == _outcome(page, WHOLE), why


def test_a_block_left_out_keeps_the_page_the_same():
    # other attributes, upper-case inner tags that nest, spans left open, a language link no reader
    # of the layout can take (its selectors need an article part around it): still cut, same reading
    page = HEAVY.replace(HEADER, '<header class="header" id="top"><DIV>x</DIV><span>open<b>bold'
                         '<a href="?lang=ru" hreflang="ru">RU</a>', 1).encode()
    assert _header_left_out(_seen(page))
    assert _outcome(page, PROFILE) == _outcome(page, WHOLE)


def test_only_the_layouts_blocks_are_cut():
    # the archive layout lists no block: a page it detects with a header in current's form is whole
    page = (b'<html><body><header class="header">' + MENU.encode() + b'</header><div class="portlet-column-first">'
            b'<h1>Title</h1><div class="text article-content"><p>' + b"A sentence of speech with words. " * 4
            + b"</p></div></div></body></html>")
    document = _seen(page)
    assert document.article.layout.name == "archive" and document.article.cut is False
    assert _outcome(page, PROFILE) == _outcome(page, WHOLE)


def test_small_pages_and_small_blocks_are_parsed():
    from mfa_replica.content import base_articles
    from mfa_replica.pages import PageOptions, render_article

    small = render_article(next(a for a in base_articles() if a.site == "current"), PageOptions()).encode()
    assert _seen(small).article.cut is False  # a 20 KB page: its chrome costs less to parse than to find
    page = HEAVY.replace(HEADER + '<nav class="menu">', HEADER + '<nav class="menu" hidden>', 1)
    header = page[page.index(HEADER):page.index("</header>")]
    page = page.replace(header, '<header class="header"><a href="/en/">Home</a>', 1).encode()
    document = _seen(page)
    assert document.article.cut is True  # the footer only
    assert document.article.root.xpath("string(//header)") == "Home"
    assert _outcome(page, PROFILE) == _outcome(page, WHOLE)
    huge = HEAVY.replace(HEADER, HEADER + MENU * 11, 1).encode()  # a 300 KB header: its bytes are not kept
    assert not _header_left_out(_seen(huge))
    assert _outcome(huge, PROFILE) == _outcome(huge, WHOLE)


@pytest.mark.parametrize("tag", sorted(CHROME_BLOCK_TAGS))
def test_the_parser_ends_a_block_where_the_cut_assumes(tag):
    """libxml2 ends a block at its end tag whatever of the common elements is left open inside,
    except the strong ones (div, table parts), which the pre-cut requires to nest."""
    left_open = ["span", "a", "b", "i", "em", "strong", "p", "ul", "ol", "li", "dl", "dt", "dd", "form", "label",
                 "button", "input", "img", "br", "nav", "section", "aside", "header", "footer", "h1", "h2", "h3",
                 "small", "font", "center", "blockquote", "pre", "address", "figure", "picture", "video"]
    parser = etree.HTMLParser(huge_tree=True)
    for inner in (t for t in left_open if t != tag):
        page = f'<html><body><{tag} class="b"><{inner}>x<a>in</a></{tag}><p class="after">after</p></body></html>'
        body = etree.fromstring(page, parser).find("body")
        assert [child.tag for child in body] == [tag, "p"], (tag, inner, etree.tostring(body))
    for strong in ("div", "table", "tr", "td"):
        page = f'<html><body><{tag} class="b"><{strong}>x</{tag}><p class="after">after</p></body></html>'
        body = etree.fromstring(page, parser).find("body")
        assert [child.tag for child in body] != [tag, "p"] or strong == tag == "div"
        assert strong.encode() in _STRONG_NAMES


def test_the_profile_refuses_a_block_it_cannot_cut():
    layout = PROFILE.extraction.layouts[0].model_dump()
    for bad in ['<p class="x"', "<script", '<header class="h">', "header"]:
        with pytest.raises(ValueError):
            HtmlLayout(**{**layout, "chrome_blocks": [bad]})
    assert HtmlLayout(**{**layout, "chrome_blocks": ['<nav id="menu"']}).chrome_blocks == ['<nav id="menu"']


def test_parse_html_of_the_cut_page_is_the_whole_page_without_the_menus():
    document = _seen(HEAVY.encode())
    cut, whole = document.article.root, parse_html(HEAVY)
    for element in (cut, whole):
        for menu in element.xpath("//header | //footer"):
            for child in list(menu):
                menu.remove(child)
            menu.text = None
    assert etree.tostring(cut) == etree.tostring(whole)


_PIECES = ["<div>", "</div>", "<span>", "</span>", "<a href='/x'>", "</a>", "<ul>", "<li>", "</li>", "</ul>", "<p>", "</p>",
           "<table>", "<tr>", "<td>", "</td>", "</tr>", "</table>", "<header>", "</header>", "<HEADER>", "</HEADER>",
           "<br>", "<b>", "text ", "Section ", "<script>var a;</script>", "<!-- c -->", "&#104;", "&amp;",
           '<h1 class="photo-content__title">Menu title</h1>', '<time datetime="2019-01-01">1 January 2019</time>',
           '<link rel="alternate" hreflang="ru" href="/ru/">', '<a href="?lang=de" hreflang="de">DE</a>',
           '<div class="page-body">', '<div class="text article-content"><p>A menu sentence that reads as speech.</p>',
           '<ul class="breadcrumbs"><li><a href="/">Home</a></li></ul>', "</footer>", "</body>", "<div/>"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6), st.booleans())
def test_any_markup_in_a_block_reads_the_same_cut_or_not(pieces, at_start):
    """Whatever is put in the header, the page reads the same with the pre-cut as without it:
    the block is left out only where that is proved, else the page is parsed whole."""
    extra = "".join(pieces)
    page = (HEAVY.replace(HEADER, HEADER + extra, 1) if at_start
            else HEAVY.replace("</header>", extra + "</header>", 1)).encode()
    _seen(page)
    assert _outcome(page, PROFILE) == _outcome(page, WHOLE)
