"""The english/russian analyzers on the project's node (plugins/analysis-lang, installed by
scripts/es.sh) and the transcripts template mapping the language sub-fields with them."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from mfa_replica.content import base_articles
from pipeline.store import design


def tokens(es, analyzer: str, text: str) -> list[str]:
    return [t["token"] for t in es.indices.analyze(analyzer=analyzer, text=text)["tokens"]]


def test_the_node_has_the_russian_and_english_analyzers_with_stemming(es):
    assert tokens(es, "russian", "санкций") == tokens(es, "russian", "санкции") == tokens(es, "russian", "санкциями")
    assert tokens(es, "russian", "Лаврова") == tokens(es, "russian", "Лавровым")
    # the defaults of Elasticsearch's built-ins: stop words dropped, Porter stems
    assert tokens(es, "english", "The sanctions were sanctioned") == ["sanction", "were", "sanction"]
    assert tokens(es, "russian", "и в санкциях") == tokens(es, "russian", "санкциях")


def test_the_template_maps_the_language_subfields_with_those_analyzers(es, settings, index_alias):
    design.ensure_index(es, settings)
    props = es.indices.get_mapping(index=f"{index_alias}-v1")[f"{index_alias}-v1"]["mappings"]["properties"]
    for field in (props["title"], props["body"], props["turns"]["properties"]["text"]):
        assert field["fields"]["ru"] == {"type": "text", "analyzer": "russian_initials"}
        assert field["fields"]["en"] == {"type": "text", "analyzer": "english"}


def test_the_russian_field_is_the_russian_analyzer_with_initials_parted(es, settings, index_alias):
    """russian_initials (the overlay's analysis, on the plugin's pattern_replace and russian_stem here,
    on analysis-common's on a full Elasticsearch): the russian analyzer's tokens, except that initials
    glued to a surname are parted from it (one token ``в.в.маке`` before)."""
    index = f"{index_alias}-v1"
    design.ensure_index(es, settings)

    def ours(text: str) -> list[str]:
        return [t["token"] for t in es.indices.analyze(index=index, analyzer="russian_initials", text=text)["tokens"]]

    text = "Переговоры с послами и санкциями в 2.5 раза"
    assert ours(text) == tokens(es, "russian", text)
    assert ours("В.В.Макеем, С.В.Лаврова") == ["маке", "лавров"]  # the initials в, с are stop words
    assert tokens(es, "russian", "В.В.Макеем") == ["в.в.маке"]


def test_an_index_made_with_the_plain_russian_analyzer_is_rebuilt_by_reindex(es, settings, index_alias):
    """An index of the release before russian_initials (``.ru`` on the ``russian`` analyzer, no analysis
    settings): a write names the fix (its analyzer cannot change in place), and ``reindex`` itself,
    which used to stop on the same check, rebuilds it with the current design."""
    from pipeline.context import RunContext
    from pipeline.jobs.rebuild import rebuild
    from pipeline.model.errors import ConfigError
    from pipeline.store import search, writer
    from tests.integration.test_search_language import record

    alias = design.ensure_index(es, settings)
    concrete = design.write_index(es, alias)
    es.indices.delete(index=concrete)
    es.indices.delete_index_template(name=design.template_name(alias))  # the index as the release before made it
    old = design.declared_mappings(settings, with_languages=True)
    for field in (old["properties"]["title"], old["properties"]["body"], old["properties"]["turns"]["properties"]["text"]):
        field["fields"]["ru"]["analyzer"] = "russian"
    es.indices.create(index=concrete, mappings=old, settings=design.load_template(settings)["template"]["settings"],
                      aliases={alias: {"is_write_index": True}})
    named = record(21, "ru", "Переговоры", "Переговоры с В.В.Макеем.")
    list(writer.index_records(es, [named], index=concrete, settings=settings))
    es.indices.refresh(index=concrete)
    assert search.search(es, alias, "Макею")[0] == 0

    with pytest.raises(ConfigError, match="mfa-ingest reindex"):
        design.ensure_index(es, settings)
    result = rebuild(RunContext.build(settings, es=es))
    assert result.swapped and result.new_count == 1
    assert design.write_index(es, alias) == f"{index_alias}-v2"
    assert [h.doc_id for h in search.search(es, alias, "Макею")[1]] == [named.doc_id]
    design.ensure_index(es, settings)  # writes go on


# The pattern the initials filter had first (December 6, 2026): the letter before the dot, tested at
# every position of the text; the shipped one finds the dot first (about half the filter's cost, bench/analysis_bench.py).
FIRST_PATTERN = r"(?<=\p{L})\.(?=\p{L})"


def test_the_initials_filter_parts_exactly_what_its_first_pattern_parted(es, settings, index_alias):
    """The shipped char filter gives the tokens (and positions, offsets) the first pattern gave on
    every text here: initials, abbreviations, numbers, domains, letters outside the BMP, marks."""
    index = f"{index_alias}-initials"
    analysis = copy.deepcopy(design.load_overlay(settings)["analysis"])
    analysis["char_filter"]["first_pattern"] = {**analysis["char_filter"]["initials_apart"], "pattern": FIRST_PATTERN}
    analysis["analyzer"]["as_first"] = {**analysis["analyzer"]["russian_initials"], "char_filter": ["first_pattern"]}
    es.indices.create(index=index, settings={"analysis": analysis})
    texts = [
        "В.В.Макеем, С.В.Лаврова и М.В.Захаровой", "С. В. Лавров", "т.е. и т.д.", "США.Россия", "mid.ru и www.mid.ru",
        "в 2.5 раза", "2.a и a.2 и v2.0", ".Начало", "Конец.", "...", "а..б", "Lavrov's remarks. Next sentence.",
        "𝐀.𝐁 и 𠀀.𠀁", "и\u0306.А", "A.B.C.", "Ж.", "J.R.R.Tolkien",
    ]
    texts += ["\n\n".join([a.title, *a.paragraphs]) for a in base_articles(date(2026, 1, 15))]  # both languages

    def analysed(analyzer: str, text: str) -> list[tuple]:
        return [(t["token"], t["position"], t["start_offset"], t["end_offset"])
                for t in es.indices.analyze(index=index, analyzer=analyzer, text=text)["tokens"]]

    for text in texts:
        assert analysed("russian_initials", text) == analysed("as_first", text), text[:80]
    assert analysed("russian_initials", "В.В.Макеем")[0][0] == "маке"  # the test compares parted tokens
