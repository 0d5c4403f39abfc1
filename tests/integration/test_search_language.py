"""Queries as analysts type them, on the language sub-fields: other forms of a Russian or English
word, names in other cases, phrases, prefixes, AND/NOT, and highlights showing the form matched."""

from __future__ import annotations

from datetime import datetime

import pytest

from pipeline.model.records import MOSCOW, Transcript, Turn
from pipeline.store import design, writer
from pipeline.store import search as es_search


def record(n: int, language: str, title: str, body: str, turns: list[Turn] | None = None) -> Transcript:
    return Transcript(
        title=title, published_at=datetime(2024, 3, 1 + n, 12, 0, tzinfo=MOSCOW), location="Moscow",
        language=language, languages=[language], doc_number=f"{500 + n}-01-03-2024", section="news",
        url=f"https://mid.ru/{language}/foreign_policy/news/{900000 + n}/", body=body, turns=turns or [],
        speakers=sorted({t.speaker for t in turns or []}), source=f"test#{n}")


DOCS = {
    "ru_forms": record(1, "ru", "О мерах", "Введение новых санкций и ограничений против России."),
    "ru_exact": record(2, "ru", "О санкции", "Эта санкции касаются экспорта."),
    "ru_name": record(3, "ru", "Встреча", "Переговоры Сергея Лаврова с коллегой прошли в Москве. Позиция Лаврова известна."),
    "ru_other": record(4, "ru", "Брифинг", "Мы обсудили вопросы культуры и образования."),
    "en_phrase": record(5, "en", "Talks", "The sides discussed strategic stability and arms control."),
    "en_apart": record(6, "en", "Talks", "Stability in the region is a strategic goal of the talks."),
    "en_sanctions": record(7, "en", "NATO and sanctions", "NATO members imposed sanctions."),
    "en_nato": record(8, "en", "NATO summit", "The NATO summit was held in Vilnius."),
    "ru_turns": record(9, "ru", "Брифинг М.В.Захаровой",
                       "Вопрос: Как Вы оцените новые ограничения?\nМ.В.Захарова: Введение санкциями ничего не решает.", turns=[
        Turn(speaker="Вопрос", role="question", text="Как Вы оцените новые ограничения?"),
        Turn(speaker="М.В.Захарова", role="answer", text="Введение санкциями ничего не решает."),
    ]),
}


@pytest.fixture
def docs(es, settings, index_alias):
    alias = design.ensure_index(es, settings)
    list(writer.index_records(es, list(DOCS.values()), index=alias, settings=settings))
    es.indices.refresh(index=alias)
    return {DOCS[k].doc_id: k for k in DOCS}


def found(es, index_alias, docs, text, **filters) -> set[str]:
    _, hits = es_search.search(es, index_alias, text, size=50, **filters)
    return {docs[h.doc_id] for h in hits}


def test_a_russian_word_finds_its_other_forms_on_the_russian_field(es, index_alias, docs):
    assert found(es, index_alias, docs, "санкции", language="ru") == {"ru_forms", "ru_exact", "ru_turns"}
    assert found(es, index_alias, docs, "санкции") >= {"ru_forms", "ru_exact"}


def test_a_surname_finds_the_documents_naming_him_in_other_cases(es, index_alias, docs):
    assert found(es, index_alias, docs, "Лавров") == {"ru_name"}
    assert found(es, index_alias, docs, "Лаврова", language="ru") == {"ru_name"}


def test_quotes_make_a_phrase_and_words_are_anded(es, index_alias, docs):
    assert found(es, index_alias, docs, '"strategic stability"') == {"en_phrase"}
    assert found(es, index_alias, docs, "strategic stability") == {"en_phrase", "en_apart"}
    assert found(es, index_alias, docs, "NATO sanctions") == {"en_sanctions"}
    assert found(es, index_alias, docs, "NATO -sanctions") == {"en_nato"}
    assert found(es, index_alias, docs, "sanct*") == {"en_sanctions"}


def test_highlights_mark_the_form_that_matched(es, index_alias, docs):
    _, hits = es_search.search(es, index_alias, "санкции", language="ru", size=50)
    marks = {docs[h.doc_id]: " ".join(h.highlights) for h in hits}
    assert "<em>санкций</em>" in marks["ru_forms"]


def test_turn_text_is_searched_on_its_language_field(es, index_alias, docs):
    total, hits = es_search.search(es, index_alias, "санкции", speaker=es_search.resolve_speaker("Захарова"),
                                       role="answer", size=50)
    assert [docs[h.doc_id] for h in hits] == ["ru_turns"]
    assert "<em>санкциями</em>" in hits[0].turns[0]["highlights"][0]
    counts = es_search.count_by(es, index_alias, "санкции", by="language", count="turns", role="answer")
    assert counts == {"ru": 1}


