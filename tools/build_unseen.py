"""Builds the "unseen" labelled cases (run by hand, output committed; issue 11, item 4).

    .venv/bin/python tools/build_unseen.py

Every speech text, boilerplate block and page below is written here by hand; none is
taken from config/site.yaml, so these cases can fail the extractor: boilerplate in
wordings and template languages the profile does not list (German, Spanish, new English,
Russian and French wordings, an embassy listing with other labels), leaked into the text
container before, between and after the speech; the old portal's Word-converted markup
(``p.dxl-par > span.dxl-run``); briefings with a table of contents and "back to contents"
links; interviews; statements without questions; plain-text dumps in a naive scraper's
shape; the five seed dumps with their trailing block replaced by an unseen one; lists the
speech announces ("... these areas:") and questions whose label names who asks.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "pipeline" / "data" / "unseen"  # what it writes, shipped with the package
SEEDS = HERE.parent / "seeds"

# --- speech ------------------------------------------------------------------------

EN_INTERVIEW = dict(
    title="Foreign Minister Sergey Lavrov’s interview with the newspaper Kommersant, Moscow, February 3, 2023",
    lang="en", place="Moscow", day="2023-02-03", section="Interviews",
    paragraphs=[
        "Question: Mr Lavrov, how do you assess the state of relations with your European partners today?",
        "Sergey Lavrov: They are at their lowest point in decades, and it was not our choice.",
        "We have always said that we are open to dialogue based on equality and mutual respect.",
        "Question: Photos of the destroyed bridge were shown around the world. What is your view?",
        "Sergey Lavrov: Web publications spread these pictures before any investigation had even started.",
        "E-mail leaks, photographs, videos – all this is used to shape opinion in advance.",
        "Question: Will there be new talks?",
        "Sergey Lavrov: Yes.",
        "Thank you.",
    ],
    turns=[["Question", "question", 1], ["Sergey Lavrov", "answer", 2], ["Question", "question", 1],
           ["Sergey Lavrov", "answer", 2], ["Question", "question", 1], ["Sergey Lavrov", "answer", 2]],
)
EN_STATEMENT = dict(
    title="Statement by Foreign Minister Sergey Lavrov at the ceremony for the Day of Remembrance, Moscow, June 22, 2022",
    lang="en", place="Moscow", day="2022-06-22", section="Statements and comments",
    paragraphs=[
        "Colleagues,",
        "Friends,",
        "Today we remember those who gave their lives in the Great Patriotic War.",
        "1941-1945",
        "These years will stay in the memory of our people forever, as will the courage of those who fought.",
        "Additional materials, including the letters of soldiers, have been handed over to the museum today.",
        "«Мы помним», – these words are written on the memorial that we are opening today.",
        "Thank you.",
    ],
    turns=[["Sergey Lavrov", "statement", 8]],
)
RU_INTERVIEW = dict(
    title="Интервью Министра иностранных дел России С.В.Лаврова газете «Известия», Москва, 3 февраля 2023 года",
    lang="ru", place="Москва", day="2023-02-03", section="Интервью",
    paragraphs=[
        "Вопрос: Сергей Викторович, как Вы оцениваете нынешнее состояние отношений с европейскими партнёрами?",
        "С.В.Лавров: Они находятся в самой низкой точке за десятилетия, и это был не наш выбор.",
        "Мы всегда говорили, что открыты к диалогу на основе равноправия и взаимного уважения.",
        "Вопрос: Фото разрушенного моста облетели весь мир. Как Вы это прокомментируете?",
        "С.В.Лавров: Эти снимки распространили ещё до начала какого-либо расследования.",
        "Коллеги,",
        "Спасибо.",
    ],
    turns=[["Вопрос", "question", 1], ["С.В.Лавров", "answer", 2], ["Вопрос", "question", 1],
           ["С.В.Лавров", "answer", 3]],
)
EN_PRESS = dict(
    title="Foreign Minister Sergey Lavrov’s remarks at a joint news conference, Minsk, October 12, 2023",
    lang="en", place="Minsk", day="2023-10-12", section="Ministers’ speeches",
    paragraphs=[
        "We have agreed on a plan of consultations for the next two years, covering these areas:",
        "strategic stability and arms control",
        "the fight against international terrorism",
        "international information security",
        "migration",
        "The plan will be signed by the deputy ministers before the end of the year.",
        "Question from Reuters: Will the plan be published in full?",
        "Sergey Lavrov: Its main provisions will be made public, as always.",
        "Question from the floor:",
        "Is there any progress on the date of the next summit?",
        "Sergey Lavrov: Not yet.",
    ],
    turns=[["Sergey Lavrov", "statement", 6], ["Question from Reuters", "question", 1], ["Sergey Lavrov", "answer", 1],
           ["Question from the floor", "question", 1], ["Sergey Lavrov", "answer", 1]],
)
RU_PRESS = dict(
    title="Выступление Министра иностранных дел России С.В.Лаврова на совместной пресс-конференции, Минск, "
          "12 октября 2023 года",
    lang="ru", place="Минск", day="2023-10-12", section="Выступления Министра",
    paragraphs=[
        "Мы согласовали план консультаций на ближайшие два года по следующим направлениям:",
        "стратегическая стабильность и контроль над вооружениями",
        "борьба с международным терроризмом",
        "международная информационная безопасность",
        "The plan was also handed over to our partners in English, as agreed in advance.",
        "Вопрос агентства «Рейтер»: Будет ли план опубликован полностью?",
        "С.В.Лавров: Основные положения будут преданы гласности, как всегда.",
    ],
    turns=[["С.В.Лавров", "statement", 5], ["Вопрос агентства «Рейтер»", "question", 1], ["С.В.Лавров", "answer", 1]],
)
EN_BRIEFING = dict(
    title="Briefing by Foreign Ministry Spokeswoman Maria Zakharova, Moscow, March 15, 2023",
    lang="en", place="Moscow", day="2023-03-15", section="Briefings",
    contents=("Table of contents", "Back to contents"),
    topics=[
        ("Sergey Lavrov’s upcoming talks with the Chinese delegation",
         ["On March 20, Foreign Minister Sergey Lavrov will hold talks with a delegation from China.",
          "The ministers will discuss the situation in the region and the preparations for the summit."]),
        ("The anniversary of the reunification of Crimea with Russia",
         ["On March 18, we will celebrate the anniversary of the reunification of Crimea with Russia.",
          "Events will be held in many cities, and our embassies abroad will take part in them."]),
    ],
    questions=[
        ("Question: Will the ministers sign any documents during these talks next week?",
         ["Maria Zakharova: We will inform you in due time, as always."]),
    ],
)
RU_BRIEFING = dict(
    title="Брифинг официального представителя МИД России М.В.Захаровой, Москва, 15 марта 2023 года",
    lang="ru", place="Москва", day="2023-03-15", section="Брифинги",
    contents=("Содержание", "Назад к оглавлению"),
    topics=[
        ("О предстоящих переговорах С.В.Лаврова с китайской делегацией",
         ["20 марта Министр иностранных дел России С.В.Лавров проведёт переговоры с делегацией Китая.",
          "Министры обсудят ситуацию в регионе и подготовку к предстоящему саммиту."]),
        ("О годовщине воссоединения Крыма с Россией",
         ["18 марта мы отметим годовщину воссоединения Крыма с Россией.",
          "Мероприятия пройдут во многих городах, в них примут участие и наши посольства за рубежом."]),
    ],
    questions=[
        ("Вопрос: Будут ли подписаны какие-либо документы в ходе этих переговоров на следующей неделе?",
         ["М.В.Захарова: Мы своевременно проинформируем вас, как всегда."]),
    ],
)


def briefing_paragraphs(b: dict) -> list[str]:
    out: list[str] = []
    for heading, text in b["topics"]:
        out += [heading, *text]
    for question, answers in b["questions"]:
        out += [question, *answers]
    return out


def briefing_turns(b: dict) -> list[list]:
    speaker = "Maria Zakharova" if b["lang"] == "en" else "М.В.Захарова"
    opening = sum(1 + len(t) for _, t in b["topics"])
    turns = [[speaker, "statement", opening]]
    for _, answers in b["questions"]:
        turns += [["Question" if b["lang"] == "en" else "Вопрос", "question", 1], [speaker, "answer", len(answers)]]
    return turns


for _b in (EN_BRIEFING, RU_BRIEFING):
    _b["paragraphs"] = briefing_paragraphs(_b)
    _b["turns"] = briefing_turns(_b)

# --- boilerplate in wordings no list of the profile has -----------------------------

BLOCKS = {
    "de": ["Weitere Unterlagen", "• Bilder", "Bildergalerie", "5 von 18 Fotos im Album", "Suchoptionen erweitert",
           "Datum falsch angegeben"],
    "es": ["Documentos complementarios", "• Imágenes", "Galería de imágenes", "3 de 9 fotos en el álbum",
           "Opciones de búsqueda avanzada"],
    "en": ["Related documents", "• Pictures", "Picture gallery", "4 of 20 photos in album", "Wrong dates entered",
           "More search instruments", "• General info"],
    "ru": ["Другие материалы", "• Снимки", "Фотогалерея", "2 из 8 фотографий в альбоме", "Неверно указан период",
           "Расширенный поиск"],
    "fr": ["Autres documents", "Galerie de photos", "Ambassade de Russie en Belgique", "Adresse postale :",
           "66, avenue De Fré, 1180 Bruxelles", "Tél. :", "+32 2 374-34-00", "Courriel :", "amrusbel@skynet.be",
           "Site :", "https://belgium.mid.ru", "• Belgique", "• Belgique"],
}
LEADING = {"en": ["Pictures", "1 of 3 photos in album"], "ru": ["Снимки", "1 из 3 фотографий в альбоме"]}
MIDDLE = {"en": ["Picture gallery", "2 of 14 photos in album", "Extended lookup options"],
          "ru": ["Фотогалерея", "2 из 14 фотографий в альбоме", "Расширенный поиск"]}
NOTE = "Unofficial translation from Russian"
SITE_LANGS = ("ru", "en", "de", "fr", "es", "pt")
MONTHS = {"en": "January February March April May June July August September October November December".split(),
          "ru": "января февраля марта апреля мая июня июля августа сентября октября ноября декабря".split()}


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def long_date(day: str, lang: str) -> str:
    y, m, d = (int(x) for x in day.split("-"))
    return f"{d} {MONTHS['ru' if lang == 'ru' else 'en'][m - 1]} {y}"


def numeric_date(day: str) -> str:
    y, m, d = day.split("-")
    return f"{d}.{m}.{y}"


# --- page shapes ---------------------------------------------------------------------

def body_lines(speech: dict, *, leading=(), middle=(), trailing=(), note=False) -> list[tuple[str, str]]:
    """(kind, text) lines of the text: kind is 'p' (speech), 'b' (boilerplate), 'toc', 'back', 'note'."""
    lines: list[tuple[str, str]] = [("b", x) for x in leading]
    if note:
        lines.append(("note", NOTE))
    paragraphs = speech["paragraphs"]
    if "contents" in speech:
        toc, back = speech["contents"]
        lines.append(("toc", toc))
        lines += [("toc", heading) for heading, _ in speech["topics"]]
        for heading, text in speech["topics"]:
            lines += [("p", heading), *[("p", t) for t in text], ("back", back)]
        for question, answers in speech["questions"]:
            lines += [("p", question), *[("p", a) for a in answers]]
    else:
        half = len(paragraphs) // 2
        lines += [("p", p) for p in paragraphs[:half]] + [("b", x) for x in middle] + [("p", p) for p in paragraphs[half:]]
    return lines + [("b", x) for x in trailing]


def html_lines(lines: list[tuple[str, str]], *, dxl: bool = False) -> str:
    out = []
    for n, (kind, text) in enumerate(lines):
        if kind == "toc" and n and lines[n - 1][0] == "toc":
            out.append(f'<p><a href="#t{n}">{esc(text)}</a></p>')
        elif kind == "back":
            out.append(f'<p><a href="#top">{esc(text)}</a></p>')
        elif dxl:
            words = text.split(" ")
            cut = max(1, len(words) // 2)
            out.append(f'<p class="dxl-par"><span class="dxl-run">{esc(" ".join(words[:cut]))} </span>'
                       f'<span class="dxl-run">{esc(" ".join(words[cut:]))}</span></p>')
        else:
            out.append(f"<p>{esc(text)}</p>")
    return "\n".join(out)


def current_page(speech: dict, lines, *, doc: str | None, time: str, langs: list[str], date_style: str) -> str:
    lang = speech["lang"]
    switcher = "".join(f'<li><a hreflang="{c}" href="/{c}/">{c.upper()}</a></li>' for c in SITE_LANGS)
    if date_style == "br":
        when = f'<div class="photo-content__date">{long_date(speech["day"], lang)}<br>{time}</div>'
    elif date_style == "time":
        when = f'<time datetime="{speech["day"]}T{time}:00+03:00">{long_date(speech["day"], lang)}</time>'
    else:
        when = (f'<div class="article-line"><span class="article-line__date">{long_date(speech["day"], lang)}</span>'
                f'<span class="article-line__time">{time}</span></div>')
    versions = ("".join(f'<a href="/{lang}/foreign_policy/news/1900001/?lang={c}">{c}</a> ' for c in langs)
                if date_style == "time" else
                '<ul class="article-langs">' + "".join(f"<li>{c}-XX<sup>1</sup></li>".replace("XX", c.upper())
                                                        for c in langs) + "</ul>")
    number = f'<p class="article-line__note article-line__note_small">{doc}</p>' if doc else ""
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{esc(speech['title'])}</title></head><body>
<header class="header"><ul class="lang-switcher">{switcher}</ul><nav class="menu"><a href="/">Home</a></nav></header>
<div class="page-body"><div class="breadcrumbs"><a href="/{lang}/">Main</a><a href="/{lang}/s/">{esc(speech['section'])}</a></div>
{when}
<h1 class="photo-content__title">{esc(speech['title'])}</h1>
<div class="photo-content__langs">{versions}</div>
{number}
<div class="text article-content">
{html_lines(lines)}
</div></div>
<footer class="footer"><ul class="lang-switcher">{switcher}</ul></footer></body></html>
"""


