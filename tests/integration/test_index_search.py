"""Nested turn queries, search filters, stats and the search/stats commands, on the sample dumps."""

from __future__ import annotations

import json
import os
import subprocess

from pipeline.store import search as es_search

from tests.conftest import REPO


def mentions(es, text: str, word: str) -> bool:
    """Whether the field's analyzer makes a token ``word`` of ``text`` (the truth a match query uses)."""
    tokens = es.indices.analyze(analyzer="standard", text=text)["tokens"]
    return word.lower() in {t["token"] for t in tokens}


def test_answers_by_lavrov_that_mention_nato_return_exactly_those_turns(es, settings, index_alias,
                                                                        indexed_sample, sample_records):
    expected = {
        record.doc_id: sorted(t.text for t in record.turns
                              if t.speaker == "Sergey Lavrov" and t.role == "answer" and mentions(es, t.text, "NATO"))
        for record in sample_records
    }
    expected = {doc_id: turns for doc_id, turns in expected.items() if turns}
    assert expected, "the sample has answers by Lavrov about NATO"
    # a document where NATO is only in a statement or a question must not come back
    assert any(any(mentions(es, t.text, "NATO") for t in r.turns) and r.doc_id not in expected
               for r in sample_records)

    total, hits = es_search.search(es, index_alias, "NATO", speaker="sergey lavrov", role="answer",
                                   size=50, max_turns=100)
    assert total == len(expected)
    got = {hit.doc_id: sorted(t["text"] for t in hit.turns) for hit in hits}
    assert got == expected
    assert all(t["role"] == "answer" and t["speaker"] == "Sergey Lavrov" for hit in hits for t in hit.turns)


def test_plain_search_and_date_filter(es, settings, index_alias, indexed_sample, sample_records):
    total, _ = es_search.search(es, index_alias, "NATO", size=50)
    assert total == sum(1 for r in sample_records if mentions(es, r.title + "\n" + r.body, "NATO"))

    dates = sorted(r.published_at for r in sample_records)
    cut = dates[len(dates) // 2]
    total, hits = es_search.search(es, index_alias, None, date_from=cut, size=50)
    assert total == sum(1 for d in dates if d >= cut)
    assert all(h.published_at >= cut.isoformat()[:10] for h in hits)


def test_stats_count_per_language_month_and_dead_letters(es, settings, index_alias, indexed_sample, sample_records):
    data = es_search.stats(es, settings)
    assert data["total"] == len(sample_records)
    assert data["indices"] == [f"{index_alias}-v1"]
    assert sum(data["by_month"].values()) == len(sample_records)
    months = {}
    for r in sample_records:
        months[r.published_at.strftime("%Y-%m")] = months.get(r.published_at.strftime("%Y-%m"), 0) + 1
    assert data["by_month"] == months
    assert data["by_language"] == {"en": len(sample_records)}
    assert data["deadletters"] == 0


def run_cli(*args: str, alias: str, settings) -> subprocess.CompletedProcess:
    env = {**os.environ, "MFA_INDEX_ALIAS": alias, "MFA_DEADLETTER_INDEX": settings.deadletter_index,
           "MFA_STATE_DIR": str(settings.state_dir)}
    return subprocess.run([str(REPO / ".venv" / "bin" / "mfa-ingest"), *args], env=env, capture_output=True,
                          text=True, timeout=120)


def test_search_and_stats_commands(es, settings, index_alias, indexed_sample, sample_records):
    done = run_cli("search", "NATO", "--speaker", "Sergey Lavrov", "--role", "answer", "--json",
                   alias=index_alias, settings=settings)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["total"] >= 1
    assert all("nato" in t["text"].lower() for h in out["hits"] for t in h["turns"])

    done = run_cli("stats", alias=index_alias, settings=settings)
    assert done.returncode == 0, done.stderr
    assert f"{len(sample_records)} documents" in done.stdout
