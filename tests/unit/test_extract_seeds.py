"""The five real text dumps: every field against the hand-read expected files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.extract.extractor import extract_record
from pipeline.context import get_profile
from pipeline.model.records import Page

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = sorted((ROOT / "pipeline/data/seeds").glob("*.expected.json"))


def _case(path: Path):
    expected = json.loads(path.read_text(encoding="utf-8"))
    source = ROOT / "pipeline/data" / expected["input"]
    record = extract_record(Page(source=str(source), content=source.read_bytes()), get_profile())
    return expected, record


@pytest.fixture(params=EXPECTED, ids=[p.name.split(".")[0] for p in EXPECTED])
def case(request):
    return _case(request.param)


def test_there_are_five_seeds():
    assert len(EXPECTED) == 5


def test_metadata(case):
    expected, record = case
    assert record.title == expected["title"]
    assert record.published_at.isoformat() == expected["published_at"]
    assert record.location == expected["location"]
    assert record.language == expected["language"]
    assert record.languages == expected["languages"]
    assert record.doc_number == expected["doc_number"]
    assert record.section == expected["section"]
    assert record.url is None


def test_every_paragraph_kept_verbatim_in_order(case):
    expected, record = case
    assert record.body.split("\n\n") == expected["paragraphs"]


def test_no_boilerplate_line_left(case):
    expected, record = case
    paragraphs = set(record.body.split("\n\n"))
    left = [line for line in expected["boilerplate"] if line in paragraphs]
    assert left == []
    for marker in ("Advanced settings", "Фотоальбом", "Ambassade", "Téléphone", "@", "Франция", "•"):
        assert marker not in record.body


def test_turns_cover_the_body(case):
    expected, record = case
    assert [[t.speaker, t.role, len(t.text.split("\n\n"))] for t in record.turns] == expected["turns"]
    assert sum(t.role == "question" for t in record.turns) == expected["questions"]
    assert record.speakers == expected["speakers"]
    # each turn's text is its paragraphs, the label taken off the first one
    rebuilt = []
    for turn in record.turns:
        rebuilt.extend(turn.text.split("\n\n"))
    paragraphs = record.body.split("\n\n")
    assert len(rebuilt) == len(paragraphs)
    for said, paragraph in zip(rebuilt, paragraphs):
        assert paragraph.endswith(said)


def test_question_labels_give_plain_speaker_names():
    _, record = _case(ROOT / "pipeline/data/seeds/002_4c4fda81a0b6908f.expected.json")
    retranslated = [t for t in record.turns if t.text.startswith("Today, you have talked about Georgia")]
    assert retranslated and retranslated[0].speaker == "Question" and retranslated[0].role == "question"
    _, record = _case(ROOT / "pipeline/data/seeds/001_bb418d96baa9b9fc.expected.json")
    assert record.turns[-1].speaker == "Sergey Lavrov"
    assert record.turns[-1].text.startswith("I fully support this logic.")


def test_word_count_and_hash_follow_the_body(case):
    _, record = case
    assert record.word_count == len(record.body.split())
    assert len(record.content_hash) == 64
