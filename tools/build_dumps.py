"""Builds the labelled cases of dumps as other scrapers save them (run by hand, output
committed; issue 23, item 3).

    .venv/bin/python tools/build_dumps.py

Every text below is written here by hand, in the shapes public scrapers of Wayback
captures of mid.ru save: the page's ``<p>`` texts only (the current site's document
number ``867-05-05-2023`` is a ``<p>`` too, the old portal's ``№ 2393-18-11-2019`` line
sits above the text), with no date line and no title line; or the page's ``<title>``
as the first line, the site's name still at its end. The trailing album caption and
copyright line are the page's, as such scrapers keep them. Each case is a ``dump_*.txt``
(two are the ``<p>`` elements saved as an HTML fragment, ``dump_*_phtml.html``) and its
``dump_*.expected.json`` (the evaluation reads them with the other unseen cases).
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "pipeline" / "data" / "unseen"  # what it writes, shipped with the package
CASES: dict[str, tuple[str, dict]] = {}

RU_TAIL = ["1 из 1 фотографий в альбоме", "© 2023 Министерство иностранных дел Российской Федерации"]
EN_TAIL = ["1 of 1 photos in album", "© 2023 Ministry of Foreign Affairs of the Russian Federation"]


def add(name: str, *, head: list[str], paragraphs: list[str], tail: list[str], blank: bool = True,
        title: str | None, published_at: str, location: str | None, language: str, doc_number: str | None,
        questions: int, html: bool = False) -> None:
    """One dump: its head lines, the speech paragraphs, the trailing page lines; ``blank``:
    paragraphs separated by a blank line (False: one ``<p>`` per line, nothing between);
    ``html``: saved as the ``<p>`` elements themselves, a speaker's label in ``<strong>``."""
    sep = "\n\n" if blank else "\n"
    text = sep.join([*head, *paragraphs, *tail]) + "\n"
    if html:
        text = "".join(f"<p>{_labelled(escape(line))}</p>\n" for line in [*head, *paragraphs, *tail])
    expected = {"input": f"unseen/{name}.{'html' if html else 'txt'}", "url": None, "title": title, "published_at": published_at,
                "location": location, "language": language, "languages": [], "doc_number": doc_number,
                "section": None, "paragraphs": paragraphs, "boilerplate": tail, "questions": questions,
                "translation_note": None}
    CASES[name] = (text, expected)


def _labelled(line: str) -> str:
    label, colon, rest = line.partition(": ")
    return f"<strong>{label}:</strong> {rest}" if colon and len(label) < 40 else line


# --- the current site: <p> texts only (document number first), no title, no date line ----------

RU_SPEECH = [
    "Добрый день!",
    "Мы провели обстоятельные переговоры с Министром иностранных дел Республики Индии С.Джайшанкаром.",
    "Обсудили весь спектр двусторонних отношений, прежде всего торгово-экономическое сотрудничество, "
    "энергетику и расчёты в национальных валютах.",
    "Договорились продолжать тесную координацию в ШОС, БРИКС и «Группе двадцати», где Индия в этом году "
    "председательствует.",
    "Подробно говорили о ситуации в Афганистане и вокруг него.",
    "Благодарю за внимание.",
]
add("dump_ru_cur_speech_nohead", head=["867-05-05-2023"], paragraphs=RU_SPEECH, tail=RU_TAIL, title=None,
    published_at="2023-05-05T00:00:00+03:00", location=None, language="ru", doc_number="867-05-05-2023",
    questions=0)

RU_INTERVIEW = [
    "Вопрос: Сергей Викторович, насколько реально сегодня возобновление диалога по стратегической стабильности?",
    "С.В.Лавров: Мы никогда не отказывались от такого диалога, но он возможен только на равноправной основе.",
    "Американские коллеги пока предпочитают говорить с позиции силы, и это не работает.",
    "Вопрос: А как Вы оцениваете перспективы урегулирования на Ближнем Востоке?",
    "С.В.Лавров: Без создания палестинского государства устойчивого мира в регионе не будет.",
    "Мы продолжаем работать со всеми сторонами, в том числе в формате «ближневосточного квартета».",
]
add("dump_ru_cur_interview_nohead", head=["1021-27-05-2023"], paragraphs=RU_INTERVIEW, tail=RU_TAIL, title=None,
    published_at="2023-05-27T00:00:00+03:00", location=None, language="ru", doc_number="1021-27-05-2023",
    questions=2)

