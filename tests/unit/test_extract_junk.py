"""Never index junk: hostile inputs give a correct record or a clear refusal (issue 11, item 3).

Bad bytes in UTF-8, control characters anywhere in the page, HTML nested deeper
than libxml2's default limit inside the text container, pages with no speech.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipeline.model.errors import DropPage
from pipeline.extract.decode import decode_page
from pipeline.extract.extractor import extract_record
from pipeline.context import get_profile
from pipeline.model.records import Page

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "pipeline/data/seeds/000_dcbbeb771279dad1.txt"
PROFILE = get_profile()

SPEECH = [
    "Colleagues,",
    "We have held talks with our partners and agreed on a plan of joint work for the coming years.",
    "The ministers’ speeches of both sides touched upon the security of the region and trade ties.",
    "Question: What do you expect from the next round of consultations?",
    "Sergey Lavrov: We expect concrete results from it, as always.",
    "Thank you.",
]


def _page(inner: str) -> bytes:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>'
        '<div class="page-body"><h1 class="photo-content__title">Foreign Minister Sergey Lavrov’s remarks, '
        'Moscow, December 1, 2020</h1><div class="text article-content">'
        f"{inner}</div></div></body></html>"
    ).encode("utf-8")


def _paragraphs() -> str:
    return "".join(f"<p>{line}</p>" for line in SPEECH)


def _extract(content: bytes, **kw):
    return extract_record(Page(source="junk", content=content, **kw), PROFILE)


def test_a_few_bad_bytes_keep_utf8_and_are_counted(caplog):
    text = SEED.read_bytes()
    assert "’".encode() in text  # the seed holds typographic apostrophes: mojibake would show on them
    broken = text[:500] + b"\xff\xfe" + text[500:2000] + b"\xc3" + text[2000:]
    decoded = decode_page(broken)
    assert decoded.encoding == "utf-8" and decoded.replaced == 3
    assert "â€™" not in decoded.text and "’" in decoded.text
    with caplog.at_level(logging.WARNING, logger="pipeline.extract"):
        record = _extract(broken)
    assert "â€™" not in record.body and "â€™" not in record.title
    assert any("3 invalid bytes" in message for message in caplog.messages)


def test_cp1251_is_still_not_read_as_utf8():
    ru = "Министр иностранных дел России провёл переговоры с коллегами. " * 20
    decoded = decode_page(f"<html><body><p>{ru}</p></body></html>".encode("cp1251"))
    assert ru in decoded.text and decoded.encoding != "utf-8"


@pytest.mark.parametrize("where", [100, 6000, -50])
def test_nul_and_control_characters_are_removed_anywhere(where):
    text = SEED.read_bytes()
    at = where if where >= 0 else len(text) + where
    # a control character on a line boundary would be its own line: put it mid-line
    at = text.rindex(b" ", 0, at)
    broken = text[:at] + b"\x00\x01\x1b" + text[at:]
    record = _extract(broken)
    assert not any(ch in record.body for ch in "\x00\x01\x1b")
    clean = _extract(text)
    assert record.body == clean.body


@pytest.mark.parametrize("depth", [300, 5000])
@pytest.mark.parametrize("tag", ["div", "span"])
def test_deep_nesting_inside_the_text_container_loses_no_text(depth, tag):
    inner = f"<{tag}>" * depth + _paragraphs() + f"</{tag}>" * depth
    record = _extract(_page(inner))
    assert record.body.split("\n\n") == SPEECH


def test_deep_nesting_between_paragraphs_loses_no_text():
    inner = "".join(f"<p>{line}</p>" + "<div>" * 400 for line in SPEECH) + "</div>" * (400 * len(SPEECH))
    record = _extract(_page(inner))
    assert record.body.split("\n\n") == SPEECH


def test_a_record_without_a_speech_paragraph_is_refused():
    with pytest.raises(DropPage, match="no speech"):
        _extract(_page("<p>Photo album</p><p>1 of 12 photos in album</p><p>Print</p><p>Share it</p>"
                       "<p>Advanced search settings</p><p>Related news items</p>"))
