"""The replica's articles, built from the public evidence about mid.ru (docs/evidence/site-evidence.md).

Bodies come from the real sample dumps (English) plus short Russian transcripts and a
briefing shaped as the evidence describes (a table of contents of in-page links, topic
headings, "Back to contents" links, "Answers to media questions:"). Every section of the
profile has items in both languages, one numeric id holds every language version of an
item (``?lang=xx``), and items are dated relative to today (Moscow), so a nightly run
against a fresh replica finds new items. ``server.py`` renders them in the site's templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pipeline

DUMPS = Path(pipeline.__file__).resolve().parent / "data" / "seeds"  # the library's package data
MSK = timezone(timedelta(hours=3))

_TITLE_DATE = re.compile(r", [A-Z][a-z]+ \d{1,2}, \d{4}$")
_TITLE_TAIL_EN = re.compile(r"(?P<place>, [^,]+), [A-Z][a-z]+ \d{1,2}, \d{4}$")
_TITLE_TAIL_RU = re.compile(r"(?P<place>, [^,]+), \d{1,2} [а-я]+ \d{4} года$")
_DOC_NUMBER = re.compile(r"^\d{2,5}-\d{2}-\d{2}-\d{4}$")
_BOILERPLATE = ("Advanced settings", "Дополнительные материалы", "Documents supplémentaires",
                "Некорректно указаны даты", "1 из 1 фотографий")
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December"]
MONTHS_RU = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
             "октября", "ноября", "декабря"]

# Section -> listing path per language, label per language, kind (as the profile has them).
SECTIONS: dict[str, dict] = {
    "minister_speeches": {"en": "/en/press_service/minister_speeches/", "ru": "/ru/press_service/minister_speeches/",
                          "label_en": "Minister's speeches", "label_ru": "Выступления Министра", "kind": "speech"},
    "deputy_ministers_speeches": {"en": "/en/press_service/deputy_ministers_speeches/",
                                  "ru": "/ru/press_service/deputy_ministers_speeches/",
                                  "label_en": "Deputy Ministers' speeches", "label_ru": "Выступления заместителей Министра",
                                  "kind": "speech"},
    "briefings": {"en": "/en/press_service/spokesman/briefings/", "ru": "/ru/press_service/spokesman/briefings/",
                  "label_en": "Briefings", "label_ru": "Брифинги", "kind": "briefing"},
    "answers": {"en": "/en/press_service/spokesman/answers/", "ru": "/ru/press_service/spokesman/answers/",
                "label_en": "Answers to media questions", "label_ru": "Ответы на вопросы СМИ", "kind": "answer"},
    "comments": {"en": "/en/press_service/spokesman/comments/", "ru": "/ru/press_service/spokesman/kommentarii/",
                 "label_en": "Comments", "label_ru": "Комментарии", "kind": "comment"},
    "official_statements": {"en": "/en/press_service/spokesman/official_statement/",
                            "ru": "/ru/press_service/spokesman/official_statement/",
                            "label_en": "Official statements", "label_ru": "Официальные заявления",
                            "kind": "statement"},
    "news": {"en": "/en/foreign_policy/news/", "ru": "/ru/foreign_policy/news/",
             "label_en": "News", "label_ru": "Новости", "kind": "news"},
}
# The old portal: section path per language and the Liferay instance id (firm).
ARCHIVE_SECTIONS = {
    "archive_minister_speeches": {"en": ("/en/press_service/minister_speeches", "7OvQR5KJWVmR"),
                                  "ru": ("/ru/vistupleniya_ministra", "MCZ7HQuMdqBY")},
    "archive_news": {"en": ("/en/foreign_policy/news", "cKNonkJE02Bw"),
                     "ru": ("/ru/foreign_policy/news", "cKNonkJE02Bw")},
    "archive_briefings": {"en": ("/en/press_service/spokesman/briefings", "D2wHaWMCU6Od"),
                          "ru": ("/ru/press_service/spokesman/briefings", "D2wHaWMCU6Od")},
}
# Kept for callers of the earlier replica.
CURRENT_EN = SECTIONS["minister_speeches"]["en"]
CURRENT_RU = SECTIONS["minister_speeches"]["ru"]
ARCHIVE_EN, ARCHIVE_INSTANCE = ARCHIVE_SECTIONS["archive_minister_speeches"]["en"]
ARCHIVE_RU, ARCHIVE_RU_INSTANCE = ARCHIVE_SECTIONS["archive_minister_speeches"]["ru"]


def today_msk() -> date:
    return datetime.now(MSK).date()


@dataclass
class Article:
    """One language version of one item (the unit a listing shows and the crawler indexes)."""

    site: str  # "current" or "archive"
    language: str
    path: str  # the path its listing links to
    title: str
    published: datetime  # naive, Moscow time
    paragraphs: list[str]  # HTML-escaped when rendered, unless ``html`` is set
    section: str = "minister_speeches"
    doc_number: str | None = None
    template: str = "photo"  # current site: "photo" (photo-content) or "announcement"
    encoding: str = "utf-8"
    version: int = 1
    languages: list[str] = field(default_factory=lambda: ["en", "ru"])  # versions the item has
    html: str | None = None  # a body given as HTML (the briefing's table of contents)
    unofficial: bool = False  # English items carry "Unofficial translation from Russian"
    listed: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def article_id(self) -> str:
        return re.findall(r"\d+", self.path)[-1]

    @property
    def kind(self) -> str:
        return SECTIONS.get(self.section, {}).get("kind", "news" if "news" in self.section else "speech")

    @property
    def section_label(self) -> str:
        return SECTIONS.get(self.section, {}).get(f"label_{self.language}", "News")

    @property
    def listing_path(self) -> str:
        if self.site == "current":
            return SECTIONS[self.section][self.language]
        return ARCHIVE_SECTIONS[self.section][self.language][0]

    def edited(self, paragraph: str) -> "Article":
        return replace(self, paragraphs=[*self.paragraphs, paragraph], version=self.version + 1)


def parse_dump(path: Path) -> tuple[str, str | None, list[str]]:
    """Title, document number and body paragraphs of one sample dump."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    start = next(i for i, line in enumerate(lines) if _TITLE_DATE.search(line))
    title, doc_number, body = lines[start], None, []
    for line in lines[start + 1:]:
        if not line or line.startswith("•"):
            continue
        if line.startswith(_BOILERPLATE):
            break
        if _DOC_NUMBER.match(line) and not body:
            doc_number = line
            continue
        body.append(line)
    return title, doc_number, body


