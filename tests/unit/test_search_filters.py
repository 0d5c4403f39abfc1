"""What the analyst types -> what the index is asked: Moscow days, speakers in any form, sections by name."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from pipeline.context import get_profile
from pipeline.store.search import build_query, moscow_range, resolve_section, resolve_speaker, section_choices


@pytest.fixture(scope="module")
def profile():
    return get_profile()


def test_days_are_moscow_calendar_days_both_included():
    assert moscow_range(date(2021, 12, 2), date(2021, 12, 2)) == {
        "gte": "2021-12-02T00:00:00+03:00", "lt": "2021-12-03T00:00:00+03:00"}
    instant = datetime(2021, 12, 2, 20, 28, tzinfo=timezone.utc)  # an instant stays an instant
    assert moscow_range(None, instant) == {"lte": "2021-12-02T20:28:00+00:00"}


@pytest.mark.parametrize("asked", ["Lavrov", "lavrov", "Лавров", "С.В.Лавров", "Sergey Lavrov", "LAVROV",
                                   "Lawrow", "Sergueï Lavrov", "serguei lavrov"])
def test_every_printed_form_and_surname_resolves_to_the_same_speaker(profile, asked):
    match = resolve_speaker(asked, profile)
    assert match.speaker_id == "lavrov-s"  # the id extraction stamps on turns (profile extraction.speakers)
    assert {"Sergey Lavrov", "С.В.Лавров", "Сергей Лавров"} <= set(match.forms)


def test_an_unknown_speaker_is_matched_as_written_and_inside_longer_forms(profile):
    match = resolve_speaker("Makei", profile)
    assert match.speaker_id is None and match.forms == ("Makei",) and match.surnames == ("Makei",)
    clause = match.clause()["bool"]["should"]
    assert {"wildcard": {"turns.speaker.lower": {"value": "*makei*"}}} in clause


def test_sections_by_profile_name_or_any_printed_title(profile):
    by_name = resolve_section("minister_speeches", profile)
    assert "Ministers’ speeches" in by_name and "minister_speeches" in by_name
    assert resolve_section("Ministers' speeches", profile) == by_name  # straight apostrophe, any case
    assert resolve_section("News", profile) == ["news", "News", "Новости"]  # a section's name and printed titles
    with pytest.raises(ValueError, match="minister_speeches"):
        resolve_section("minister_speech", profile)
    names = [s.name for s in profile.crawl.sections]
    assert section_choices(profile)[:len(names)] == names


def test_a_wrong_role_is_refused_not_silently_empty():
    with pytest.raises(ValueError, match="statement, question, answer"):
        build_query("NATO", role="answers")


def test_an_unlisted_speaker_is_also_found_by_stored_id_and_by_the_id_of_its_surname(profile):
    clause = resolve_speaker("Ryabkov", profile, key="riabkov").clause()["bool"]["should"]
    assert {"prefix": {"turns.speaker_id": "riabkov-"}} in clause
    clause = resolve_speaker("riabkov-s", profile, key="riabkovs").clause()["bool"]["should"]
    assert {"terms": {"turns.speaker_id": ["riabkov-s", "riabkovs"]}} in clause


def test_bare_russian_words_are_also_prefixes_outside_phrases_and_operators():
    from pipeline.store.search import analyst_query

    assert analyst_query("НАТО") == "(НАТО | НАТО*)"
    assert analyst_query('"Сергея Лаврова" НАТО -итог') == '"Сергея Лаврова" (НАТО | НАТО*) -(итог | итог*)'
    assert analyst_query("санкц* NATO") == "санкц* NATO"


def test_bare_words_of_five_letters_are_also_taken_one_edit_away_outside_phrases_and_operators():
    from pipeline.store.search import analyst_query

    assert analyst_query("Лавров") == "(Лавров | Лавров* | Лавров~1)"
    assert analyst_query("terrorist NATO") == "(terrorist | terrorist~1) NATO"  # four letters: exact
    assert analyst_query('"strategic stability" -sanctions') == '"strategic stability" -(sanctions | sanctions~1)'
    assert analyst_query("sanct* посол~2 Lavrov's mid.ru") == "sanct* посол~2 Lavrov's mid.ru"  # the user's own


def test_a_section_is_printed_with_one_label_per_language(profile):
    from pipeline.store.search import kind_label, labelled_sections, section_label

    for stored in ("Ministers’ speeches", "Minister's speeches", "Выступления Министра", "archive_minister_speeches",
                   "minister_speeches"):
        assert section_label(stored, "en", profile) == "Minister's speeches", stored
        assert section_label(stored, "ru", profile) == "Выступления Министра", stored
    assert labelled_sections({"Ministers’ speeches": 4, "archive_minister_speeches": 1, "news": 2}, None, profile) == {
        "Minister's speeches": 5, "News": 2}
    assert kind_label("briefing", "ru", profile) == "брифинг"


def test_documents_without_the_field_have_the_profiles_name_for_every_by(profile):
    """`stats --by place` printed `(none)` where section and kind print the profile's unknown label."""
    from pipeline.store.search import MISSING, kind_label, labelled_missing, missing_label, section_label

    unknown = profile.crawl.unknown_labels
    assert section_label(MISSING, "ru", profile) == missing_label("section", "ru", profile) == unknown["section"]["ru"]
    assert kind_label(MISSING, "en", profile) == unknown["kind"]["en"]
    assert labelled_missing({"Moscow": 3, MISSING: 2}, "place", "en", profile) == {
        "Moscow": 3, unknown["place"]["en"]: 2}
    assert labelled_missing({MISSING: 1}, "no-such-field", "en", profile) == {MISSING: 1}


def test_a_word_standing_alone_is_taken_one_edit_away_off_the_stemmed_english_fields():
    from pipeline.store.search import text_clause

    fields = ["title^2", "title.en^2", "title.ru^2", "body", "body.en", "body.ru"]
    clause = text_clause('Makei -Sergey "strategic stability" (terror | NATO)', fields)
    (makei,), (sergey,) = clause["bool"]["must"][:1], clause["bool"]["must_not"]
    for either, word in ((makei, "Makei"), (sergey, "Sergey")):
        exact, edit = (c["simple_query_string"] for c in either["bool"]["should"])
        assert (exact["query"], exact["fields"]) == (word, fields)
        assert (edit["query"], edit["fields"]) == (f"{word}~1", ["title^2", "title.ru^2", "body", "body.ru"])
    rest = clause["bool"]["must"][1]["simple_query_string"]
    assert rest["query"].split() == ['"strategic', 'stability"', "((terror", "|", "terror~1)", "|", "NATO)"]
    assert text_clause("NATO", fields) == {"simple_query_string": {
        "query": "NATO", "fields": fields, "default_operator": "and", "fuzzy_prefix_length": 3}}
