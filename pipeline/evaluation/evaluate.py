"""Evaluation of the extract stage on the labelled set, with trafilatura beside it.

Reads the expected files (``*.expected.json``) in pipeline/data/seeds (the five
real text dumps) and pipeline/data/eval (HTML pages in both layouts): each names
its input file, the speech paragraphs, the boilerplate lines and the metadata.
For every case it measures, for our extraction and (on HTML) for trafilatura:
paragraphs kept verbatim, known boilerplate lines left, other lines that are not
speech, and metadata fields right, and per field its precision (of the values we gave,
the share that is right) and recall (of the values the page has, the share we gave
right); a field the page does not have is null or []. Nothing here is asserted: the
report is what ``mfa-ingest eval`` prints; the unit tests assert on the same files.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.model.errors import PipelineError
from pipeline.extract.extractor import extract_record
from pipeline.profile import SiteProfile
from pipeline.model.records import Page

DATA = Path(__file__).resolve().parents[1] / "data"
DEFAULT_CASE_DIRS = (DATA / "seeds", DATA / "eval", DATA / "unseen")
OUR_FIELDS = ("title", "published_at", "location", "language", "languages", "doc_number", "section", "questions",
              "translation_note")
TRAFILATURA_FIELDS = ("title", "date")


def _norm(line: str) -> str:
    return re.sub(r"\s+", " ", line.replace("\u00a0", " ")).strip()


@dataclass
class Score:
    """One extractor on one case."""

    paragraphs_kept: int = 0
    paragraphs_total: int = 0
    boilerplate_left: int = 0
    other_lines: int = 0  # lines that are neither speech nor known boilerplate
    fields_right: int = 0
    fields_total: int = 0
    wrong_fields: list[str] = field(default_factory=list)
    error: str | None = None
    # per field: [right values given, wrong values given, values the page has that we missed]
    per_field: dict[str, list[int]] = field(default_factory=dict)

    def add(self, other: "Score") -> None:
        for name in ("paragraphs_kept", "paragraphs_total", "boilerplate_left", "other_lines",
                     "fields_right", "fields_total"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name, counts in other.per_field.items():
            mine = self.per_field.setdefault(name, [0, 0, 0])
            for k in range(3):
                mine[k] += counts[k]

    def count_field(self, name: str, got, want) -> None:
        """Tally one field: right or wrong when we gave a value, missed when the page has one."""
        counts = self.per_field.setdefault(name, [0, 0, 0])
        given, present = got not in (None, []), want not in (None, [])
        if given and got == want:
            counts[0] += 1
        elif given:
            counts[1] += 1
        if present and got != want:
            counts[2] += 1

    def precision_recall(self, name: str) -> tuple[float, float]:
        right, wrong, missed = self.per_field.get(name, [0, 0, 0])
        precision = right / (right + wrong) if right + wrong else 1.0
        recall = right / (right + missed) if right + missed else 1.0
        return precision, recall


@dataclass
class CaseResult:
    name: str
    kind: str  # "text" or "html"
    ours: Score
    trafilatura: Score | None = None


def load_cases(dirs: tuple[Path, ...] = DEFAULT_CASE_DIRS) -> list[tuple[str, dict]]:
    cases = []
    for folder in dirs:
        for path in sorted(Path(folder).glob("*.expected.json")):
            cases.append((path.name.removesuffix(".expected.json"), json.loads(path.read_text(encoding="utf-8"))))
    return cases


def score_lines(lines: list[str], expected: dict) -> Score:
    """How the output lines compare with the expected paragraphs and boilerplate."""
    got = [_norm(line) for line in lines if _norm(line)]
    got_set = set(got)
    speech = {_norm(p) for p in expected["paragraphs"]}
    boilerplate = {_norm(b) for b in expected["boilerplate"]} - speech
    title = _norm(expected["title"] or "")  # None: the input names no title
    return Score(
        paragraphs_kept=sum(1 for p in speech if p in got_set),
        paragraphs_total=len(speech),
        boilerplate_left=sum(1 for b in boilerplate if b in got_set),
        other_lines=sum(1 for line in got if line not in speech and line not in boilerplate and line != title),
    )


def score_ours(expected: dict, root: Path, profile: SiteProfile) -> Score:
    path = root / expected["input"]
    try:
        record = extract_record(Page(source=str(path), content=path.read_bytes(), url=expected.get("url")), profile)
    except PipelineError as exc:
        return Score(paragraphs_total=len(expected["paragraphs"]), fields_total=len(OUR_FIELDS), error=exc.reason)
    score = score_lines(record.body.split("\n\n"), expected)
    got = record.model_dump(mode="json")
    got["questions"] = sum(1 for t in record.turns if t.role == "question")
    score.fields_total = len(OUR_FIELDS)
    for name in OUR_FIELDS:
        score.count_field(name, got[name], expected.get(name))
        if got[name] == expected.get(name):
            score.fields_right += 1
        else:
            score.wrong_fields.append(name)
    return score


def score_trafilatura(expected: dict, root: Path) -> Score:
    import trafilatura

    html = (root / expected["input"]).read_bytes()
    document = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False)
    text = getattr(document, "text", None) if document is not None else None
    if not text:
        return Score(paragraphs_total=len(expected["paragraphs"]), fields_total=len(TRAFILATURA_FIELDS),
                     error="no text")
    score = score_lines(text.splitlines(), expected)
    score.fields_total = len(TRAFILATURA_FIELDS)
    want_title = _norm(expected["title"] or "") or None  # None: the input names no title
    score.count_field("title", _norm(document.title or "") or None, want_title)
    score.count_field("date", (document.date or "")[:10] or None, expected["published_at"][:10])
    if (_norm(document.title or "") or None) == want_title:
        score.fields_right += 1
    else:
        score.wrong_fields.append("title")
    if (document.date or "")[:10] == expected["published_at"][:10]:
        score.fields_right += 1
    else:
        score.wrong_fields.append("date")
    return score


def evaluate(profile: SiteProfile, dirs: tuple[Path, ...] = DEFAULT_CASE_DIRS, root: Path = DATA,
             with_trafilatura: bool = True) -> list[CaseResult]:
    results = []
    for name, expected in load_cases(dirs):
        kind = "html" if expected["input"].endswith((".html", ".htm")) else "text"
        result = CaseResult(name=name, kind=kind, ours=score_ours(expected, root, profile))
        if with_trafilatura and kind == "html":
            result.trafilatura = score_trafilatura(expected, root)
        results.append(result)
    return results


def totals(results: list[CaseResult]) -> tuple[Score, Score, Score]:
    """(ours on every case, ours on the HTML cases, trafilatura on the HTML cases)."""
    ours, ours_html, theirs = Score(), Score(), Score()
    for result in results:
        ours.add(result.ours)
        if result.trafilatura is not None:
            ours_html.add(result.ours)
            theirs.add(result.trafilatura)
    return ours, ours_html, theirs
