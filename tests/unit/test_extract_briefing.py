"""Briefings: topic headings are the section titles of the turns, never speech and never lost.

The replica's briefing page (mfa_replica/content.py, built from the evidence: a table of
contents of in-page links, centred topic headings with their anchors, "Back to contents" links,
then "Answers to media questions:") is rendered in both languages and extracted. The expected
turns below are written by hand from that page, not taken from the profile's lists.
"""

from __future__ import annotations

import pytest

from pipeline.extract.extractor import extract_record
from pipeline.context import get_profile
from pipeline.model.records import Page
from mfa_replica.content import base_articles
from mfa_replica.pages import PageOptions, render_article

EXPECTED = {
    "en": [
        ("zakharova-m", "statement", "On the current international agenda",
         "Foreign Minister Sergey Lavrov will hold talks with his colleagues next week in Moscow."),
        ("zakharova-m", "statement", "On the situation in the Middle East",
         "We call on all the parties to show restraint and to resume a political dialogue without delay."),
        (None, "question", "Answers to media questions",
         "Are new contacts with the European partners being planned?"),
        ("zakharova-m", "answer", "Answers to media questions",
         "We are open to dialogue, but it must be equal and respectful of our interests."),
    ],
    "ru": [
        ("zakharova-m", "statement", "О текущей международной повестке",
         "Министр иностранных дел России С.В.Лавров проведёт переговоры с коллегами на следующей неделе."),
        ("zakharova-m", "statement", "О ситуации на Ближнем Востоке",
         "Мы призываем все стороны к сдержанности и к возобновлению политического диалога."),
        (None, "question", "Из ответов на вопросы СМИ",
         "Планируются ли новые контакты с европейскими партнёрами?"),
        ("zakharova-m", "answer", "Из ответов на вопросы СМИ",
         "Мы открыты для диалога, но он должен быть равноправным и уважительным."),
    ],
}
NOT_SPEECH = {"en": ["Table of contents", "Back to contents", "On the current international agenda",
                     "On the situation in the Middle East", "Answers to media questions"],
              "ru": ["Содержание", "Назад к оглавлению", "О текущей международной повестке",
                     "О ситуации на Ближнем Востоке", "Из ответов на вопросы СМИ"]}


def briefing(language: str):
    (article,) = [a for a in base_articles() if a.section == "briefings" and a.language == language]
    html = render_article(article, PageOptions())
    return extract_record(Page(source="replica", url="https://mid.ru" + article.path, content=html.encode()),
                          get_profile())


@pytest.mark.parametrize("language", ["en", "ru"])
def test_topic_headings_become_the_section_titles_of_the_turns(language):
    record = briefing(language)
    got = [(t.speaker_id, t.role, t.topic, t.text) for t in record.turns]
    assert got == EXPECTED[language]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_headings_contents_and_back_links_are_not_speech(language):
    record = briefing(language)
    for phrase in NOT_SPEECH[language]:
        assert phrase not in record.body, phrase
        assert not any(phrase in t.text for t in record.turns), phrase
    # the speech itself is all there, labels as printed
    for _, _, _, text in EXPECTED[language]:
        assert text in record.body


def test_a_page_without_headings_has_no_topics():
    (article,) = [a for a in base_articles() if a.section == "minister_speeches" and a.path.endswith("1785001/")]
    record = extract_record(Page(source="replica", url="https://mid.ru" + article.path,
                                 content=render_article(article, PageOptions()).encode()), get_profile())
    assert len(record.turns) > 1 and all(t.topic is None for t in record.turns)


def test_a_text_dump_of_a_briefing_keeps_the_answers_heading_as_the_topic():
    """No markup to mark headings in a text dump: the line "Из ответов на вопросы СМИ:" still
    heads the questions and answers after it; the opening statement before it has no topic."""
    text = ("Брифинг официального представителя МИД России М.В.Захаровой, Москва, 3 декабря 2025 года\n\n"
            "Мы внимательно следим за развитием событий и будем информировать вас о наших шагах.\n\n"
            "Из ответов на вопросы СМИ:\n\n"
            "Вопрос: Когда состоится следующая встреча министров иностранных дел?\n\n"
            "М.В.Захарова: Сроки встречи согласовываются, мы сообщим о них дополнительно.\n")
    record = extract_record(Page(source="dump.txt", content=text.encode(), content_type="text/plain"), get_profile())
    assert [(t.role, t.topic) for t in record.turns] == [
        ("statement", None), ("question", "Из ответов на вопросы СМИ"), ("answer", "Из ответов на вопросы СМИ")]
    assert "Из ответов на вопросы СМИ" not in record.body