EN_INTERVIEW = [
    "Question: Mr Minister, the Black Sea initiative expires next month. Will Russia extend it?",
    "Sergey Lavrov: The part of the package that concerns Russian exports has not been implemented.",
    "We have been patient for almost a year, but our patience is not unlimited.",
    "Question: Is a meeting with your American counterpart on the cards?",
    "Sergey Lavrov: We have not received any requests, and we do not run after anyone.",
]
add("dump_en_cur_interview_nohead", head=["1345-19-06-2023"], paragraphs=EN_INTERVIEW, tail=EN_TAIL, title=None,
    published_at="2023-06-19T00:00:00+03:00", location=None, language="en", doc_number="1345-19-06-2023",
    questions=2)

EN_PTEXTS = [
    "Good afternoon,",
    "I would like to thank our Brazilian friends for their hospitality and for the excellent organisation of the talks.",
    "We have reaffirmed our mutual commitment to a comprehensive strategic partnership.",
    "Our trade grew by almost a third last year, and we agreed to use national currencies more widely.",
    "We also compared notes on reforming the UN Security Council and on the work of the G20.",
    "Thank you.",
]
add("dump_en_cur_ptexts", head=["795-17-04-2023"], paragraphs=EN_PTEXTS, tail=EN_TAIL, blank=False, title=None,
    published_at="2023-04-17T00:00:00+03:00", location=None, language="en", doc_number="795-17-04-2023",
    questions=0)

RU_PTEXTS = [
    "Уважаемые коллеги,",
    "Рад приветствовать участников конференции, которая стала важной площадкой для откровенного обмена мнениями.",
    "Сегодня мир переживает период глубоких перемен, формируется многополярная система международных отношений.",
    "Россия открыта для сотрудничества со всеми, кто готов работать честно и на основе взаимного уважения.",
    "Желаю вам плодотворной работы.",
]
add("dump_ru_cur_ptexts", head=["2093-14-10-2023"], paragraphs=RU_PTEXTS, tail=RU_TAIL, blank=False, title=None,
    published_at="2023-10-14T00:00:00+03:00", location=None, language="ru", doc_number="2093-14-10-2023",
    questions=0)

# --- the current site: the page's <title> first, the site's name at its end --------------------

RU_TITLE = "Выступление Министра иностранных дел России С.В.Лаврова на пресс-конференции по итогам переговоров " \
           "с Министром иностранных дел Индии С.Джайшанкаром, Москва, 5 мая 2023 года"
add("dump_ru_cur_titleline", head=[RU_TITLE + " - Министерство иностранных дел Российской Федерации",
                                   "867-05-05-2023"],
    paragraphs=RU_SPEECH, tail=RU_TAIL, title=RU_TITLE, published_at="2023-05-05T00:00:00+03:00",
    location="Москва", language="ru", doc_number="867-05-05-2023", questions=0)

EN_TITLE = "Foreign Minister Sergey Lavrov’s interview with RIA Novosti, Moscow, June 19, 2023"
add("dump_en_cur_titleline", head=[EN_TITLE + " - Ministry of Foreign Affairs of the Russian Federation",
                                   "1345-19-06-2023"],
    paragraphs=EN_INTERVIEW, tail=EN_TAIL, title=EN_TITLE, published_at="2023-06-19T00:00:00+03:00",
    location="Moscow", language="en", doc_number="1345-19-06-2023", questions=2)

# --- the old portal: the number line with its sign, or the <title> with the site's name ---------

