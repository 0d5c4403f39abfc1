"""Per-article metadata from the article itself (issue 11, item 2): languages from the
article's own version list (never the site's switcher), date and time from any element
near the title, the document number by its pattern in the article head, translation notes
as a field, speaker names to one canonical id across languages."""

from __future__ import annotations

from datetime import datetime

import pytest

from pipeline.extract.extractor import extract_record
from pipeline.extract.metadata import speaker_key
from pipeline.context import get_profile
from pipeline.model.records import MOSCOW, ListingHints, Page

PROFILE = get_profile()
SWITCHER = ('<ul class="lang-switcher">' + "".join(f'<li><a hreflang="{c}" href="/{c}/">{c}-XX</a></li>'
                                                  for c in ("ru", "en", "de", "fr", "es", "pt")) + "</ul>")
EN = ["Good afternoon. We have held talks with our partners and agreed on a plan of joint work.",
      "Question: What do you expect from the next round of consultations?",
      "Sergey Lavrov: We expect concrete results from it, as always in these talks."]
RU = ["Добрый день! Мы провели переговоры и договорились о плане совместной работы на годы вперёд.",
      "Вопрос: Чего Вы ожидаете от следующего раунда консультаций с партнёрами?",
      "С.В.Лавров: Ожидаем конкретных результатов, как всегда бывает на таких переговорах."]
TITLE = "Foreign Minister Sergey Lavrov’s remarks at a news conference, Moscow, March 14, 2024"


def current(*, head: str = "", body: list[str] = EN, lang: str = "en", title: str = TITLE, extra: str = "") -> bytes:
    return f"""<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>t</title></head><body>
<header class="header">{SWITCHER}</header>
<div class="page-body"><div class="breadcrumbs"><a href="/">Main</a><a href="/s/">Ministers’ speeches</a></div>
{head}<h1 class="photo-content__title">{title}</h1>{extra}
<div class="text article-content">{''.join(f'<p>{p}</p>' for p in body)}</div></div>
<footer class="footer">{SWITCHER}</footer></body></html>""".encode()


def archive(*, head: str, body: list[str] = RU, title: str = "Выступление С.В.Лаврова, Москва, 18 ноября 2019 года") -> bytes:
    return f"""<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><title>t</title></head><body>
<div class="portlet-body"><div class="asset-full-content"><h2 class="asset-title">{title}</h2>{head}
<div class="text article-content">{''.join(f'<p>{p}</p>' for p in body)}</div></div></div></body></html>""".encode()


def _extract(content: bytes, url: str | None = None):
    return extract_record(Page(source="meta", content=content, url=url), PROFILE)


def test_the_site_wide_switcher_is_not_the_article_languages():
    assert _extract(current()).languages == []


@pytest.mark.parametrize("extra", [
    '<ul class="article-langs"><li><a hreflang="en" href="?lang=en">English</a></li>'
    '<li><a hreflang="ru" href="?lang=ru">Русский</a></li></ul>',
    '<div class="article-langs"><a href="/en/foreign_policy/news/1935743/?lang=en">en</a> '
    '<a href="/en/foreign_policy/news/1935743/?lang=ru">ru</a></div>',
    '<p><a href="/en/foreign_policy/news/1935743/?lang=en">EN</a> | <a href="/en/foreign_policy/news/1935743/?lang=ru">RU</a></p>',
])
def test_the_article_version_list_gives_the_languages(extra):
    assert _extract(current(extra=extra)).languages == ["en", "ru"]


@pytest.mark.parametrize("head, stamp", [
    ('<div class="photo-content__date">14 March 2024<br>13:20</div>', "2024-03-14T13:20:00+03:00"),
    ('<div class="article-meta"><span>14.03.2024</span> <span>13:20</span></div>', "2024-03-14T13:20:00+03:00"),
    ('<div class="when"><time datetime="2024-03-14T13:20:00+03:00">14 March</time></div>', "2024-03-14T13:20:00+03:00"),
    ('<div class="meta"><div>14 mars 2024</div><div>13:20</div></div>', "2024-03-14T13:20:00+03:00"),
    ('<p class="x">14 марта 2024 года, 13:20</p>', "2024-03-14T13:20:00+03:00"),
])
def test_date_and_time_from_any_element_near_the_title(head, stamp):
    assert _extract(current(head=head)).published_at.isoformat() == stamp


