"""Random and malformed input never crashes extract: a record or a named, one-line refusal."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.model.errors import DropPage, PipelineError
from pipeline.extract.extractor import extract_record
from pipeline.context import get_profile
from pipeline.model.records import Page, Transcript

ROOT = Path(__file__).resolve().parents[2]
HTML = (ROOT / "pipeline/data/eval/current_ru_leaky.html").read_bytes()
DUMP = (ROOT / "sample/dumps/004_a54e5a7d9c75470d.txt").read_bytes()
PROFILE = get_profile()


def _outcome(content: bytes, content_type: str | None = None) -> Transcript | PipelineError:
    try:
        return extract_record(Page(source="prop", content=content, content_type=content_type), PROFILE)
    except PipelineError as exc:
        assert exc.reason and "\n" not in exc.reason
        return exc


mangled = st.one_of(
    st.binary(max_size=4000),
    st.text(max_size=2000).map(lambda t: t.encode("utf-8")),
    st.integers(0, len(HTML)).map(lambda n: HTML[:n]),                       # truncated HTML
    st.integers(0, len(DUMP)).map(lambda n: DUMP[:n]),                       # truncated dump
    st.sampled_from(["cp1251", "utf-16", "latin-1", "koi8-r"]).map(          # wrong or unusual encodings
        lambda enc: HTML.decode("utf-8").encode(enc, errors="replace")),
    st.tuples(st.integers(0, len(HTML)), st.binary(min_size=1, max_size=50)).map(  # bytes spliced in
        lambda t: HTML[: t[0]] + t[1] + HTML[t[0]:]),
    st.text(alphabet="<>/=\"' apdivclshtml&;#\n", max_size=500).map(str.encode),  # tag soup
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=mangled, content_type=st.sampled_from([None, "text/html", "text/plain", "text/html; charset=koi8-r"]))
def test_never_crashes(content, content_type):
    assert isinstance(_outcome(content, content_type), (Transcript, PipelineError))


def test_huge_input_is_refused_without_parsing():
    outcome = _outcome(b"<p>" + b"a" * (50 * 1024 * 1024) + b"</p>")
    assert isinstance(outcome, DropPage) and "too large" in outcome.reason


def test_cli_goes_on_after_bad_inputs_and_exits_non_zero(tmp_path):
    binary = tmp_path / "photo.jpg"
    binary.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    huge = tmp_path / "huge.html"
    with huge.open("wb") as handle:  # 50 MB
        handle.write(b"<html><body>")
        for _ in range(50):
            handle.write(b"<p>" + b"x" * (1024 * 1024) + b"</p>")
    truncated = tmp_path / "truncated.html"
    truncated.write_bytes(HTML[: len(HTML) // 2])
    paths = [str(binary), str(ROOT / "sample/dumps/000_dcbbeb771279dad1.txt"), str(empty), str(huge),
             str(tmp_path / "missing.txt"), str(truncated), str(ROOT / "pipeline/data/eval/archive_ru_cp1251.html")]
    result = CliRunner().invoke(app, ["extract", *paths])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 1
    assert len(lines) == len(paths)
    errors = {Path(obj["path"]).name: obj["error"] for obj in lines if "error" in obj}
    assert set(errors) == {"photo.jpg", "empty.txt", "huge.html", "missing.txt"}
    assert "binary" in errors["photo.jpg"] and "empty" in errors["empty.txt"] and "too large" in errors["huge.html"]
    assert lines[1]["doc_number"] is None and lines[1]["published_at"] == "2020-12-01T19:32:00+03:00"
    assert lines[-1]["language"] == "ru" and lines[-1]["location"] == "Москва"
    assert lines[5]["title"].startswith("Выступление")  # the first half still holds a record


def test_cli_reads_stdin_with_url_and_pretty():
    result = CliRunner().invoke(app, ["extract", "--pretty", "--url", "https://mid.ru/en/press_service/1/", "-"],
                                input=DUMP)
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["url"] == "https://mid.ru/en/press_service/1/"
    assert record["source"] == "<stdin>"
    assert result.stdout.startswith("{\n  ")
    assert set(record) >= {"title", "published_at", "location", "language", "languages", "doc_number", "section",
                           "url", "body", "turns", "speakers", "word_count", "content_hash"}


def test_eval_command_prints_per_case_and_totals():
    result = CliRunner().invoke(app, ["eval", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    names = {case["name"] for case in report["cases"]}
    assert "002_4c4fda81a0b6908f" in names and "current_en_leaky" in names
    ours = report["total"]["ours"]
    assert ours["paragraphs_kept"] == ours["paragraphs_total"] > 200
    assert ours["boilerplate_left"] == 0
    assert ours["fields_right"] == ours["fields_total"]
    assert report["total"]["trafilatura_html"]["paragraphs_total"] == report["total"]["ours_html"]["paragraphs_total"]
