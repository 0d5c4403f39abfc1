"""Other people's corpora (issue 23, item 2): CSV and JSON-lines exports with speaker, date,
title, text and url columns, ingested through the one ingest path into the real node."""

import csv
import json

from pipeline.context import RunContext
from pipeline.ingest import ingest_archive

RU_SPEECH = ["Добрый день!",
             "Мы провели обстоятельные переговоры с Министром иностранных дел Индии и обсудили весь спектр отношений.",
             "Договорились продолжать тесную координацию в ШОС, БРИКС и «Группе двадцати».",
             "Спасибо."]
EN_INTERVIEW = ["Question: Mr Minister, will Russia extend the Black Sea initiative next month?",
                "Sergey Lavrov: The part of the package that concerns Russian exports has not been implemented.",
                "We have been patient for almost a year, but our patience is not unlimited."]
BRIEFING = ["Good afternoon, colleagues.",
            "Let us begin with the news of the week, which has been full of international events.",
            "The Foreign Minister will hold talks with his Turkish counterpart on Thursday."]


def _write_csv(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["speaker", "date", "title", "text", "url"])
        writer.writerows(rows)


def _docs(es, alias):
    es.indices.refresh(index=alias)
    return {h["_source"]["source"].rsplit("#", 1)[-1]: h["_source"]
            for h in es.search(index=alias, size=50)["hits"]["hits"]}


def test_a_csv_corpus_ingests_with_title_and_date_from_its_columns(es, settings, index_alias, tmp_path):
    corpus = tmp_path / "lavrov.csv"
    _write_csv(corpus, [
        ["Сергей Лавров", "2023-05-05", "Выступление С.В.Лаврова на пресс-конференции, Москва, 5 мая 2023 года",
         "\n\n".join(RU_SPEECH), "https://mid.ru/ru/press_service/minister_speeches/1866951/"],
        ["Sergey Lavrov", "19.06.2023", "Foreign Minister Sergey Lavrov’s interview with RIA Novosti",
         "\n".join(EN_INTERVIEW), "NA"],
        ["Maria Zakharova", "June 21, 2023 12:30", "NA", "\n\n".join(BRIEFING), "NA"],
    ])
    report = ingest_archive(RunContext.build(settings), corpus)
    assert (report.read, report.new, report.failed) == (3, 3, 0)
    docs = _docs(es, index_alias)
    assert set(docs) == {"row1", "row2", "row3"}
    first, second, third = docs["row1"], docs["row2"], docs["row3"]
    assert first["title"].startswith("Выступление С.В.Лаврова") and first["location"] == "Москва"
    assert first["published_at"] == "2023-05-05T00:00:00+03:00"
    assert first["url"] == "https://mid.ru/ru/press_service/minister_speeches/1866951/"
    assert first["body"].split("\n\n") == RU_SPEECH  # every speech paragraph, the greeting too
    assert second["title"] == "Foreign Minister Sergey Lavrov’s interview with RIA Novosti"
    assert second["published_at"] == "2023-06-19T00:00:00+03:00" and second["url"] is None
    assert second["body"].split("\n\n") == EN_INTERVIEW
    assert [t["role"] for t in second["turns"]] == ["question", "answer"]
    # no title anywhere: indexed untitled and flagged; the speaker column names who speaks
    assert third["title"] is None and third["flags"] == ["no_title"]
    assert third["published_at"] == "2023-06-21T12:30:00+03:00"
    assert third["body"].split("\n\n") == BRIEFING and third["speakers"] == ["Maria Zakharova"]

    again = ingest_archive(RunContext.build(settings), corpus)
    assert (again.read, again.new, again.unchanged) == (3, 0, 3)


def test_malformed_rows_are_dead_letters_naming_file_and_row(es, settings, index_alias, tmp_path):
    folder = tmp_path / "corpora"
    folder.mkdir()
    _write_csv(folder / "a.csv", [
        ["Sergey Lavrov", "not a date", "Remarks", "\n\n".join(BRIEFING), "NA"],
        ["too", "few"],
        ["Sergey Lavrov", "2023-06-21", "Remarks at the talks, Moscow, June 21, 2023", "\n\n".join(BRIEFING), "NA"],
    ])
    (folder / "b.jsonl").write_text("\n".join([
        json.dumps({"title": "Remarks, Moscow, June 22, 2023", "text": "\n\n".join(BRIEFING)}),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"title": "NA", "text": "NA"}),
    ]) + "\n", encoding="utf-8")
    report = ingest_archive(RunContext.build(settings), folder)
    # every row has one outcome: two documents, five dead letters
    assert (report.read, report.new, report.failed) == (7, 2, 5)
    deadletters = dict(line.rsplit("/", 1)[-1].split(": ", 1) for line in report.failures)
    assert set(deadletters) == {"a.csv#row1", "a.csv#row2", "b.jsonl#row2", "b.jsonl#row3", "b.jsonl#row4"}
    assert "unparseable date 'not a date'" in deadletters["a.csv#row1"]
    assert "2 fields where the header has 5" in deadletters["a.csv#row2"]
    assert "bad JSON" in deadletters["b.jsonl#row2"] and "not an object" in deadletters["b.jsonl#row3"]
    assert "no text in column 'text'" in deadletters["b.jsonl#row4"]