def archive_page(speech: dict, lines, *, doc: str | None, time: str, charset: str, dxl: bool) -> str:
    number = f'<div class="article-note"><span class="nowrap">№ {doc}</span></div>' if doc else ""
    return f"""<!DOCTYPE html>
<html lang="{speech['lang']}"><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{esc(speech['title'])} - MFA</title></head><body class="portal">
<div class="portlet-column-first"><div class="portlet-body"><div class="asset-full-content">
<h1>{esc(speech['title'])}</h1>
<div class="article-status-line"><span><span>{numeric_date(speech['day'])}</span><i>{time}</i></span></div>
{number}
<div class="text article-content">
{html_lines(lines, dxl=dxl)}
</div></div></div></div></body></html>
"""


def text_dump(speech: dict, lines, *, doc: str | None, time: str, langs: list[str], header: str | None) -> str:
    out = []
    if header:
        out += [header, ""]
    date = long_date(speech["day"], speech["lang"]) + (" года" if speech["lang"] == "ru" else "")
    out += [f"{date}{time}", "", speech["title"], ""]
    if langs:
        out += ["  • " + " ".join(f"{c}-{c.upper()}1" for c in langs), ""]
    if doc:
        out += [doc, ""]
    trailing_started = False
    for kind, text in lines:
        if kind == "b" and not trailing_started and out and lines and (kind, text) in lines[-8:]:
            out += ["", "", ""]  # the scraper's gap before the page chrome
            trailing_started = True
        out += [text, ""]
    return "\n".join(out)


