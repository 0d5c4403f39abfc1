"""HTML pages in both site layouts, English and Russian, and an unknown layout."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from pipeline.model.errors import DropPage, RecordRejected
from pipeline.extract.document import parse_document
from pipeline.extract.extractor import extract_record, read_html
from pipeline.context import get_profile
from pipeline.model.records import ListingHints, Page

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted((ROOT / "pipeline/data/eval").glob("*.expected.json"))


def _run(path: Path):
    expected = json.loads(path.read_text(encoding="utf-8"))
    source = ROOT / "pipeline/data" / expected["input"]
    page = Page(source=str(source), content=source.read_bytes(), url=expected["url"])
    return expected, extract_record(page, get_profile())


@pytest.fixture(params=CASES, ids=[p.name.split(".")[0] for p in CASES])
def case(request):
    return _run(request.param)


def test_cover_both_layouts_both_languages_and_an_unknown_one():
    names = {p.name.split(".")[0] for p in CASES}
    assert {"current_en", "current_ru_leaky", "archive_en", "archive_ru_cp1251", "unknown_layout_en"} <= names


def test_metadata(case):
    expected, record = case
    for name in ("title", "location", "language", "languages", "doc_number", "section", "url"):
        assert getattr(record, name) == expected[name], name
    assert record.published_at.isoformat() == expected["published_at"]


def test_paragraphs_verbatim_and_no_boilerplate(case):
    expected, record = case
    paragraphs = record.body.split("\n\n")
    assert paragraphs == expected["paragraphs"]
    assert [line for line in expected["boilerplate"] if line in paragraphs] == []


def test_turns(case):
    expected, record = case
    assert [[t.speaker, t.role, len(t.text.split("\n\n"))] for t in record.turns] == expected["turns"]
    assert sum(t.role == "question" for t in record.turns) == expected["questions"]
    assert record.speakers == expected["speakers"]


def test_layout_is_recognised():
    profile = get_profile()
    for name, layout in [("current_en", "current"), ("archive_en", "archive"), ("unknown_layout_en", "generic")]:
        content = (ROOT / f"pipeline/data/eval/{name}.html").read_bytes()
        assert read_html(parse_document(content, "text/html; charset=utf-8", profile)).layout == layout


def test_hints_fill_what_the_page_lacks():
    html = ('<html><body><div class="page-body"><div class="text article-content">'
            "<p>Мы подробно обсудили ситуацию в регионе и наметили дальнейшие шаги.</p></div></div></body></html>")
    page = Page(source="x", content=html.encode(), url="https://mid.ru/ru/foreign_policy/news/1/",
                hints=ListingHints(title="Заявление", published=date(2019, 11, 18), section="Новости"))
    record = extract_record(page, get_profile())
    assert record.title == "Заявление"
    assert record.published_at.isoformat() == "2019-11-18T00:00:00+03:00"
    assert record.section == "Новости"
    assert record.language == "ru"


def test_missing_date_is_rejected_with_a_reason():
    html = ('<html><body><h1 class="photo-content__title">A title without a date</h1><div class="page-body">'
            '<div class="text article-content"><p>We discussed the situation in the region at length.</p>'
            "</div></div></body></html>")
    with pytest.raises(RecordRejected, match="published_at"):
        extract_record(Page(source="x", content=html.encode()), get_profile())


def test_page_without_text_is_dropped():
    with pytest.raises(DropPage):
        extract_record(Page(source="x", content=b"<html><body><nav>Menu</nav></body></html>"), get_profile())
