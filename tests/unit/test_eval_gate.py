"""Evaluation gate: on the whole labelled set our extraction keeps every speech
paragraph, leaves no boilerplate and gets every metadata field right, and the
report measures trafilatura on the same HTML pages."""

from pipeline.evaluation.evaluate import evaluate, totals
from pipeline.profile import get_profile


def test_labelled_set_passes_the_gate():
    results = evaluate(get_profile())
    ours, ours_html, theirs = totals(results)
    assert len(results) >= 12 and ours_html.paragraphs_total > 0
    assert ours.paragraphs_kept == ours.paragraphs_total
    assert ours.boilerplate_left == 0 and ours.other_lines == 0
    assert ours.fields_right == ours.fields_total, [r.ours.wrong_fields for r in results if r.ours.wrong_fields]
    # trafilatura ran on every HTML case, and we leave no more boilerplate than it does
    assert theirs.paragraphs_total == ours_html.paragraphs_total
    assert ours_html.boilerplate_left <= theirs.boilerplate_left