def long_date(day: date, language: str) -> str:
    months = MONTHS_RU if language == "ru" else MONTHS_EN
    return f"{day.day} {months[day.month - 1]} {day.year}"


def title_date(day: date, language: str) -> str:
    """How a title's tail names the day: "December 2, 2021" / "2 декабря 2021 года"."""
    if language == "ru":
        return f"{day.day} {MONTHS_RU[day.month - 1]} {day.year} года"
    return f"{MONTHS_EN[day.month - 1]} {day.day}, {day.year}"


def retitle(title: str, day: date, language: str) -> str:
    """The title with its ", Place, <date>" tail moved to ``day`` (items are dated relative to today)."""
    pattern = _TITLE_TAIL_RU if language == "ru" else _TITLE_TAIL_EN
    match = pattern.search(title)
    if not match:
        return title
    return title[:match.start()] + match["place"] + ", " + title_date(day, language)


def doc_number(number: int, day: date) -> str:
    """``NNNN-DD-MM-YYYY``, the same in every language of an item."""
    return f"{number}-{day:%d-%m-%Y}"


def _dump(name: str) -> Path:
    return next(DUMPS.glob(f"{name}_*.txt"))


def _when(days_ago: int, at: str, base: date | None = None) -> datetime:
    day = (base or today_msk()) - timedelta(days=days_ago)
    return datetime.combine(day, time.fromisoformat(at))


