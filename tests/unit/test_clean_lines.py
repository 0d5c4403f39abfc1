"""The line-level cleaner: boilerplate out, every speech line in, in every site language."""

from __future__ import annotations

import pytest

from pipeline.extract.clean import clean_lines, read_head
from pipeline.profile import get_profile

ADVERSARIAL = [
    "Colleagues,",
    "Thank you.",
    "Good afternoon.",
    "We do not comment on rumours.",
    "The 5 + 2 format remains the only one.",
    "5 + 2",
    "2021-2025",
    "Yesterday I leafed through the photo album of our first joint mission.",
    "Our embassy at 2 Pushkin Street, phone +7 495 123-45-67, is open on Saturdays.",
    "Photos of the meeting will be published later today, as always.",
    "France",
]


@pytest.fixture(scope="module")
def rules():
    return get_profile().extraction


def test_adversarial_speech_is_kept(rules):
    assert clean_lines(ADVERSARIAL, rules) == ADVERSARIAL


@pytest.mark.parametrize("block", [
    ["Advanced settings"],
    ["Дополнительные материалы", "• Фото", "Фотоальбом", "1 из 1 фотографий в альбоме", "Некорректно указаны даты",
     "Дополнительные инструменты поиска"],
    ["Documents supplémentaires", "• Photos", "Album de photos", "1 de 1 photos dans l'album", "• Information générale",
     "Ambassades et consulats russes à l'étranger", "France", "Ambassade de Russie à Paris", "Adresse :",
     "40-50, Boulevard Lannes, 75116 Paris", "-", "Téléphone :", "+33 1 45-04-05-50", "E-mail", "ambrusfrance@mid.ru",
     "Web", "https://france.mid.ru/ru/", "Twitter", "Reportage photos", "• Франция", "• Франция"],
    ["Zusätzliche Materialien", "Fotos", "1 von 1 Fotos im Album", "Erweiterte Einstellungen"],
    ["Materiales adicionales", "Fotos", "Álbum de fotos", "1 de 1 fotos en el álbum", "Configuración avanzada"],
    ["Additional materials", "Photos", "1 of 3 photos in album"],
])
def test_boilerplate_blocks_are_dropped_and_speech_around_them_kept(rules, block):
    speech = ["We held talks today.", "Question: What next?", "Sergey Lavrov: We will see what happens next week."]
    assert clean_lines(speech[:2] + block + speech[2:], rules) == speech
    assert clean_lines(speech + block, rules) == speech


def test_a_listing_without_its_heading_takes_its_name_lines_along(rules):
    lines = ["Thank you.", "Armenia", "Embassy of the Russian Federation in the Republic of Armenia", "Address:",
             "13a Grigor Lusavorich Street, Yerevan", "Phone:", "+374 10 56-74-27"]
    assert clean_lines(lines, rules) == ["Thank you."]


def test_a_listing_ends_at_the_next_prose_line(rules):
    lines = ["Reportage photos", "• France", "We will continue this work in the coming year, as agreed."]
    assert clean_lines(lines, rules) == lines[2:]


def test_head_of_a_dump(rules):
    lines = ["Ministers’ speeches", "1 December 202019:32", "Title, Moscow, December 1, 2020", "• en-GB1 ru-RU1",
             "1225-18-06-2021", "Good afternoon."]
    head, rest = read_head(lines, rules)
    assert (head.section, head.date_text, head.time_text, head.title, head.languages, head.doc_number) == (
        "Ministers’ speeches", "1 December 2020", "19:32", "Title, Moscow, December 1, 2020", ["en", "ru"],
        "1225-18-06-2021")
    assert rest == ["Good afternoon."]


def test_head_of_a_container_does_not_take_speech_as_title(rules):
    head, rest = read_head(["15:45", "Colleagues,", "Thank you."], rules, title_known=None, title_in_text=False)
    assert head.time_text == "15:45" and head.title is None
    assert rest == ["Colleagues,", "Thank you."]