def test_listing_hint_is_the_fallback_for_the_time():
    page = Page(source="meta", content=current(title="Remarks by the Minister"),
                hints=ListingHints(published=datetime(2024, 3, 14, 10, 0, tzinfo=MOSCOW)))
    assert extract_record(page, PROFILE).published_at.isoformat() == "2024-03-14T10:00:00+03:00"


@pytest.mark.parametrize("head", [
    '<div class="article-status-line"><span><span>18.11.2019</span> <i>19:46</i></span></div>'
    '<div class="article-note"><span class="nowrap">2393-18-11-2019</span></div>',
    '<div class="article-status-line"><span><span>18.11.2019</span><i>19:46</i></span></div>'
    '<b class="doc-number">№ 2393-18-11-2019</b>',
])
def test_old_portal_number_and_time_in_non_standard_elements(head):
    record = _extract(archive(head=head))
    assert record.doc_number == "2393-18-11-2019"
    assert record.published_at.isoformat() == "2019-11-18T19:46:00+03:00"


def test_number_in_the_current_head_outside_the_known_element():
    record = _extract(current(extra='<div class="article-line__note">482-14-03-2024</div>'))
    assert record.doc_number == "482-14-03-2024"


@pytest.mark.parametrize("where", ["first", "last", "head"])
def test_translation_note_is_a_field_not_body_text(where):
    note = "Unofficial translation from Russian"
    body = [note, *EN] if where == "first" else [*EN, note] if where == "last" else EN
    extra = f'<p class="note">{note}</p>' if where == "head" else ""
    record = _extract(current(body=body, extra=extra))
    assert record.translation_note == note
    assert note not in record.body and record.body.split("\n\n") == EN


@pytest.mark.parametrize("note", ["Unofficial translation from the Russian language",
                                  "Unofficial translation from the original Russian text",
                                  "Translated from Russian by the Ministry's language service"])
def test_a_longer_wording_of_a_listed_note_is_the_note_too(note):
    """A listed note's start with up to five words more, not in a sentence's shape."""
    record = _extract(current(body=[note, *EN]))
    assert record.translation_note == note
    assert record.body.split("\n\n") == EN


@pytest.mark.parametrize("line", ["Unofficial translation from Russian is what the press received, and it was accurate.",
                                  "Unofficial translation from Russian was handed to everyone."])
def test_a_speech_sentence_mentioning_a_translation_stays(line):
    record = _extract(current(body=[line, *EN]))
    assert record.body.split("\n\n")[0] == line and record.translation_note is None


@pytest.mark.parametrize("printed", ["Sergey Lavrov", "С.В.Лавров", "Сергей Лавров", "С. В. Лавров", "Sergej Lawrow",
                                     "Sergei Lavrov"])
def test_lavrov_has_one_id_in_every_language(printed):
    assert speaker_key(printed, PROFILE.extraction) == "lavrov-s"


@pytest.mark.parametrize("printed, key", [
    # a title or honorific before the name is no first name: "Foreign" gave lavrov-f
    ("Foreign Minister Sergey Lavrov", "lavrov-s"), ("Minister Lavrov", "lavrov-s"), ("Mr Lavrov", "lavrov-s"),
    ("Министр С.В.Лавров", "lavrov-s"), ("Министр иностранных дел С.В.Лавров", "lavrov-s"),
    ("Spokeswoman Maria Zakharova", "zakharova-m"),
    # an unlisted printed form of a listed person: the fallback key folds to the listed one's
    ("M.Zakharova", "zakharova-m"), ("М.Захарова", "zakharova-m"), ("S.V.Lavrov", "lavrov-s"),
    # an unlisted person keeps the fallback key, titles off
    ("Foreign Minister Ararat Mirzoyan", "mirzoian-a"), ("Ararat Mirzoyan", "mirzoian-a"),
])
def test_a_speaker_has_one_id_whatever_title_or_initials_come_with_the_name(printed, key):
    assert speaker_key(printed, PROFILE.extraction) == key