def _current(section: str, language: str, ident: int, title: str, published: datetime, paragraphs: list[str],
             **kw) -> Article:
    path = f"{SECTIONS[section][language]}{ident}/"
    title = retitle(title, published.date(), language)
    return Article(site="current", language=language, path=path, title=title, published=published,
                   paragraphs=paragraphs, section=section, unofficial=language == "en", **kw)


def _seed(name: str) -> tuple[str, list[str]]:
    title, _, body = parse_dump(_dump(name))
    return title, body


RU_MAKEI = ("Выступление и ответы на вопросы СМИ Министра иностранных дел Российской Федерации С.В.Лаврова "
            "в ходе совместной пресс-конференции по итогам переговоров с Министром иностранных дел Республики "
            "Беларусь В.В.Макеем, Москва, 18 июня 2021 года")
RU_MAKEI_BODY = [
    "Коллеги,",
    "Вчера и сегодня мы провели подробные переговоры по всему спектру вопросов российско-белорусских "
    "отношений. Отметили общую нацеленность на выполнение задач, поставленных перед нами президентами.",
    "Мы подписали программу согласованных действий в области внешней политики на 2022-2023 годы.",
    "Вопрос: Означает ли возвращение послов в Москву и Вашингтон коренные изменения в отношениях?",
    "С.В.Лавров: Возвращение послов – это нормальная практика. Мы не питаем иллюзий, но готовы работать "
    "на основе взаимного уважения.",
    "Вопрос (в переводе с английского): Как Вы прокомментируете возможное появление турецких военных баз "
    "в Азербайджане?",
    "С.В.Лавров: Мы не комментируем слухи.",
]
RU_CSTO = ("Выступление Министра иностранных дел Российской Федерации С.В.Лаврова на заседании СМИД ОДКБ, "
           "Москва, 1 декабря 2020 года")
RU_CSTO_BODY = [
    "Добрый день.",
    "Мы провели заседание Совета министров иностранных дел Организации Договора о коллективной безопасности. "
    "В этом году Россия председательствует в Организации.",
    "Обсудили борьбу с терроризмом и другими новыми вызовами и угрозами.",
    "Вопрос: Обсуждали ли вы возможность использования миротворческого потенциала ОДКБ?",
    "С.В.Лавров: Такой вопрос не ставился. Наши партнёры знают позицию России.",
]


def _short(language: str, who: str, topic: str) -> list[str]:
    """A short transcript: a statement, one question, one answer."""
    if language == "ru":
        return [f"{who} провёл встречу, посвящённую теме «{topic}», и изложил позицию российской стороны.",
                "Мы считаем, что любые договорённости должны выполняться всеми сторонами добросовестно.",
                "Вопрос: Каковы дальнейшие шаги России по этому направлению?",
                f"{who}: Мы продолжим работу со всеми заинтересованными партнёрами на основе взаимного уважения."]
    return [f"{who} held a meeting on {topic} and set out the position of the Russian side in detail.",
            "We believe that every agreement must be honoured in good faith by all the parties to it.",
            "Question: What are Russia's next steps in this area?",
            f"{who}: We will continue working with all interested partners on the basis of mutual respect."]


