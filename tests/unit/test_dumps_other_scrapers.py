"""Dumps as other scrapers save them (issue 23, item 3): a <title> line loses the site's
name in every language the profile serves, an untitled dump is kept and flagged, and two
untitled transcripts of one day are not taken for one. The labelled dump cases
(pipeline/data/unseen/dump_*) are scored by the evaluation gate."""

import json

import pytest

from pipeline.model.errors import PipelineError, RecordRejected
from pipeline.extract.extractor import extract_record
from pipeline.context import get_profile
from pipeline.model.records import Page

NO_TITLE = "no_title"  # the flag, spelled out: the test reads the public record contract

SPEECH = {
    "en": "We have held substantive talks with our colleagues and agreed on the next steps together.",
    "ru": "Мы провели обстоятельные переговоры с коллегами и согласовали дальнейшие шаги вместе.",
    "fr": "Nous avons eu des entretiens approfondis avec nos collègues et nous sommes convenus des étapes.",
    "de": "Wir haben mit unseren Kollegen ausführliche Gespräche geführt und die nächsten Schritte vereinbart.",
    "es": "Hemos celebrado conversaciones sustantivas con nuestros colegas y acordamos los próximos pasos.",
}
TITLE_LINES = {
    "en": ("Remarks by Sergey Lavrov, Moscow, 5 May 2023", " - Ministry of Foreign Affairs of the Russian Federation"),
    "ru": ("Выступление С.В.Лаврова, Москва, 5 мая 2023 года", " - Министерство иностранных дел Российской Федерации"),
    "fr": ("Discours de Sergueï Lavrov, Moscou, 5 mai 2023", " - Ministère des Affaires étrangères de la Fédération de Russie"),
    "de": ("Rede von Sergej Lawrow, Moskau, 5 Mai 2023", " | Außenministerium der Russischen Föderation"),
    "es": ("Discurso de Serguéi Lavrov, Moscú, 5 mayo 2023", " – Ministerio de Asuntos Exteriores de la Federación de Rusia"),
}


def _dump(text: str, name: str = "dump.txt"):
    return extract_record(Page(source=name, content=text.encode("utf-8")), get_profile())


@pytest.mark.parametrize("language", sorted(TITLE_LINES))
def test_a_title_line_loses_the_sites_name_in_every_language(language):
    title, suffix = TITLE_LINES[language]
    record = _dump(f"{title}{suffix}\n\n{SPEECH[language]}\n")
    assert record.title == title
    assert record.published_at.date().isoformat() == "2023-05-05"
    assert record.location == title.split(", ")[-2]
    assert record.body == SPEECH[language] and record.flags == []


def test_an_untitled_dump_is_kept_flagged_and_its_json_says_so():
    record = _dump(f"867-05-05-2023\n\nДобрый день!\n\n{SPEECH['ru']}\n")
    assert record.title is None and record.flags == [NO_TITLE]
    assert record.body.startswith("Добрый день!")
    dumped = json.loads(record.model_dump_json())
    assert dumped["title"] is None and dumped["flags"] == [NO_TITLE]
    # a titled record carries no flags key at all: its JSON is what it always was
    assert "flags" not in json.loads(_dump(f"{TITLE_LINES['en'][0]}\n\n{SPEECH['en']}\n").model_dump_json())


def test_two_untitled_transcripts_of_one_day_are_two_documents():
    first = _dump(f"867-05-05-2023\n\n{SPEECH['ru']}\n", "a.txt")
    second = _dump(f"868-05-05-2023\n\n{SPEECH['ru']}\n", "b.txt")
    assert first.published_at == second.published_at and first.title is second.title is None
    assert len({first.doc_id, second.doc_id}) == 2 and first.match_key != second.match_key


def test_a_dump_with_no_date_anywhere_is_still_refused_with_its_reason():
    with pytest.raises(RecordRejected, match="published_at"):
        _dump(f"Уважаемые коллеги!\n\n{SPEECH['ru']}\n\nСпасибо.\n")


def test_p_elements_saved_as_html_read_as_a_dump_but_a_page_without_title_is_refused():
    paragraphs = ["867-05-05-2023", "Добрый день!", SPEECH["ru"], "1 из 1 фотографий в альбоме"]
    fragment = "".join(f"<p>{p}</p>\n" for p in paragraphs).replace("Добрый", "<b>Добрый</b>")
    record = _dump(fragment, "dump.html")
    assert record.body.split("\n\n") == ["Добрый день!", SPEECH["ru"]] and record.flags == [NO_TITLE]
    assert record.published_at.date().isoformat() == "2023-05-05"
    # a page (document structure, a script) is no fragment: without a title it is still refused
    for page in (f"<html><body>{fragment}</body></html>", f"<script>x()</script>{fragment}"):
        with pytest.raises(PipelineError):
            _dump(page, "page.html")
