"""The english/russian analyzers on the project's node (plugins/analysis-lang, installed by
scripts/es.sh) and the transcripts template mapping the language sub-fields with them."""

from __future__ import annotations

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
        assert field["fields"]["ru"] == {"type": "text", "analyzer": "russian"}
        assert field["fields"]["en"] == {"type": "text", "analyzer": "english"}
