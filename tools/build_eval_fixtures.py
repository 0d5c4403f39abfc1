"""Builds the HTML evaluation pages and their expected fields (run by hand, output committed).

    .venv/bin/python tools/build_eval_fixtures.py

Each case is a page in one of the two site layouts (see docs/evidence/site-notes.md and
the replica in mfa_replica/server.py, which serves the same markup), in English or
Russian. The speech paragraphs and the boilerplate are written once here, so the HTML and
the expected file cannot disagree; the boilerplate is placed where a naive scraper would pick
it up (inside the text container on the "leaky" pages).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "pipeline" / "data" / "eval"  # what it writes, shipped with the package
EVAL = HERE

EN_SPEECH = [
    "Colleagues,",
    "Good afternoon. We have just concluded talks with our Armenian colleagues and I would like to share the main results.",
    "We agreed to continue the work of the 5 + 2 format and to support the mediators in their efforts.",
    "The action plan for 2021-2025 was approved. It covers trade, transport and humanitarian ties.",
    "Yesterday I looked through the photo album of our first joint mission in 1992. Much has changed since then, but our friendship has not.",
    "Our embassy at 2 Pushkin Street will open its consular section on Saturdays for the holiday season.",
    "Question: What do you expect from the next round of consultations?",
    "Sergey Lavrov: We expect concrete results.",
    "The draft is ready and the experts will meet next week.",
    "Question (retranslated from English): Will the sanctions be discussed?",
    "Sergey Lavrov (speaking after Ararat Mirzoyan): They will, as always.",
    "Thank you.",
]
EN_TURNS = [["Sergey Lavrov", "statement", 6], ["Question", "question", 1], ["Sergey Lavrov", "answer", 2],
            ["Question", "question", 1], ["Sergey Lavrov", "answer", 2]]

RU_SPEECH = [
    "Коллеги,",
    "Добрый день! Мы провели насыщенные переговоры и обсудили весь комплекс двусторонних отношений.",
    "Договорились продолжить работу в формате «5 + 2» и поддержать усилия посредников.",
    "Утверждена программа согласованных действий на 2021-2025 годы.",
    "Вчера я просматривал фотоальбом нашей первой совместной миссии. С тех пор многое изменилось, но не наша дружба.",
    "Посольство России по адресу ул. Пушкина, д. 2 будет работать и по субботам.",
    "Вопрос: Чего Вы ожидаете от следующего раунда консультаций?",
    "С.В.Лавров: Ожидаем конкретных результатов.",
    "Проект документа готов, эксперты встретятся на следующей неделе.",
    "Вопрос (перевод с английского): Будут ли обсуждаться санкции?",
    "С.В.Лавров: Будут, как всегда.",
    "Спасибо.",
]
RU_TURNS = [["С.В.Лавров", "statement", 6], ["Вопрос", "question", 1], ["С.В.Лавров", "answer", 2],
            ["Вопрос", "question", 1], ["С.В.Лавров", "answer", 2]]

EN_ALBUM = ["Additional materials", "Photos", "Photo album", "1 of 1 photos in album", "Advanced settings"]
RU_ALBUM = ["Дополнительные материалы", "Фото", "Фотоальбом", "1 из 1 фотографий в альбоме",
            "Некорректно указаны даты", "Дополнительные инструменты поиска"]
FR_EMBASSY = ["Ambassades et consulats russes à l'étranger", "France", "Ambassade de Russie à Paris", "Adresse :",
              "40-50, Boulevard Lannes, 75116 Paris", "Téléphone :", "+33 1 45-04-05-50", "Fax",
              "+33 1 45-04-17-65", "E-mail", "ambrusfrance@mid.ru", "Web", "https://france.mid.ru/ru/",
              "Twitter", "Facebook", "Telegram", "Reportage photos", "• France", "• France"]
EN_EMBASSY = ["Armenia", "Embassy of the Russian Federation in the Republic of Armenia", "Address:",
              "13a Grigor Lusavorich Street, Yerevan, 0015", "Phone:", "+374 10 56-74-27", "Fax",
              "+374 10 56-71-97", "E-mail", "rusembassy@mail.ru", "Web", "https://armenia.mid.ru"]
RU_EMBASSY = ["Посольства и консульства России за рубежом", "Армения", "Посольство России в Армении", "Адрес:",
              "0015, г. Ереван, ул. Григора Лусаворича, 13а", "Телефон:", "+374 10 56-74-27", "Факс",
              "+374 10 56-71-97", "E-mail", "rusembassy@mail.ru", "Фоторепортажи", "• Армения", "• Армения"]


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def paras(lines: list[str], cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return "\n".join(f"<p{attr}>{esc(line)}</p>" for line in lines)


def current(*, lang, title, date, time, doc, section, langs, body_html, after_html="", charset="utf-8"):
    number = f'<p class="article-line__note article-line__note_small">{esc(doc)}</p>' if doc else ""
    # The article's own versions; the site-wide switcher in the header lists every site language.
    versions = "".join(f"<li>{code}<sup>1</sup></li>" for code in langs)
    site_switcher = "".join(f'<li><a hreflang="{c}" href="/{c}/">{c.upper()}</a></li>' for c in ("ru", "en", "de", "fr", "es"))
    date_html = (f'<span class="article-line__date">{esc(date)}</span>' if date else "")
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="{charset}"><title>{esc(title)}</title>
<script>window.dataLayer = [];</script></head>
<body>
<header class="header"><ul class="lang-switcher">{site_switcher}</ul>
<nav class="menu"><a href="/{lang}/">{esc(section)}</a><a href="/{lang}/foreign_policy/news/">News</a></nav>
<form class="search-form"><input name="q"><a href="#">Advanced settings</a></form></header>
<div class="page-body">
<div class="breadcrumbs"><a href="/{lang}/">Main</a><a href="/{lang}/press_service/minister_speeches/">{esc(section)}</a></div>
<div class="article-line">{date_html}<span class="article-line__time">{time}</span></div>
<h1 class="photo-content__title">{esc(title)}</h1>
<ul class="article-langs">{versions}</ul>
{number}
<div class="text article-content">
{body_html}
</div>
{after_html}
</div>
<footer class="footer">© Ministry of Foreign Affairs of the Russian Federation</footer>
</body></html>
"""