# --- the cases -----------------------------------------------------------------------

def expected(speech: dict, lines, *, time: str, doc: str | None, langs: list[str], section: str | None,
             note: bool = False) -> dict:
    boilerplate = [t for k, t in lines if k in ("b", "toc", "back", "note")]
    return dict(title=speech["title"], published_at=f"{speech['day']}T{time}:00+03:00", location=speech["place"],
                language=speech["lang"], languages=langs, doc_number=doc, section=section,
                paragraphs=speech["paragraphs"], boilerplate=[b for b in boilerplate if b not in speech["paragraphs"]],
                turns=speech["turns"], speakers=sorted({t[0] for t in speech["turns"] if t[1] != "question"}),
                questions=sum(1 for t in speech["turns"] if t[1] == "question"),
                translation_note=NOTE if note else None)


CASES: dict[str, dict] = {}


def add_current(name, speech, *, leading=(), middle=(), trailing=(), doc=None, time="12:30", langs=("en", "ru"),
                date_style="line", note=False):
    lines = body_lines(speech, leading=leading, middle=middle, trailing=trailing, note=note)
    page = current_page(speech, lines, doc=doc, time=time, langs=list(langs), date_style=date_style)
    CASES[name] = dict(file=f"{name}.html", content=page.encode("utf-8"),
                       expected=expected(speech, lines, time=time, doc=doc, langs=list(langs),
                                         section=speech["section"], note=note))


