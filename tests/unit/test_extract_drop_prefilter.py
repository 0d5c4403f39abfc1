"""The drop step skips a selector only when it cannot match: same tree as trying every one."""

from __future__ import annotations

import lxml.html
import pytest

from pipeline.extract.document import _css, _needs
from pipeline.extract.extractor import _remove

PAGE = """<html><body><div id="c" class="text\tarticle-content">
<p>Opening.</p><figure>photo</figure> tail kept
<div class="Share social-share">share</div><DIV CLASS="x">upper</DIV>
<div class="a\u00a0b">nbsp class</div><ul class="tags"><li>tag</li></ul>
<p class="note">last</p></div><aside class="outside">beside</aside></body></html>"""

SELECTORS = [
    ["figure", ".share", ".Share", ".x", "DIV.x", ".a", ".a\u00a0b", ".missing", "nav", "script"],
    ["ul.tags li", ".tags > li", "div:not(.x)", "p.note:last-child", "p + figure"],
    ["#c + aside", "#c ~ .outside", ".text, .gone", "p:nth-child(1)", "*"],
]


def _plain_remove(root, selectors):
    for selector in selectors:
        for element in _css(selector)(root):
            if element.getparent() is not None:
                element.drop_tree()


@pytest.mark.parametrize("selectors", SELECTORS)
def test_prefiltered_drop_gives_the_same_tree(selectors):
    ours, plain = lxml.html.document_fromstring(PAGE), lxml.html.document_fromstring(PAGE)
    _remove(ours.get_element_by_id("c"), selectors)
    _plain_remove(plain.get_element_by_id("c"), selectors)
    assert lxml.html.tostring(ours) == lxml.html.tostring(plain)


def test_what_a_selector_needs():
    assert _needs("figure") == ({"figure"}, set())
    assert _needs("DIV.Photo-Album") == ({"div"}, {"Photo-Album"})  # tags lower-cased, classes not
    assert _needs("div.a > p.b + span") == ({"div", "p"}, {"a", "b"})  # a sibling may lie outside
    assert _needs("a, b") is None
    assert _needs("p:has(a)") is None