@pytest.mark.parametrize("a, b", [("Ararat Mirzoyan", "А.С.Мирзоян"), ("Vladimir Makei", "Владимир Макей"),
                                  ("Maria Zakharova", "М.В.Захарова")])
def test_unlisted_names_match_across_scripts(a, b):
    assert speaker_key(a, PROFILE.extraction) == speaker_key(b, PROFILE.extraction)


def test_turns_carry_the_id_and_keep_the_printed_name():
    en = _extract(current())
    ru = _extract(current(body=RU, lang="ru", title="Выступление С.В.Лаврова, Москва, 14 марта 2024 года"))
    assert [t.speaker for t in ru.turns if t.role != "question"] == ["С.В.Лавров", "С.В.Лавров"]
    assert [t.speaker_id for t in en.turns] == [t.speaker_id for t in ru.turns] == ["lavrov-s", None, "lavrov-s"]
    assert en.speaker_ids == ru.speaker_ids == ["lavrov-s"]


def test_a_question_that_names_who_asks_is_a_turn_of_its_own():
    """"Question from Reuters:" used to read as one more paragraph of the answer before it:
    the journalist's words were indexed as the minister's."""
    body = ["We held talks today and agreed on many things of importance to both of us.",
            "Question: What did you agree on?", "Sergey Lavrov: On the next steps of our work.",
            "Question from Reuters: Is there a response to last week's proposals?",
            "Sergey Lavrov: We have sent it through diplomatic channels."]
    record = _extract(current(body=body))
    assert [(t.role, t.speaker_id) for t in record.turns] == [
        ("statement", "lavrov-s"), ("question", None), ("answer", "lavrov-s"), ("question", None), ("answer", "lavrov-s")]
    assert record.turns[3].speaker == "Question from Reuters"
    assert record.turns[3].text == "Is there a response to last week's proposals?"


def test_a_question_label_on_a_line_of_its_own_that_names_who_asks_stays():
    """The label alone ("Question from TASS:"), the question in the next paragraph: the label
    is no page chrome (a short label with a colon), or the question joins the answer before."""
    body = ["We held talks today and agreed on many things of importance to both of us.",
            "Question from TASS:", "What about the next round of talks in Geneva this spring?",
            "Sergey Lavrov: It will take place as agreed."]
    record = _extract(current(body=body))
    assert [(t.role, t.speaker, t.text) for t in record.turns[1:]] == [
        ("question", "Question from TASS", "What about the next round of talks in Geneva this spring?"),
        ("answer", "Sergey Lavrov", "It will take place as agreed.")]


@pytest.mark.parametrize("lang, body, title", [
    ("en", ["Today we will talk about the preparations for the summit and the situation in the region.",
            "Question: Will the minister travel to the summit himself?",
            "Answer: Yes, he will lead the delegation, as was announced last week.",
            "Question: And who else will be in the delegation?",
            "Answer:", "We will publish the list once it is agreed with our partners."],
     "Briefing by Foreign Ministry Spokeswoman Maria Zakharova, Moscow, March 15, 2024"),
    ("ru", ["Сегодня мы поговорим о подготовке к саммиту и о ситуации в регионе в целом.",
            "Вопрос: Поедет ли министр на саммит сам?",
            "Ответ: Да, он возглавит делегацию, как и было объявлено на прошлой неделе.",
            "Вопрос: А кто ещё войдёт в состав делегации?",
            "Ответ:", "Мы опубликуем список, как только согласуем его с партнёрами."],
     "Брифинг официального представителя МИД России М.В.Захаровой, Москва, 15 марта 2024 года"),
])
def test_an_answer_label_gives_the_turn_to_the_main_speaker(lang, body, title):
    """Briefings and answers to media questions print "Answer:" ("Ответ:") where an interview
    prints the name: the spokeswoman's answer, never one more paragraph of the question."""
    record = _extract(current(body=body, lang=lang, title=title))
    assert [(t.role, t.speaker_id) for t in record.turns] == [
        ("statement", "zakharova-m"), ("question", None), ("answer", "zakharova-m"), ("question", None),
        ("answer", "zakharova-m")]
    assert record.turns[2].text == body[2].split(": ", 1)[1]
    assert record.turns[4].text == body[5]
    assert record.speakers == [record.turns[0].speaker]