EN_ARC = [
    "Ladies and gentlemen,",
    "Our talks with Foreign Minister of Finland Timo Soini took place in a friendly and business-like atmosphere.",
    "We discussed cross-border cooperation, navigation in the Baltic Sea and the situation in the Arctic.",
    "Question: Did you discuss the activity of NATO near the Finnish border?",
    "Sergey Lavrov: We did. Finland is a sovereign state and makes its own decisions.",
    "We respect its policy of military non-alignment, which is an important factor of stability in Northern Europe.",
]
add("dump_en_arc_nohead", head=["№ 1263-29-06-2017"], paragraphs=EN_ARC, tail=["1 of 4 photos in album"],
    title=None, published_at="2017-06-29T00:00:00+03:00", location=None, language="en",
    doc_number="1263-29-06-2017", questions=1)

RU_ARC_TITLE = "Интервью Министра иностранных дел России С.В.Лаврова газете «Коммерсантъ», Москва, 18 ноября 2019 года"
RU_ARC = [
    "Вопрос: Сергей Викторович, в последние месяцы наметилось оживление контактов с Японией. С чем это связано?",
    "С.В.Лавров: Мы последовательно выполняем договорённости, достигнутые президентом России и премьер-министром Японии.",
    "Совместная хозяйственная деятельность на островах – это не уступка, а способ создать атмосферу доверия.",
    "Вопрос: Когда может быть подписан мирный договор?",
    "С.В.Лавров: Сроков мы не устанавливаем, искусственные сроки в таких делах вредны.",
]
add("dump_ru_arc_titleline", head=[RU_ARC_TITLE + " | МИД России", "№ 2393-18-11-2019"], paragraphs=RU_ARC,
    tail=["1 из 3 фотографий в альбоме"], title=RU_ARC_TITLE, published_at="2019-11-18T00:00:00+03:00",
    location="Москва", language="ru", doc_number="2393-18-11-2019", questions=2)

EN_ARC_TITLE = "Foreign Minister Sergey Lavrov’s remarks and answers to media questions at a joint news " \
               "conference with Foreign Minister of Finland Timo Soini, Savonlinna, June 29, 2017"
add("dump_en_arc_titleline", head=[EN_ARC_TITLE + " - The Ministry of Foreign Affairs of the Russian Federation"],
    paragraphs=EN_ARC, tail=["1 of 4 photos in album"], blank=False, title=EN_ARC_TITLE,
    published_at="2017-06-29T00:00:00+03:00", location="Savonlinna", language="en", doc_number=None, questions=1)

RU_ARC_SPEECH = [
    "Уважаемые дамы и господа,",
    "Благодарю организаторов за приглашение выступить на этом представительном форуме.",
    "Нынешний год отмечен серьёзными испытаниями для всей системы международной безопасности.",
    "Мы убеждены, что ответы на общие вызовы можно найти только сообща, опираясь на Устав ООН.",
    "Спасибо.",
]
add("dump_ru_arc_nohead", head=["№ 512-16-03-2018"], paragraphs=RU_ARC_SPEECH, tail=["1 из 2 фотографий в альбоме"],
    blank=False, title=None, published_at="2018-03-16T00:00:00+03:00", location=None, language="ru",
    doc_number="512-16-03-2018", questions=0)


# --- the same scrapers saving the <p> elements themselves, as an HTML fragment ------------------

add("dump_en_cur_phtml", head=["1345-19-06-2023"], paragraphs=EN_INTERVIEW, tail=EN_TAIL, title=None,
    published_at="2023-06-19T00:00:00+03:00", location=None, language="en", doc_number="1345-19-06-2023",
    questions=2, html=True)
add("dump_ru_cur_phtml", head=["867-05-05-2023"], paragraphs=RU_SPEECH, tail=RU_TAIL, title=None,
    published_at="2023-05-05T00:00:00+03:00", location=None, language="ru", doc_number="867-05-05-2023",
    questions=0, html=True)


def main() -> None:
    for name, (text, expected) in CASES.items():
        (HERE / expected["input"].removeprefix("unseen/")).write_text(text, encoding="utf-8")
        (HERE / f"{name}.expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n",
                                                    encoding="utf-8")
    print(f"{len(CASES)} cases")


if __name__ == "__main__":
    main()