def add_archive(name, speech, *, leading=(), middle=(), trailing=(), doc=None, time="19:46", charset="utf-8",
                dxl=True):
    lines = body_lines(speech, leading=leading, middle=middle, trailing=trailing)
    page = archive_page(speech, lines, doc=doc, time=time, charset=charset, dxl=dxl)
    CASES[name] = dict(file=f"{name}.html", content=page.encode("cp1251" if charset == "windows-1251" else "utf-8"),
                       expected=expected(speech, lines, time=time, doc=doc, langs=[], section=None))


def add_text(name, speech, *, leading=(), middle=(), trailing=(), doc=None, time="15:45", langs=(), header=None):
    lines = body_lines(speech, leading=leading, middle=middle, trailing=trailing)
    dump = text_dump(speech, lines, doc=doc, time=time, langs=list(langs), header=header)
    CASES[name] = dict(file=f"{name}.txt", content=dump.encode("utf-8"),
                       expected=expected(speech, lines, time=time, doc=doc, langs=list(langs),
                                         section=header))


# current layout
add_current("cur_en_interview_de", EN_INTERVIEW, trailing=BLOCKS["de"], doc="215-03-02-2023", date_style="br")
add_current("cur_en_interview_es", EN_INTERVIEW, leading=LEADING["en"], trailing=BLOCKS["es"], langs=("en", "ru", "es"))
add_current("cur_en_statement_en", EN_STATEMENT, middle=MIDDLE["en"], trailing=BLOCKS["en"], doc="1290-22-06-2022")
add_current("cur_en_statement_fr", EN_STATEMENT, trailing=BLOCKS["fr"], date_style="time", langs=("en", "ru", "fr"))
add_current("cur_ru_interview_ru", RU_INTERVIEW, trailing=BLOCKS["ru"], langs=("ru", "en"))
add_current("cur_ru_interview_de", RU_INTERVIEW, middle=MIDDLE["ru"], trailing=BLOCKS["de"], langs=("ru",),
            date_style="br")