def test_the_language_a_url_asks_for_beats_the_template_language_of_the_page():
    """/pt/...?lang=en serves English text (site evidence, firm) in a page whose template may
    say lang="pt": the record is English, and the same document as the one under /en/."""
    from pipeline.model.ids import document_id
    from pipeline.ingest import with_provenance

    text = ["We held talks today and agreed on many things of importance to both of us and to our partners.",
            "Thank you."]
    pages = {url: Page(source=url, url=url, content=current(body=text, lang=lang))
             for url, lang in [("https://mid.ru/pt/foreign_policy/news/1792974/?lang=en", "pt"),
                               ("https://mid.ru/en/foreign_policy/news/1792974/", "en")]}
    records = [with_provenance(extract_record(page, PROFILE), page, PROFILE) for page in pages.values()]
    assert [r.language for r in records] == ["en", "en"]
    assert document_id(records[0]) == document_id(records[1])


INVISIBLE = ("\u00ad", "\u200b", "\u2060", "\ufeff")


@pytest.mark.parametrize("shape", ["html", "dump"])
def test_invisible_characters_do_not_split_the_words_of_the_text(shape):
    """A soft hyphen (also as ``&shy;``), a zero-width space, a word joiner or a stray BOM
    inside a word shows nothing, but Elasticsearch keeps it in the token: "Lav\\u00adrov"
    was never found by a search for Lavrov, and the content hash changed with them."""
    clean = ["Sergey Lavrov held talks with his colleagues today and agreed on many things.",
             "Мы провели переговоры с партнёрами и договорились о многом, что важно для нас."]
    dirty = ["Sergey Lav\u00adrov held talks with his col&shy;leagues today\u200b and agreed on many things.",
             "Мы провели пере\u00adговоры с партнёрами\u2060 и договорились о мно\ufeffгом, что важно для нас."]
    title = "Foreign Minister Sergey Lavrov’s remarks, Moscow, March 14, 2024"
    if shape == "html":
        got = _extract(current(body=dirty, title=title.replace("Lavrov", "Lav&shy;rov")))
        want = _extract(current(body=clean, title=title))
    else:
        dump = "14 March 202413:20\n\n{}\n\n{}\n\n{}\n"
        got = _extract(dump.format(title.replace("Lavrov", "Lav\u00adrov"), *dirty).replace("&shy;", "\u00ad").encode())
        want = _extract(dump.format(title, *clean).encode())
    assert not any(ch in got.body + got.title for ch in INVISIBLE)
    assert (got.body, got.title, got.content_hash) == (want.body, want.title, want.content_hash)


@pytest.mark.parametrize("printed", ["№ 1225-18-06-2021", "№1225-18-06-2021", "No. 1225-18-06-2021"])
def test_a_document_number_with_its_number_sign_is_the_number_in_a_dump(printed):
    """The old portal prints "№ 2393-18-11-2019"; a scraper's dump of such a page kept the
    line, and it was the first paragraph of the speech."""
    dump = (f"1 December 202019:32\n\nForeign Minister Sergey Lavrov’s remarks, Moscow, December 1, 2020\n\n"
            f"{printed}\n\nWe held talks today and we agreed on many things of importance to both of us.\n")
    record = _extract(dump.encode())
    assert record.doc_number == "1225-18-06-2021"
    assert record.body == "We held talks today and we agreed on many things of importance to both of us."


