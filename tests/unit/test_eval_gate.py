"""Evaluation gate: on the whole labelled set (the seeds, the generated HTML cases and the
hand-written unseen cases of pipeline/data/unseen) our extraction keeps every speech
paragraph, leaves no boilerplate and gets every metadata field right (precision and
recall 100% per field), and the report measures trafilatura on the same HTML pages."""

from pipeline.evaluation.evaluate import evaluate, totals
from pipeline.context import get_profile


def test_labelled_set_passes_the_gate():
    results = evaluate(get_profile())
    ours, ours_html, theirs = totals(results)
    assert len(results) >= 40 and ours_html.paragraphs_total > 0
    assert sum(1 for r in results if r.name.startswith(("cur_", "arc_", "txt_", "seed"))) >= 30  # the unseen set
    assert ours.paragraphs_kept == ours.paragraphs_total
    assert ours.boilerplate_left == 0 and ours.other_lines == 0
    assert ours.fields_right == ours.fields_total, [(r.name, r.ours.wrong_fields) for r in results if r.ours.wrong_fields]
    # every field: right whenever given (precision) and given whenever the page has it (recall)
    assert {name: ours.precision_recall(name) for name in ours.per_field} == {
        name: (1.0, 1.0) for name in ours.per_field}
    assert {"languages", "doc_number", "published_at", "translation_note"} <= set(ours.per_field)
    # trafilatura ran on every HTML case, and we leave no more boilerplate than it does
    assert theirs.paragraphs_total == ours_html.paragraphs_total
    assert ours_html.boilerplate_left <= theirs.boilerplate_left
