"""mfa-ingest eval --search: the judged query set on the node, recall@10 and MRR per language for
the language fields and the standard analyzer; the suite fails when recall drops below the floor
recorded in pipeline.evaluation.search_eval.RECORDED."""

from __future__ import annotations

import json
import os
import subprocess

from pipeline.evaluation.search_eval import RECORDED, load_judged
from tests.conftest import REPO


def test_the_judged_set_is_big_enough_and_in_both_languages():
    queries = load_judged()
    per_language = {lang: [q for q in queries if q["language"] == lang] for lang in ("ru", "en")}
    assert len(queries) >= 70 and all(len(qs) >= 35 for qs in per_language.values())
    assert all(sum(not q["relevant"] for q in qs) >= 5 for qs in per_language.values())  # some must find nothing


def test_eval_search_reports_both_analyzers_and_holds_the_recorded_recall(es, index_alias):
    done = subprocess.run([str(REPO / ".venv" / "bin" / "mfa-ingest"), "eval", "--search", "--json"],
                          env=dict(os.environ), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    assert set(figures) == {"language", "standard"}
    for lang, floor in RECORDED.items():
        ours, base = figures["language"][lang], figures["standard"][lang]
        assert ours["recall_at_10"] >= floor, ours["misses"]
        assert ours["recall_at_10"] > base["recall_at_10"] and ours["mrr"] >= base["mrr"]
        done_ok, wanted = ours["empty_ok"].split("/")
        assert done_ok == wanted  # the queries that must return nothing return nothing
    table = subprocess.run([str(REPO / ".venv" / "bin" / "mfa-ingest"), "eval", "--search"],
                           env=dict(os.environ), capture_output=True, text=True, timeout=600)
    assert "recall@10" in table.stdout and "MRR" in table.stdout
