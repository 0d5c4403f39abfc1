"""The corpus source (pipeline/sources/corpus.py): the column mapping, NA values, and one
outcome per row whatever is wrong with it."""

import json

import pytest

from pipeline.model.errors import ConfigError
from pipeline.model.records import Failure, Page
from pipeline.sources.corpus import ColumnMap, iter_corpus
from pipeline.sources.warc import expand_archive_inputs


def test_column_mapping_defaults_and_errors():
    assert ColumnMap.parse(None) == ColumnMap()
    mapped = ColumnMap.parse("title=headline, text=body")
    assert (mapped.title, mapped.text, mapped.date) == ("headline", "body", "date")
    for bad in ("title", "colour=red", "text="):
        with pytest.raises(ConfigError, match="column mapping"):
            ColumnMap.parse(bad)


def test_mapped_columns_fill_the_hints_and_na_is_missing(tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("\n".join([
        json.dumps({"headline": "Remarks", "body": "Good afternoon.", "day": "2023-05-05", "who": "NA",
                    "link": "N/A"}),
        "",
        json.dumps({"headline": "Remarks", "body": 42}),
    ]) + "\n", encoding="utf-8")
    first, second = iter_corpus(corpus, ColumnMap.parse("title=headline,text=body,date=day,speaker=who,url=link"))
    assert isinstance(first, Page) and first.content == b"Good afternoon." and first.url is None
    assert (first.hints.title, first.hints.date_text, first.hints.speaker) == ("Remarks", "2023-05-05", None)
    assert first.source.endswith("c.jsonl#row1") and second.source.endswith("c.jsonl#row3")
    assert second.content == b"42"


def test_a_csv_with_a_bom_and_a_missing_text_column_fails_every_row_with_the_columns(tmp_path):
    corpus = tmp_path / "c.csv"
    corpus.write_bytes("\ufeffheadline,day\nRemarks,2023-05-05\nTalks,2023-05-06\n".encode("utf-8"))
    outcomes = list(iter_corpus(corpus))
    assert [type(o) for o in outcomes] == [Failure, Failure]
    assert "no text in column 'text' (columns: headline, day)" in outcomes[0].reason


def test_corpus_files_and_folders_of_them_are_corpus_inputs(tmp_path):
    (tmp_path / "a.csv").write_text("text\nx\n")
    (tmp_path / "b.jsonl").write_text("{}\n")
    assert [i.kind for i in expand_archive_inputs([tmp_path])] == ["corpus", "corpus"]
    assert expand_archive_inputs([tmp_path / "a.csv"])[0].kind == "corpus"


def test_extract_prints_a_record_or_an_error_per_row_of_a_corpus(tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    corpus = tmp_path / "c.csv"
    corpus.write_text("day,transcript\n2023-05-05,\"Good afternoon.\n\nWe have held substantive talks with our "
                      "colleagues today.\"\nx\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["extract", str(corpus), "--columns", "date=day,text=transcript"])
    assert result.exit_code == 1
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["title"] is None and first["published_at"] == "2023-05-05T00:00:00+03:00"
    assert first["body"].startswith("Good afternoon.") and first["flags"] == ["no_title"]
    assert second["stage"] == "source" and second["path"].endswith("c.csv#row2")
    bad = CliRunner().invoke(app, ["extract", str(corpus), "--columns", "colour=red"])
    assert bad.exit_code == 2 and "unknown field 'colour'" in bad.output