add_current("cur_en_briefing", EN_BRIEFING, trailing=BLOCKS["en"], doc="480-15-03-2023")
add_current("cur_ru_briefing", RU_BRIEFING, trailing=BLOCKS["ru"], langs=("ru", "en"), date_style="time")
add_current("cur_en_interview_note", EN_INTERVIEW, trailing=BLOCKS["fr"], note=True, date_style="br")
add_current("cur_en_statement_note", EN_STATEMENT, leading=LEADING["en"], note=True, langs=("en", "ru", "de"))
# the old portal, Word-converted markup
add_archive("arc_ru_interview_ru", RU_INTERVIEW, trailing=BLOCKS["ru"], doc="2393-18-11-2019")
add_archive("arc_en_statement_en", EN_STATEMENT, middle=MIDDLE["en"], trailing=BLOCKS["en"])
add_archive("arc_ru_interview_cp1251", RU_INTERVIEW, trailing=BLOCKS["de"], charset="windows-1251")
add_archive("arc_en_briefing", EN_BRIEFING, trailing=BLOCKS["es"], dxl=False, doc="512-15-03-2023")
add_archive("arc_ru_briefing", RU_BRIEFING, trailing=BLOCKS["fr"], time="11:05")
add_archive("arc_en_interview_es", EN_INTERVIEW, leading=LEADING["en"], trailing=BLOCKS["es"])
# plain-text dumps
add_text("txt_en_interview_de", EN_INTERVIEW, trailing=BLOCKS["de"], langs=("en", "ru"))
add_text("txt_en_interview_fr", EN_INTERVIEW, trailing=BLOCKS["fr"], header="Interviews with the Minister")
add_text("txt_en_statement_es", EN_STATEMENT, trailing=BLOCKS["es"], doc="1290-22-06-2022")
add_text("txt_en_statement_ru", EN_STATEMENT, middle=MIDDLE["en"], trailing=BLOCKS["ru"], langs=("en", "ru", "de"))
add_text("txt_ru_interview_en", RU_INTERVIEW, trailing=BLOCKS["en"], header="Интервью Министра")
add_text("txt_ru_interview_ru", RU_INTERVIEW, trailing=BLOCKS["ru"], langs=("ru", "en"))
add_text("txt_en_briefing", EN_BRIEFING, trailing=BLOCKS["de"], header="Spokeswoman’s briefings")
add_text("txt_ru_briefing", RU_BRIEFING, trailing=BLOCKS["es"], doc="480-15-03-2023")
add_text("txt_en_interview_en", EN_INTERVIEW, trailing=BLOCKS["en"] + BLOCKS["fr"])


