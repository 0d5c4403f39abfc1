"""Elasticsearch stopped in the middle of a bulk ingest (a private node, never the shared one).

Either the run rides out the outage with retries, or it fails clearly; in both
cases a re-run ends with exactly the expected documents: same ids, same
content hashes, nothing duplicated, nothing missing.
"""

from __future__ import annotations

import threading
import uuid

import pytest

from pipeline.store import client as es_client
from pipeline.store import design
from pipeline.store import writer
from pipeline.model.errors import IndexingError
from pipeline.settings import Settings

from tests.integration.test_index import make_record

N_DOCS = 1500
STOP_AFTER = 400


def stored_hashes(es, alias: str) -> dict[str, str]:
    es.indices.refresh(index=alias)
    from elasticsearch import helpers

    return {h["_id"]: h["_source"]["content_hash"]
            for h in helpers.scan(es, index=alias, source=["content_hash"], size=1000)}


@pytest.fixture
def outage_setup(private_node, tmp_path):
    alias = f"mfa-test-outage-{uuid.uuid4().hex[:8]}"
    settings = Settings(es_url=private_node.url, index_alias=alias, deadletter_index=f"{alias}-deadletter",
                        state_dir=tmp_path / "state", bulk_chunk_size=100)
    es = es_client.connect(settings)
    design.ensure_index(es, settings)
    records = [make_record(n, body=f"Transcript {n}: " + "words of the minister " * (n % 7 + 1)) for n in range(N_DOCS)]
    expected = {r.doc_id: r.content_hash for r in records}
    assert len(expected) == N_DOCS
    yield es, settings, records, expected
    if private_node_answers(es):
        names = list(es.indices.get(index=f"{alias}-v*", expand_wildcards="all").body)
        if names:
            es.indices.delete(index=",".join(names))
        es.indices.delete_index_template(name=design.template_name(alias))
    es.close()


def private_node_answers(es) -> bool:
    try:
        return bool(es.options(request_timeout=2, max_retries=0).cluster.health())
    except Exception:
        return False


def test_run_rides_out_a_restart_and_ends_with_exactly_the_expected_documents(private_node, outage_setup):
    es, settings, records, expected = outage_setup
    outcomes = []
    restart = threading.Thread(target=private_node.start)
    for outcome in writer.index_records(es, records, index=settings.index_alias, settings=settings, retry_window=180):
        outcomes.append(outcome)
        if len(outcomes) == STOP_AFTER:
            private_node.stop()
            assert not private_node_answers(es)
            restart.start()
    restart.join()
    assert len(outcomes) == N_DOCS
    assert {o.doc_id for o in outcomes} == set(expected)
    assert all(o.status in ("created", "updated") for o in outcomes), [o for o in outcomes if o.status == "failed"][:3]
    assert stored_hashes(es, settings.index_alias) == expected

    again = list(writer.index_records(es, records, index=settings.index_alias, settings=settings))
    assert {o.status for o in again} == {"unchanged"}
    assert es.count(index=settings.index_alias)["count"] == N_DOCS


def test_run_that_gives_up_fails_clearly_and_the_rerun_completes_exactly(private_node, outage_setup):
    es, settings, records, expected = outage_setup
    acknowledged = []
    with pytest.raises(IndexingError, match="did not answer"):
        for outcome in writer.index_records(es, records, index=settings.index_alias, settings=settings,
                                              retry_window=3):
            acknowledged.append(outcome)
            if len(acknowledged) == STOP_AFTER:
                private_node.stop()
    # every input read has an outcome before the run ends: the acknowledged ones, and a failure for
    # each input of the chunks in flight that got no answer
    written = [o for o in acknowledged if o.status != "failed"]
    assert STOP_AFTER <= len(written) < N_DOCS
    assert all(o.reason.startswith("no answer from Elasticsearch") for o in acknowledged if o.status == "failed")
    private_node.start()

    # what was acknowledged before the outage is stored; the re-run skips it and adds the rest
    assert set(stored_hashes(es, settings.index_alias)) >= {o.doc_id for o in written}
    rerun = list(writer.index_records(es, records, index=settings.index_alias, settings=settings))
    statuses = {}
    for o in rerun:
        statuses[o.status] = statuses.get(o.status, 0) + 1
    assert statuses.get("unchanged", 0) >= len(written)
    assert "failed" not in statuses
    assert stored_hashes(es, settings.index_alias) == expected
    assert es.count(index=settings.index_alias)["count"] == N_DOCS
