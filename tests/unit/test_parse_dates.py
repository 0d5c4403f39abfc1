"""Dates, times, places and speaker labels as the site writes them."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.extract.clean import split_date_time
from pipeline.extract.rules import compiled
from pipeline.extract.metadata import (detect_language, language_from_url, parse_date, parse_datetime_loose, speaker_of,
                            title_tail)
from pipeline.context import get_profile


@pytest.fixture(scope="module")
def cr():
    return compiled(get_profile().extraction)


@pytest.mark.parametrize("text, expected", [
    ("1 December 2020", date(2020, 12, 1)),
    ("December 1, 2020", date(2020, 12, 1)),
    ("18 ноября 2019", date(2019, 11, 18)),
    ("18 ноября 2019 года", date(2019, 11, 18)),
    ("18 ноября 2019 г.", date(2019, 11, 18)),
    ("18.06.2021", date(2021, 6, 18)),
    ("2 décembre 2021", date(2021, 12, 2)),
    ("2. Dezember 2021", None),  # not a form the site uses: refused rather than guessed
])
def test_site_date_forms(cr, text, expected):
    assert parse_date(text, cr, whole=True) == expected


@pytest.mark.parametrize("text", ["5 + 2", "2021-2025", "Colleagues,", "1 Foo 2020", "31 February 2020"])
def test_things_that_are_not_dates(cr, text):
    assert parse_date(text, cr, whole=True) is None


@pytest.mark.parametrize("line, expected", [
    ("1 December 202019:32", ("1 December 2020", "19:32")),
    ("18 November 201919:46", ("18 November 2019", "19:46")),
    ("18 ноября 2019 года, 19:46", ("18 ноября 2019", "19:46")),
    ("18 ноября 201919:46", ("18 ноября 2019", "19:46")),
    ("18.11.2019 19:46", ("18.11.2019", "19:46")),
    ("In 2020 we met at 19:32", None),
])
def test_glued_date_and_time(cr, line, expected):
    assert split_date_time(line, cr) == expected


@pytest.mark.parametrize("text, expected", [
    ("December 2, 2021, 1:20 pm", "2021-12-02T13:20:00+03:00"),
    ("2 December 2021 11:05 p.m.", "2021-12-02T23:05:00+03:00"),
    ("2 December 2021, 12:10 PM", "2021-12-02T12:10:00+03:00"),
    ("2 December 2021 12:40 am", "2021-12-02T00:40:00+03:00"),
    ("2 December 2021 9:15 a.m.", "2021-12-02T09:15:00+03:00"),
    ("2 December 2021 13:20", "2021-12-02T13:20:00+03:00"),
    ("2 December 2021 13:20 pm", "2021-12-02T13:20:00+03:00"),  # already 24-hour: pm says nothing more
    ("2 декабря 2021 года, 13:20", "2021-12-02T13:20:00+03:00"),
    ("2 December 2021 1:20 pmx", "2021-12-02T01:20:00+03:00"),  # not an am/pm mark
])
def test_a_twelve_hour_time_is_read_with_its_am_or_pm(cr, text, expected):
    """"1:20 pm" is 13:20: the mark after a time is never dropped on the way."""
    assert parse_datetime_loose(text, cr).isoformat() == expected


def test_loose_forms_keep_the_time_in_moscow(cr):
    assert parse_datetime_loose("2022-06-09T14:05:00+03:00", cr).isoformat() == "2022-06-09T14:05:00+03:00"
    assert parse_datetime_loose("9 June 2022 14:05", cr).isoformat() == "2022-06-09T14:05:00+03:00"
    assert parse_datetime_loose("2022-06-09T11:05:00Z", cr).utcoffset().total_seconds() == 0
    assert parse_datetime_loose("no date here", cr) is None


@pytest.mark.parametrize("title, place, day", [
    ("Remarks by Sergey Lavrov, Moscow, December 1, 2020", "Moscow", date(2020, 12, 1)),
    ("Remarks at the OSCE Ministerial Council, Stockholm, December 2, 2021", "Stockholm", date(2021, 12, 2)),
    ("Remarks, New York, 25 September 2019", "New York", date(2019, 9, 25)),
    ("Выступление С.В.Лаврова, Москва, 18 ноября 2019 года", "Москва", date(2019, 11, 18)),
    ("A title without a place or a date", None, None),
])
def test_title_tail(cr, title, place, day):
    assert title_tail(title, cr) == (place, day)


@pytest.mark.parametrize("paragraph, expected", [
    ("Question: Have you discussed it?", ("Question", True, "Have you discussed it?")),
    ("Question (retranslated from English): Today, you said", ("Question", True, "Today, you said")),
    ("Sergey Lavrov (speaking after Vladimir Makei): I fully support", ("Sergey Lavrov", False, "I fully support")),
    ("Sergey Lavrov:\u00a0 The calls", ("Sergey Lavrov", False, "The calls")),
    ("С.В.Лавров: Ожидаем результатов.", ("С.В.Лавров", False, "Ожидаем результатов.")),
    ("Вопрос (перевод с английского): Будут ли?", ("Вопрос", True, "Будут ли?")),
    ("The conclusion from this is simple: we must create our own mechanisms.", None),
    ("Colleagues,", None),
    ("As for military-political cooperation: we will submit a plan.", None),
    # a question label that names who asks: a question, never a paragraph of the last answer
    ("Question from Reuters: Is there a response?", ("Question from Reuters", True, "Is there a response?")),
    ("Вопрос агентства «Рейтер»: Есть ли ответ?", ("Вопрос агентства «Рейтер»", True, "Есть ли ответ?")),
    ("Question (TASS): Will you go?", ("Question", True, "Will you go?")),
    ("Question from the floor: What next?", ("Question from the floor", True, "What next?")),
    ("Questions and answers: a new format", None),
    # an answer label names nobody: the main speaker answers (split_turns)
    ("Answer: We will see.", (None, False, "We will see.")),
    ("Ответ (перевод с английского): Посмотрим.", (None, False, "Посмотрим.")),
    ("Answer me this: why did they leave the treaty?", None),
    # a title before the name, in any case: the label is the speaker as printed
    ("Министр иностранных дел России С.В.Лавров: Да.", ("Министр иностранных дел России С.В.Лавров", False, "Да.")),
    ("Foreign Minister Sergey Lavrov (speaking after Vladimir Makei): Yes.",
     ("Foreign Minister Sergey Lavrov", False, "Yes.")),
    ("Question marks remain over the deal: we do not know the answer yet.", None),
    ("Question number two: how do we proceed from here?", None),
])
def test_speaker_labels(cr, paragraph, expected):
    assert speaker_of(paragraph, cr) == expected


# The label as first written: the shortest text (2-100 characters, no colon or line break)
# before optional spaces and a colon. The profile's form takes the label possessively (no
# backtracking, several times faster on a paragraph without an early colon); both must read
# the same label and text once stripped, as every reader of the pattern strips them.
_LAZY_LABEL = re.compile(r"^(?P<label>[^:\n]{2,100}?)\s*:\s*(?P<rest>.*)$")


def _text(alphabet: list[str], min_size: int, max_size: int):
    return st.lists(st.sampled_from(alphabet), min_size=min_size, max_size=max_size).map("".join)


# A run without a colon or line break, often right at the 100-character limit of a label,
# then anything: where a label may end, and where it is too long to be one.
_RUN = ["a", "Я", " ", "\u00a0", "\t", "."]
_RUN_LENGTH = st.integers(0, 120) | st.sampled_from([1, 2, 3, 98, 99, 100, 101, 102])


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(st.tuples(_RUN_LENGTH.flatmap(lambda n: _text(_RUN, n, n)), _text([*_RUN, ":", "\n"], 0, 20)).map("".join))
def test_the_profile_speaker_label_reads_what_the_lazy_form_reads(cr, text):
    def read(match):
        return None if match is None else (match["label"].strip(), match["rest"].strip())

    assert read(cr.patterns.speaker_label.match(text)) == read(_LAZY_LABEL.match(text))


@pytest.mark.parametrize("text, expected", [
    ("Wir haben heute die Lage in der Region und die Zusammenarbeit mit den Partnern besprochen.", "de"),
    ("Nous avons discuté de la situation dans la région et des relations avec nos partenaires.", "fr"),
    ("Hemos hablado de la situación en la región y de las relaciones con nuestros socios.", "es"),
    ("We discussed the situation in the region and the relations with our partners.", "en"),
    ("Мы обсудили ситуацию в регионе и отношения с партнёрами.", "ru"),
])
def test_language_of_the_text(text, expected):
    assert detect_language(text, get_profile().extraction, "en") == expected


@pytest.mark.parametrize("url, expected", [
    ("https://mid.ru/ru/foreign_policy/news/1/", "ru"),
    ("https://mid.ru/en/press_service/minister_speeches/1/?lang=de", "de"),
    ("https://archive.mid.ru/en/foreign_policy/news/-/asset_publisher/x/content/id/2717182", "en"),
    ("https://example.org/page", None),
])
def test_language_of_the_url(url, expected):
    assert language_from_url(url, get_profile().extraction) == expected