# a list the speech announces, questions whose label names who asks
add_current("cur_en_press_list", EN_PRESS, trailing=BLOCKS["en"], doc="1988-12-10-2023")
add_current("cur_ru_press_list", RU_PRESS, trailing=BLOCKS["ru"], langs=("ru", "en"))
add_archive("arc_en_press_list", EN_PRESS, trailing=BLOCKS["de"])
add_text("txt_en_press_list", EN_PRESS, trailing=BLOCKS["es"], header="Ministers’ speeches")
add_text("txt_ru_press_list", RU_PRESS, trailing=BLOCKS["fr"], langs=("ru", "en"))


# the five seed dumps, their trailing block replaced by an unseen one
def add_seed(name: str, seed: Path, block: list[str]) -> None:
    exp = json.loads(seed.read_text(encoding="utf-8"))
    raw = (SEEDS.parent / exp["input"]).read_text(encoding="utf-8").split("\n")
    last = exp["paragraphs"][-1].strip()
    end = max(i for i, line in enumerate(raw) if line.strip() == last)
    text = "\n".join(raw[: end + 1] + ["", "", "", *[x for b in block for x in (b, "")]])
    exp = {k: v for k, v in exp.items() if k != "input"}
    exp["boilerplate"] = [b for b in exp["boilerplate"] if b in "\n".join(raw[: end + 1])] + block
    exp["translation_note"] = None
    CASES[name] = dict(file=f"{name}.txt", content=text.encode("utf-8"), expected=exp)


for _seed, _block in zip(sorted(SEEDS.glob("*.expected.json")), ("de", "es", "en", "ru", "fr")):
    add_seed(f"seed{_seed.name[:3]}_{_block}", _seed, BLOCKS[_block])


def main() -> None:
    for name, case in CASES.items():
        (HERE / case["file"]).write_bytes(case["content"])
        exp = {"input": f"unseen/{case['file']}", "url": None, **case["expected"]}
        (HERE / f"{name}.expected.json").write_text(json.dumps(exp, ensure_ascii=False, indent=1) + "\n",
                                                    encoding="utf-8")
    print(f"{len(CASES)} cases")


if __name__ == "__main__":
    main()