@pytest.mark.parametrize("url, lang, body, expected", [
    # ?lang=ru answered in English in a page saying lang="en": English, the /en/ document
    ("https://mid.ru/en/foreign_policy/news/1785001/?lang=ru", "en", EN, "en"),
    # ?lang=en in a page whose template says pt, English text: English (a81373c's case)
    ("https://mid.ru/pt/foreign_policy/news/1785001/?lang=en", "pt", EN, "en"),
    # ?lang=ru answered in Russian in a template saying lang="en": Russian
    ("https://mid.ru/en/foreign_policy/news/1785001/?lang=ru", "en", RU, "ru"),
    # the two agree: no reading of the text needed
    ("https://mid.ru/en/foreign_policy/news/1785001/?lang=en", "en", EN, "en"),
])
def test_when_the_asked_and_the_page_language_disagree_the_text_decides(url, lang, body, expected):
    """Issue 22 item 5: /en/.../1785001/?lang=ru answered with English text (<html lang="en">)
    became a second document, language ru with an English body."""
    from pipeline.model.ids import document_id
    from pipeline.ingest import with_provenance

    record = with_provenance(extract_record(Page(source=url, url=url, content=current(body=body, lang=lang)),
                                            PROFILE), Page(source=url, url=url, content=b""), PROFILE)
    assert record.language == expected
    if expected == "en":
        plain = "https://mid.ru/en/foreign_policy/news/1785001/"
        same = with_provenance(extract_record(Page(source=plain, url=plain, content=current(body=body)), PROFILE),
                               Page(source=plain, url=plain, content=b""), PROFILE)
        assert document_id(record) == document_id(same)


def test_a_dump_that_names_its_section_gets_the_kind_that_section_publishes():
    """Issue 24 item 15: the demo's `stats` showed `(none)` for every kind of the sample, though
    one dump opens with its section line (`Ministers’ speeches`, a printed title of the profile's
    minister_speeches, kind speech). A dump naming no section has no kind to say."""
    from pipeline.sources.dumps import iter_dump_folder
    from tests.conftest import SAMPLE_DUMPS

    profile = get_profile()
    records = {p.source.rsplit("/", 1)[-1][:3]: extract_record(p, profile) for p in iter_dump_folder(SAMPLE_DUMPS)}
    assert (records["000"].section, records["000"].kind) == ("Ministers’ speeches", "speech")
    assert records["000"].url is None
    assert all((r.section, r.kind) == (None, None) for name, r in records.items() if name != "000")
    page = Page(source="x.txt", content="Deputy Ministers’ speeches\n\n1 December 2020 19:32\n\nA title, Moscow, "
                                        "December 1, 2020\n\nSergey Lavrov: We spoke at length today.\n".encode())
    assert extract_record(page, profile).kind == "speech"


def _no_breadcrumb(body: list[str] = EN) -> bytes:
    """A current-template article that prints no section line (no breadcrumb)."""
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>
<header class="header">{SWITCHER}</header>
<div class="page-body"><h1 class="photo-content__title">{TITLE}</h1>
<div class="text article-content">{''.join(f'<p>{p}</p>' for p in body)}</div></div>
<footer class="footer">{SWITCHER}</footer></body></html>""".encode()


@pytest.mark.parametrize("url, section, kind", [
    # under a profile section's article pattern: that section, and the kind it publishes
    ("https://mid.ru/en/press_service/minister_speeches/1785001/", "minister_speeches", "speech"),
    ("https://mid.ru/en/press_service/spokesman/briefings/1785002/", "briefings", "briefing"),
    ("https://archive.mid.ru/en/press_service/minister_speeches/-/asset_publisher/7OvQR5KJWVmR/content/id/4001",
     "archive_minister_speeches", "speech"),
    # under no section's pattern: nothing to say
    ("https://mid.ru/en/about/1785003/", None, None),
])
def test_a_page_printing_no_section_takes_the_section_of_its_url(url, section, kind):
    """A replayed or crawled page under a section's URL pattern but printing no section line got
    the section's kind and no section: `stats --by section` counted it as unknown."""
    record = extract_record(Page(source=url, url=url, content=_no_breadcrumb()), PROFILE)
    assert (record.section, record.kind) == (section, kind)


def test_a_printed_section_wins_over_the_urls():
    """The page's own section line stays what it printed; the URL only fills a missing one."""
    url = "https://mid.ru/en/press_service/minister_speeches/1785001/"
    record = extract_record(Page(source=url, url=url, content=current()), PROFILE)
    assert (record.section, record.kind) == ("Ministers’ speeches", "speech")