def archive(*, lang, title, stamp, doc, body_html, charset, after_html=""):
    number = f'<div class="doc-number">{esc(doc)}</div>' if doc else ""
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{esc(title)} - Министерство иностранных дел Российской Федерации</title></head>
<body class="portal">
<div id="wrapper"><div class="portlet-boundary portlet-boundary_101_" id="p_p_id_101_INSTANCE_cKNonkJE02Bw_">
<div class="portlet-body"><div class="asset-full-content">
<div class="news_date">{stamp}</div>
<h2 class="asset-title">{esc(title)}</h2>
{number}
<div class="text article-content">
{body_html}
</div>
{after_html}
</div></div></div>
<div class="portlet-boundary"><ul class="links"><li>Посольства и консульства</li></ul></div>
</div></body></html>
"""


def album_div(lines: list[str]) -> str:
    return f'<div class="photo-album"><h3>{esc(lines[0])}</h3>{paras(lines[1:])}</div>'


EN_TITLE = "Foreign Minister Sergey Lavrov’s statement and answers to media questions following talks with Foreign Minister of Armenia Ararat Mirzoyan, Moscow, June 9, 2022"
RU_TITLE = "Выступление и ответы на вопросы СМИ Министра иностранных дел России С.В.Лаврова в ходе совместной пресс-конференции с Министром иностранных дел Армении А.С.Мирзояном, Москва, 9 июня 2022 года"

CASES = {
    # Current layout, English: boilerplate around the container only (the easy case).
    "current_en": dict(
        html=current(lang="en", title=EN_TITLE, date="9 June 2022", time="14:05", doc="1180-09-06-2022",
                     section="Ministers’ speeches", langs=["en-GB", "ru-RU", "fr-FR"], body_html=paras(EN_SPEECH),
                     after_html=album_div(EN_ALBUM[:4])),
        url="https://mid.ru/en/press_service/minister_speeches/1817060/", encoding="utf-8",
        expected=dict(title=EN_TITLE, published_at="2022-06-09T14:05:00+03:00", location="Moscow", language="en",
                      languages=["en", "ru", "fr"], doc_number="1180-09-06-2022", section="Ministers’ speeches",
                      paragraphs=EN_SPEECH, boilerplate=EN_ALBUM, turns=EN_TURNS, speakers=["Sergey Lavrov"])),
    # Current layout, English: photo album, search form and an embassy listing leaked INTO the
    # container as plain paragraphs; the page shows only a time, the date is in the title.
    "current_en_leaky": dict(
        html=current(lang="en", title=EN_TITLE, date=None, time="23:28", doc=None, section="Ministers’ speeches",
                     langs=["en-GB", "ru-RU"],
                     body_html="<p>23:28</p>\n" + paras(EN_SPEECH) + "\n" + paras(EN_ALBUM) + "\n"
                     + "<div>" + "<br>".join(esc(x) for x in EN_EMBASSY) + "</div>\n" + paras(FR_EMBASSY)),
        url=None, encoding="utf-8",
        expected=dict(title=EN_TITLE, published_at="2022-06-09T23:28:00+03:00", location="Moscow", language="en",
                      languages=["en", "ru"], doc_number=None, section="Ministers’ speeches",
                      paragraphs=EN_SPEECH, boilerplate=EN_ALBUM + EN_EMBASSY + FR_EMBASSY + ["23:28"],
                      turns=EN_TURNS, speakers=["Sergey Lavrov"])),
    # Current layout, Russian: album block with its class inside the container, a Russian
    # embassy listing leaked as plain paragraphs at the end.
    "current_ru_leaky": dict(
        html=current(lang="ru", title=RU_TITLE, date="9 июня 2022 года", time="14:05", doc="1181-09-06-2022",
                     section="Выступления Министра", langs=["ru-RU", "en-GB"],
                     body_html=paras(RU_SPEECH) + "\n" + album_div(RU_ALBUM[:4]) + "\n" + paras(RU_ALBUM[4:])
                     + "\n" + paras(RU_EMBASSY)),
        url="https://mid.ru/ru/press_service/minister_speeches/1817061/", encoding="utf-8",
        expected=dict(title=RU_TITLE, published_at="2022-06-09T14:05:00+03:00", location="Москва", language="ru",
                      languages=["ru", "en"], doc_number="1181-09-06-2022", section="Выступления Министра",
                      paragraphs=RU_SPEECH, boilerplate=RU_ALBUM + RU_EMBASSY, turns=RU_TURNS,
                      speakers=["С.В.Лавров"])),
    # Old portal, English, UTF-8.
    "archive_en": dict(
        html=archive(lang="en", title=EN_TITLE.replace("June 9, 2022", "November 18, 2019"), stamp="18.11.2019 19:46",
                     doc="2393-18-11-2019", charset="utf-8", body_html=paras(EN_SPEECH) + "\n" + paras(EN_ALBUM[:4])),
        url="https://archive.mid.ru/en/foreign_policy/news/-/asset_publisher/cKNonkJE02Bw/content/id/3905021",
        encoding="utf-8",
        expected=dict(title=EN_TITLE.replace("June 9, 2022", "November 18, 2019"),
                      published_at="2019-11-18T19:46:00+03:00", location="Moscow", language="en", languages=[],
                      doc_number="2393-18-11-2019", section=None, paragraphs=EN_SPEECH, boilerplate=EN_ALBUM[:4],
                      turns=EN_TURNS, speakers=["Sergey Lavrov"])),
    # Old portal, Russian, windows-1251 declared in <meta http-equiv>; the embassy listing and
    # the album inside the container.
    "archive_ru_cp1251": dict(
        html=archive(lang="ru", title=RU_TITLE.replace("9 июня 2022 года", "18 ноября 2019 года"),
                     stamp="18 ноября 2019 года, 19:46", doc=None, charset="windows-1251",
                     body_html=paras(RU_SPEECH) + "\n" + paras(RU_ALBUM) + "\n" + paras(RU_EMBASSY)),
        url=None, encoding="cp1251",
        expected=dict(title=RU_TITLE.replace("9 июня 2022 года", "18 ноября 2019 года"),
                      published_at="2019-11-18T19:46:00+03:00", location="Москва", language="ru", languages=[],
                      doc_number=None, section=None, paragraphs=RU_SPEECH, boilerplate=RU_ALBUM + RU_EMBASSY,
                      turns=RU_TURNS, speakers=["С.В.Лавров"])),
    # Old portal, Russian, windows-1251 with no declaration at all: the encoding is guessed.
    "archive_ru_undeclared": dict(
        html=archive(lang="ru", title=RU_TITLE.replace("9 июня 2022 года", "18 ноября 2019 года"),
                     stamp="18.11.2019 19:46", doc=None, charset="",
                     body_html=paras(RU_SPEECH)).replace('<meta http-equiv="Content-Type" content="text/html; charset=">\n', ""),
        url=None, encoding="cp1251",
        expected=dict(title=RU_TITLE.replace("9 июня 2022 года", "18 ноября 2019 года"),
                      published_at="2019-11-18T19:46:00+03:00", location="Москва", language="ru", languages=[],
                      doc_number=None, section=None, paragraphs=RU_SPEECH, boilerplate=[],
                      turns=RU_TURNS, speakers=["С.В.Лавров"])),
    # A layout the profile does not know: the generic fallback must still find the speech.
    "unknown_layout_en": dict(
        html=f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(EN_TITLE)} | MFA</title>
<meta property="article:published_time" content="2022-06-09T14:05:00+03:00"></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/about">About</a></nav>
<main><article><h1>{esc(EN_TITLE)}</h1><time datetime="2022-06-09T14:05:00+03:00">9 June 2022, 14:05</time>
{paras(EN_SPEECH)}
</article></main>
<aside><h3>Related</h3><ul><li><a href="/a">Another statement</a></li><li><a href="/b">A briefing</a></li></ul></aside>
<footer>© 2022</footer></body></html>
""",
        url=None, encoding="utf-8",
        expected=dict(title=EN_TITLE, published_at="2022-06-09T14:05:00+03:00", location="Moscow", language="en",
                      languages=[], doc_number=None, section=None, paragraphs=EN_SPEECH, boilerplate=[],
                      turns=EN_TURNS, speakers=["Sergey Lavrov"])),
}


def main() -> None:
    for name, case in CASES.items():
        page = HERE / f"{name}.html"
        page.write_bytes(case["html"].encode(case["encoding"]))
        expected = {"input": str(page.relative_to(HERE.parent)), "url": case["url"], **case["expected"],
                    "questions": sum(1 for t in case["expected"]["turns"] if t[1] == "question")}
        (EVAL / f"{name}.expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n",
                                                    encoding="utf-8")
        print(page.name)


if __name__ == "__main__":
    main()