def briefing_html(language: str) -> str:
    """A briefing as the evidence shows it: a table of contents of in-page links, topics, answers."""
    if language == "ru":
        toc, back, answers = "Содержание", "Назад к оглавлению", "Из ответов на вопросы СМИ:"
        topics = ["О текущей международной повестке", "О ситуации на Ближнем Востоке"]
        texts = ["Министр иностранных дел России С.В.Лавров проведёт переговоры с коллегами на следующей неделе.",
                 "Мы призываем все стороны к сдержанности и к возобновлению политического диалога."]
        q = "Вопрос: Планируются ли новые контакты с европейскими партнёрами?"
        a = "М.В.Захарова: Мы открыты для диалога, но он должен быть равноправным и уважительным."
    else:
        toc, back, answers = "Table of contents", "Back to contents", "Answers to media questions:"
        topics = ["On the current international agenda", "On the situation in the Middle East"]
        texts = ["Foreign Minister Sergey Lavrov will hold talks with his colleagues next week in Moscow.",
                 "We call on all the parties to show restraint and to resume a political dialogue without delay."]
        q = "Question: Are new contacts with the European partners being planned?"
        a = "Maria Zakharova: We are open to dialogue, but it must be equal and respectful of our interests."
    links = "".join(f'<p><a href="#{i}">{t}</a></p>' for i, t in enumerate(topics, 1))
    parts = [f"<p><strong>{toc}</strong></p>", links]
    for i, (topic, text) in enumerate(zip(topics, texts), 1):
        parts.append(f'<p style="text-align: center;"><a name="{i}"></a><strong>{topic}</strong></p>')
        parts.append(f"<p>{text}</p>")
        parts.append(f'<p><a href="#top">{back}</a></p>')
    parts += [f"<p><strong>{answers}</strong></p>", f"<p>{q}</p>", f"<p>{a}</p>"]
    return "\n".join(parts)


def base_articles(base: date | None = None) -> list[Article]:
    """The replica's items (each language version one Article), dated relative to ``base`` (today)."""
    w = lambda d, t: _when(d, t, base)  # noqa: E731
    osce_title, osce = _seed("002")
    makei_title, makei = _seed("004")
    csto_title, csto = _seed("000")
    d1, d2, d3 = w(0, "09:30"), w(3, "15:45"), w(9, "19:32")
    articles = [
        # Minister's speeches: one id per item, both languages (the /ru/ and /en/ paths carry the same id).
        # (1785001 has no Russian version: its page lists English only)
        _current("minister_speeches", "en", 1785001, osce_title, d1, osce, doc_number=doc_number(2501, d1.date()),
                 languages=["en"]),
        _current("minister_speeches", "en", 1785002, makei_title, d2, makei, doc_number=doc_number(1225, d2.date())),
        _current("minister_speeches", "ru", 1785002, RU_MAKEI, d2, RU_MAKEI_BODY, doc_number=doc_number(1225, d2.date())),
        _current("minister_speeches", "en", 1785003, csto_title, d3, csto),
        _current("minister_speeches", "ru", 1785003, RU_CSTO, d3, RU_CSTO_BODY),
    ]
    for section, ident, days, who_en, who_ru, topic, template in (
            ("deputy_ministers_speeches", 1786001, 1, "Sergey Ryabkov", "С.А.Рябков", "strategic stability", "photo"),
            ("answers", 1786101, 2, "Maria Zakharova", "М.В.Захарова", "a media question", "announcement"),
            ("comments", 1786201, 4, "Maria Zakharova", "М.В.Захарова", "the sanctions", "photo"),
            ("official_statements", 1786301, 5, "Maria Zakharova", "М.В.Захарова", "the ministry's position",
             "announcement"),
            ("news", 1786401, 1, "Sergey Lavrov", "С.В.Лавров", "the talks with the Indian minister", "photo")):
        at = w(days, "12:10")
        number = doc_number(ident % 1000 + 100, at.date())
        place_en = f"{_label(section, 'en')}: {topic}, Moscow, {title_date(at.date(), 'en')}"
        place_ru = f"{_label(section, 'ru')}: {topic}, Москва, {title_date(at.date(), 'ru')}"
        articles.append(_current(section, "en", ident, place_en, at, _short("en", who_en, topic),
                                 doc_number=number, template=template))
        articles.append(_current(section, "ru", ident, place_ru, at, _short("ru", who_ru, topic),
                                 doc_number=number, template=template))
    at = w(2, "16:00")
    for language, title in (("en", f"Briefing by Foreign Ministry Spokeswoman Maria Zakharova, Moscow, "
                                   f"{title_date(at.date(), 'en')}"),
                            ("ru", f"Брифинг официального представителя МИД России М.В.Захаровой, Москва, "
                                   f"{title_date(at.date(), 'ru')}")):
        articles.append(_current("briefings", language, 1787001, title, at, [], html=briefing_html(language),
                                 doc_number=doc_number(2400, at.date())))
    # A briefing accreditation notice in the news listing: not a transcript (dropped by a profile rule).
    at = w(1, "10:00")
    articles.append(_current("news", "en", 1786499, "On accreditation for the briefing by Foreign Ministry "
                             "Spokeswoman Maria Zakharova", at, ["Journalists wishing to attend should apply "
                                                                "for accreditation by Wednesday, 18:00."],
                             languages=["en"]))
    articles.append(_current("news", "ru", 1786499, "Об аккредитации на брифинг официального представителя МИД "
                             "России М.В.Захаровой", at, ["Журналистам, желающим принять участие в брифинге, "
                                                          "необходимо пройти аккредитацию до среды, 18:00."],
                             languages=["ru"]))
    articles += archive_articles()
    return articles


