"""The replica's articles: built from the real sample dumps (English) plus a few
short Russian transcripts, so that what the crawler fetches looks like the site.

Each ``Article`` knows its site (current mid.ru or the archive portal), its path,
its listing date and its text; ``server.py`` beside it renders it as HTML in
the layout of its site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

DUMPS = Path(__file__).resolve().parents[1] / "data" / "seeds"

_TITLE_DATE = re.compile(r", [A-Z][a-z]+ \d{1,2}, \d{4}$")
_DOC_NUMBER = re.compile(r"^\d{2,5}-\d{2}-\d{2}-\d{4}$")
_BOILERPLATE = ("Advanced settings", "Дополнительные материалы", "Documents supplémentaires",
                "Некорректно указаны даты", "1 из 1 фотографий")

CURRENT_EN = "/en/press_service/minister_speeches/"
CURRENT_RU = "/ru/press_service/minister_speeches/"
ARCHIVE_EN = "/en/press_service/minister_speeches"
ARCHIVE_RU = "/ru/vistupleniya_ministra"
ARCHIVE_INSTANCE = "7OvQR5KJWVmR"


@dataclass
class Article:
    site: str  # "current" or "archive"
    language: str
    path: str
    title: str
    published: datetime
    paragraphs: list[str]
    doc_number: str | None = None
    section_label: str = "Ministers’ speeches"
    encoding: str = "utf-8"
    version: int = 1
    extra: dict = field(default_factory=dict)

    @property
    def article_id(self) -> str:
        return re.findall(r"\d+", self.path)[-1]

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


def _dump(name: str) -> Path:
    return next(DUMPS.glob(f"{name}_*.txt"))


def _english(name: str, site: str, path: str, published: datetime) -> Article:
    title, number, body = parse_dump(_dump(name))
    return Article(site=site, language="en", path=path, title=title, published=published,
                   paragraphs=body, doc_number=number)


RU_CURRENT_1 = Article(
    site="current", language="ru", path=CURRENT_RU + "1790001/",
    title="Выступление и ответы на вопросы СМИ Министра иностранных дел Российской Федерации "
          "С.В.Лаврова в ходе совместной пресс-конференции по итогам переговоров с Министром "
          "иностранных дел Республики Беларусь В.В.Макеем, Москва, 18 июня 2021 года",
    published=datetime(2021, 6, 18, 15, 45), doc_number="1226-18-06-2021",
    section_label="Выступления Министра",
    paragraphs=[
        "Коллеги,",
        "Вчера и сегодня мы провели подробные переговоры по всему спектру вопросов "
        "российско-белорусских отношений. Отметили общую нацеленность на выполнение задач, "
        "поставленных перед нами президентами.",
        "Мы подписали программу согласованных действий в области внешней политики на 2022-2023 годы.",
        "Вопрос: Означает ли возвращение послов в Москву и Вашингтон коренные изменения в отношениях?",
        "С.В.Лавров: Возвращение послов – это нормальная практика. Мы не питаем иллюзий, "
        "но готовы работать на основе взаимного уважения.",
        "Вопрос (в переводе с английского): Как Вы прокомментируете возможное появление турецких "
        "военных баз в Азербайджане?",
        "С.В.Лавров: Мы не комментируем слухи.",
    ],
)

RU_CURRENT_2 = Article(
    site="current", language="ru", path=CURRENT_RU + "1790002/",
    title="Выступление Министра иностранных дел Российской Федерации С.В.Лаврова на заседании "
          "СМИД ОДКБ, Москва, 1 декабря 2020 года",
    published=datetime(2020, 12, 1, 19, 32), section_label="Выступления Министра",
    paragraphs=[
        "Добрый день.",
        "Мы провели заседание Совета министров иностранных дел Организации Договора о "
        "коллективной безопасности. В этом году Россия председательствует в Организации.",
        "Обсудили борьбу с терроризмом и другими новыми вызовами и угрозами.",
        "Вопрос: Обсуждали ли вы возможность использования миротворческого потенциала ОДКБ?",
        "С.В.Лавров: Такой вопрос не ставился. Наши партнёры знают позицию России.",
    ],
)

RU_ARCHIVE_1 = Article(
    site="archive", language="ru",
    path=f"{ARCHIVE_RU}/-/asset_publisher/MCZ7HQuMdqBY/content/id/3907813",
    title="Выступление и ответы на вопросы СМИ Министра иностранных дел Российской Федерации "
          "С.В.Лаврова на совместной пресс-конференции с Министром иностранных дел Республики "
          "Беларусь В.В.Макеем, Минск, 18 ноября 2019 года",
    published=datetime(2019, 11, 18, 19, 46), section_label="Выступления Министра",
    encoding="windows-1251",
    paragraphs=[
        "Провели совместное заседание коллегий министерств иностранных дел России и Беларуси "
        "накануне важной даты – 20-летия подписания Договора о создании Союзного государства.",
        "Договорились продолжать тесно взаимодействовать по основным глобальным вопросам.",
        "Вопрос: Означают ли переговоры в нормандском формате сдвиг в урегулировании?",
        "С.В.Лавров: Мы исходим из того, что все договорённости должны выполняться.",
    ],
)


def base_articles() -> list[Article]:
    """The replica's articles before any change, newest first within each listing."""
    return [
        _english("002", "current", CURRENT_EN + "1785001/", datetime(2021, 12, 2, 23, 28)),
        _english("004", "current", CURRENT_EN + "1785002/", datetime(2021, 6, 18, 15, 45)),
        _english("000", "current", CURRENT_EN + "1785003/", datetime(2020, 12, 1, 19, 32)),
        RU_CURRENT_1,
        RU_CURRENT_2,
        _english("003", "archive",
                 f"{ARCHIVE_EN}/-/asset_publisher/{ARCHIVE_INSTANCE}/content/id/4141810",
                 datetime(2020, 5, 26, 13, 23)),
        _english("001", "archive",
                 f"{ARCHIVE_EN}/-/asset_publisher/{ARCHIVE_INSTANCE}/content/id/3907812",
                 datetime(2019, 11, 18, 19, 46)),
        RU_ARCHIVE_1,
    ]


def added_article() -> Article:
    """A new English transcript, newer than all others (the "added article" change)."""
    _, _, body = parse_dump(_dump("003"))
    return Article(
        site="current", language="en", path=CURRENT_EN + "1785100/",
        title="Foreign Minister Sergey Lavrov’s opening remarks at a meeting of the CIS Council "
              "of Foreign Ministers, Moscow, December 10, 2021",
        published=datetime(2021, 12, 10, 11, 5),
        paragraphs=["Colleagues,", *reversed(body[:6])],
    )


EDIT_PARAGRAPH = ("Question: Will there be a follow-up meeting? Sergey Lavrov: We have agreed to "
                  "meet again before the end of the year; the date will be announced.")
