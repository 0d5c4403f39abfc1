"""The line-level cleaner: boilerplate out, every speech line in, in every site language."""

from __future__ import annotations

import pytest

from pipeline.extract.clean import clean_lines, read_head
from pipeline.context import get_profile

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


# --- a site notice that reads as a sentence: the fix is the profile ---------------------

NOTICE_EN = "Spotted a mistake in this text? Select it with the mouse and press Ctrl+Enter to tell the editors."
NOTICE_RU = ("Продолжая пользоваться сайтом, вы соглашаетесь на обработку файлов cookie в соответствии "
             "с политикой конфиденциальности.")


def _profile_listing(tmp_path, phrases=(), patterns=()):
    import yaml

    from pipeline.profile import load_profile
    from pipeline.settings import REPO_ROOT

    data = yaml.safe_load((REPO_ROOT / "config" / "site.yaml").read_text(encoding="utf-8"))
    languages = data["extraction"]["languages"]
    languages["en"]["boilerplate_lines"].extend(phrases)
    languages["ru"]["boilerplate_patterns"].extend(patterns)
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_profile(path)


def _dump_with_notices():
    from pipeline.settings import REPO_ROOT

    text = (REPO_ROOT / "sample/dumps/003_2234830b66175c33.txt").read_text(encoding="utf-8")
    head, middle, tail = text.partition("It was a very busy month")
    # one notice between two paragraphs, both after the speech, as a scraper saved them
    return f"{head}{NOTICE_EN}\n\n{middle}{tail.rstrip()}\n\n{NOTICE_EN}\n\n{NOTICE_RU}\n"


def test_a_notice_that_reads_as_prose_goes_once_the_profile_lists_it(tmp_path):
    """Where the site adds a notice in a sentence's shape, the fix is YAML: the phrase in
    ``boilerplate_lines``, or a pattern matching the whole notice in ``boilerplate_patterns``.
    Both used to be looked up for lines that do not read as prose only, so a listed notice
    stayed in the text."""
    from pipeline.extract.extractor import extract_record
    from pipeline.model.records import Page

    page = Page(source="dump", content=_dump_with_notices().encode("utf-8"))
    shipped = extract_record(page, get_profile()).body
    assert NOTICE_EN in shipped and NOTICE_RU in shipped  # unknown to the shipped profile: shape keeps prose

    profile = _profile_listing(tmp_path, phrases=[NOTICE_EN], patterns=[r"Продолжая пользоваться сайтом, .*cookie.*"])
    body = extract_record(page, profile).body
    assert NOTICE_EN not in body and NOTICE_RU not in body
    # every other paragraph is still there, in its order
    assert body.split("\n\n") == [p for p in shipped.split("\n\n") if p not in (NOTICE_EN, NOTICE_RU)]


def test_a_pattern_takes_a_line_that_reads_as_prose_only_when_it_matches_all_of_it(tmp_path):
    """A pattern written for a label (its start only) never takes a speech paragraph that
    begins with the same words; a label-like line still goes on its start, as ever."""
    rules = _profile_listing(tmp_path, patterns=[r"Версия для"]).extraction
    speech = "Версия для печати этого документа будет разослана всем участникам встречи сегодня вечером."
    assert clean_lines([speech, "Версия для слабовидящих"], rules) == [speech]


# --- a list the speech announces ----------------------------------------------------------

AREAS = ["strategic stability and arms control", "the fight against international terrorism",
         "international information security", "migration"]
INTRO = "We agreed to focus on the following areas of our cooperation in the coming year:"
AFTER = "We will report on the results at our next meeting in Minsk in the spring."


def test_the_items_of_a_list_the_speech_announces_are_speech():
    """Short lines without a sentence ending, three or more in a row inside the speech, read
    as a leaked menu: the items of a list after "... the following areas:" were lost."""
    from pipeline.extract.extractor import extract_record
    from pipeline.model.records import Page

    items = "".join(f"<li>{item}</li>" for item in AREAS)
    page = (f'<html lang="en"><body><div class="photo-content"><span class="photo-content__date">2 December 2021 '
            f'13:20</span><h1 class="photo-content__title">Foreign Minister Sergey Lavrov’s remarks, Moscow</h1>'
            f'<div class="text article-content"><p>{INTRO}</p><ul>{items}</ul><p>{AFTER}</p></div></div></body></html>')
    record = extract_record(Page(source="p", url="https://mid.ru/en/foreign_policy/news/1790000/",
                                 content=page.encode(), content_type="text/html"), get_profile())
    assert record.body.split("\n\n") == [INTRO, *AREAS, AFTER]


def test_a_bulleted_list_the_speech_announces_stays_in_a_dump_and_ends_where_the_chrome_starts():
    from pipeline.extract.extractor import extract_record
    from pipeline.model.records import Page

    bullets = "\n".join(f"    • {item}" for item in AREAS)
    dump = (f"2 December 202113:20\n\nForeign Minister Sergey Lavrov’s remarks, Moscow, December 2, 2021\n\n"
            f"{AFTER}\n\n{INTRO}\n\n{bullets}\n\n\n\n\nRelated documents\n\nPicture gallery\n")
    body = extract_record(Page(source="d", content=dump.encode()), get_profile()).body.split("\n\n")
    assert body == [AFTER, INTRO, *(f"• {item}" for item in AREAS)]


def test_a_menu_after_a_sentence_is_still_a_leaked_menu(rules):
    menu = ["Picture gallery", "Extended lookup options", "More pictures"]
    speech = ["We held talks today and agreed on many things.", "We will meet again next week in Minsk."]
    assert clean_lines(speech[:1] + menu + speech[1:], rules) == speech


# --- the last paragraph without its full stop --------------------------------------------

LAST = "We will continue to work with our partners on all of these issues in the coming months"
FIRST = "We held talks today and we agreed on many things of importance to both of us."


def _dump(tail: str) -> str:
    return (f"1 December 202019:32\n\nForeign Minister Sergey Lavrov’s remarks, Moscow, December 1, 2020\n\n"
            f"{FIRST}\n\n{LAST}\n\n\n\n\n{tail}\n")


@pytest.mark.parametrize("tail", ["Advanced settings", "Related documents\n\nPicture gallery\n\nWrong dates entered"])
def test_the_last_paragraph_without_its_full_stop_stays_before_the_page_chrome_of_a_dump(tail):
    """The speech's last paragraph has no full stop (the site's text has such slips): it is
    no label of the chrome that follows the scraper's gap, known or not."""
    from pipeline.extract.extractor import extract_record
    from pipeline.model.records import Page

    body = extract_record(Page(source="d", content=_dump(tail).encode()), get_profile()).body
    assert body.split("\n\n") == [FIRST, LAST]


def test_the_last_paragraph_without_its_full_stop_stays_next_to_known_chrome(rules):
    assert clean_lines([FIRST, LAST, "Advanced settings", "Photos"], rules) == [FIRST, LAST]


def test_short_unknown_labels_after_the_speech_still_go(rules):
    """The paragraph rule asks for more words than a menu entry has: a lone unknown label
    next to known chrome is still chrome."""
    assert clean_lines([FIRST, "Picture gallery", "Advanced settings"], rules) == [FIRST]