def test_a_surname_finds_the_names_printed_with_initials_glued_to_it(es, settings, index_alias):
    """The standard tokenizer keeps С.В.Лаврова one token: the printed speaker names in the index
    whose surname is a form of the word are asked for as prefixes too."""
    alias = design.ensure_index(es, settings)
    glued = record(10, "ru", "Выступление Министра иностранных дел С.В.Лаврова, Москва",
                   "Вопрос: Что дальше?\nС.В.Лавров: Посмотрим.", turns=[
                       Turn(speaker="Вопрос", role="question", text="Что дальше?"),
                       Turn(speaker="С.В.Лавров", role="answer", text="Посмотрим.")])
    other = record(11, "ru", "Брифинг", "С.А.Рябков провёл встречу.")
    list(writer.index_records(es, [glued, other], index=alias, settings=settings))
    es.indices.refresh(index=alias)
    for asked in ("Лавров", "Лаврова", "лавровым"):
        _, hits = es_search.search(es, alias, asked, size=10)
        assert [h.doc_id for h in hits] == [glued.doc_id], asked


def _index(es, settings, *records: Transcript) -> str:
    alias = design.ensure_index(es, settings)
    list(writer.index_records(es, list(records), index=alias, settings=settings))
    es.indices.refresh(index=alias)
    return alias


def _ids(es, alias: str, text: str) -> list[str]:
    _, hits = es_search.search(es, alias, text, size=10)
    return [h.doc_id for h in hits]


def test_a_name_glued_to_its_initials_is_found_in_its_other_cases(es, settings, index_alias):
    """``В.В.Макеем`` (not a speaker of the document): the standard tokenizer keeps the initials
    glued, and Snowball cuts ``Макей`` and ``Макеем`` to different stems (мак, маке)."""
    named = record(12, "ru", "Переговоры", "Переговоры с Министром иностранных дел Республики Беларусь В.В.Макеем.")
    other = record(13, "ru", "Франция", "Президент Франции Макрон провёл встречу.")
    alias = _index(es, settings, named, other)
    for asked in ("Макей", "Макею", "Макеем", "Макея"):
        assert _ids(es, alias, asked) == [named.doc_id], asked


def test_a_word_whose_stem_loses_a_vowel_finds_its_other_forms(es, settings, index_alias):
    """``посол``/``послов``: the fleeting vowel makes Snowball's stems differ (посол, посл)."""
    ambassadors = record(14, "ru", "Послы", "Возвращение послов в Москву и Вашингтон.")
    message = record(15, "ru", "Послание", "Послание Президента Федеральному Собранию.")
    alias = _index(es, settings, ambassadors, message)
    assert _ids(es, alias, "посол") == [ambassadors.doc_id]
    assert _ids(es, alias, "послов") == [ambassadors.doc_id]


def test_an_english_word_finds_the_forms_a_letter_away_but_not_other_words(es, settings, index_alias):
    """``terrorist``/``terrorism`` and ``Transnistria``/``Transnistrian``, which Porter keeps apart;
    a word's first letters stay fixed, so ``election`` does not find ``selection``."""
    terror = record(16, "en", "Security", "The fight against terrorism goes on.")
    region = record(17, "en", "Settlement", "The Transnistrian settlement was discussed.")
    chosen = record(18, "en", "Candidates", "The selection of candidates is over.")
    alias = _index(es, settings, terror, region, chosen)
    assert _ids(es, alias, "terrorist") == [terror.doc_id]
    assert _ids(es, alias, "Transnistria") == [region.doc_id]
    assert _ids(es, alias, "election") == []
    assert _ids(es, alias, '"Transnistria settlement"') == []  # a phrase stays exact


def test_a_surname_in_another_case_finds_a_document_printing_only_its_nominative(es, settings, index_alias):
    """``С.А.Рябков`` in the text, not among the document's speakers: Snowball cuts the nominative's
    ``-ов`` (рябк) but not the other cases' (Рябкову -> рябков); the stem of the asked form is asked
    for as a word too, which is the nominative."""
    named = record(19, "ru", "Переговоры", "Переговоры провёл заместитель Министра С.А.Рябков.")
    other = record(20, "ru", "Рябина", "Рябина растёт в лесу.")
    alias = _index(es, settings, named, other)
    for asked in ("Рябкову", "Рябкова", "рябковым", "Рябков"):
        assert _ids(es, alias, asked) == [named.doc_id], asked


def test_one_edit_is_not_taken_on_the_stemmed_english_field(es, settings, index_alias):
    """``Makei`` one edit away from Porter's stem ``make`` (of ``making``): the stemmed
    ``.en`` field holds stems, not words, so a word typed one edit from a stem would find every
    form of another word; the one-edit match stays on the fields that keep what it needs."""
    named = record(22, "en", "Talks", "Sergey Lavrov met Vladimir Makei in Minsk.")
    spelled = record(23, "en", "Talks", "Sergey Lavrov met Vladimir Makey in Minsk.")
    making = record(24, "en", "Statement", "We are making progress, and it made a difference.")
    alias = _index(es, settings, named, spelled, making)
    assert set(_ids(es, alias, "Makei")) == {named.doc_id, spelled.doc_id}
    assert set(_ids(es, alias, "Makei making")) == set()  # every word must match: none names him and makes
    assert _ids(es, alias, "progress Makey") == []
    assert _ids(es, alias, "making") == [making.doc_id]  # the stemmed field still does its work