def _label(section: str, language: str) -> str:
    return SECTIONS[section][f"label_{language}"]


def _archive(section: str, language: str, ident: int, title: str, published: datetime, paragraphs: list[str],
             **kw) -> Article:
    path, instance = ARCHIVE_SECTIONS[section][language]
    return Article(site="archive", language=language, path=f"{path}/-/asset_publisher/{instance}/content/id/{ident}",
                   title=title, published=published, paragraphs=paragraphs, section=section,
                   languages=["de", "en", "es", "ru", "fr"], **kw)


def archive_articles() -> list[Article]:
    """The old portal's items: fixed dates (the portal is frozen), the portal's own id space."""
    cstom_title, cstom = _seed("003")
    belarus_title, belarus = _seed("001")
    return [
        _archive("archive_minister_speeches", "en", 4141810, cstom_title, datetime(2020, 5, 26, 13, 23), cstom),
        _archive("archive_minister_speeches", "en", 3907812, belarus_title, datetime(2019, 11, 18, 19, 46), belarus,
                 doc_number="2395-18-11-2019"),
        _archive("archive_minister_speeches", "ru", 3907813,
                 "Выступление и ответы на вопросы СМИ Министра иностранных дел Российской Федерации С.В.Лаврова на "
                 "совместной пресс-конференции с Министром иностранных дел Республики Беларусь В.В.Макеем, Минск, "
                 "18 ноября 2019 года", datetime(2019, 11, 18, 19, 46),
                 ["Провели совместное заседание коллегий министерств иностранных дел России и Беларуси накануне "
                  "важной даты – 20-летия подписания Договора о создании Союзного государства.",
                  "Договорились продолжать тесно взаимодействовать по основным глобальным вопросам.",
                  "Вопрос: Означают ли переговоры в нормандском формате сдвиг в урегулировании?",
                  "С.В.Лавров: Мы исходим из того, что все договорённости должны выполняться."],
                 encoding="windows-1251", doc_number="2396-18-11-2019"),
        _archive("archive_news", "en", 2717182, "Foreign Minister Sergey Lavrov's remarks at a meeting with "
                 "students, Moscow, June 29, 2017", datetime(2017, 6, 29, 17, 54),
                 ["Good afternoon, colleagues.",
                  "I am pleased to meet the graduates of our university again and to speak about foreign policy.",
                  "Question: How do you see the future of the dialogue with Europe?",
                  "Sergey Lavrov: We are ready for it as soon as our partners are, on the basis of equality."],
                 extra={"short_year": True}),
    ]


def added_article(base: date | None = None) -> Article:
    """A new English transcript, newer than all others (the "added article" change)."""
    title, body = _seed("003")
    at = _when(0, "11:05", base)
    return _current("minister_speeches", "en", 1785100, title, at, ["Colleagues,", *reversed(body[:6])],
                    languages=["en"])


EDIT_PARAGRAPH = ("Question: Will there be a follow-up meeting? Sergey Lavrov: We have agreed to "
                  "meet again before the end of the year; the date will be announced.")
