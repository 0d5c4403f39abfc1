"""The writer's _bulk request bodies (``writer.bulk_bodies``): the lines ``helpers.bulk`` would send,
in order, each action once, in parts only when a body would pass the byte limit."""

from __future__ import annotations

import json

from elasticsearch import helpers

from pipeline.store import writer

ACTIONS = [
    {"_op_type": "create", "_index": "docs", "_id": "a", "_source": '{"title":"Выступление","n":1}'},
    {"_op_type": "index", "_index": "docs", "_id": "b", "if_seq_no": 3, "if_primary_term": 1,
     "_source": {"title": "Remarks", "n": 2}},
    {"_op_type": "update", "_index": "history", "_id": "c", "retry_on_conflict": 5,
     "doc": {"last_seen": "2026-12-06T10:00:00+00:00"}, "upsert": {"doc_id": "c"}},
    {"_op_type": "delete", "_index": "docs", "_id": "d"},
]


def helper_lines(actions: list[dict]) -> list[dict]:
    """What elasticsearch-py's own helper makes of the actions, line by line."""
    lines = []
    for action in actions:
        head, data = helpers.expand_action(action)
        lines.append(head)
        if data is not None:
            lines.append(json.loads(data) if isinstance(data, str) else data)
    return lines


def test_one_body_holds_the_lines_the_bulk_helper_would_send_in_order():
    (batch, body), = writer.bulk_bodies(ACTIONS)
    assert batch == ACTIONS
    assert body.endswith(b"\n") and not body.endswith(b"\n\n")
    assert [json.loads(line) for line in body.splitlines()] == helper_lines(ACTIONS)
    assert "Выступление".encode() in body  # a document given as JSON text goes in as is, not escaped


def test_a_body_over_the_limit_goes_in_parts_each_action_once_in_order():
    first = len(b"".join(body for _, body in writer.bulk_bodies(ACTIONS[:1])))
    parts = list(writer.bulk_bodies(ACTIONS, max_bytes=first + 10))
    assert len(parts) > 1
    assert [action for batch, _ in parts for action in batch] == ACTIONS
    assert all(len(body) <= first + 10 or len(batch) == 1 for batch, body in parts)
    lines = [json.loads(line) for _, body in parts for line in body.splitlines()]
    assert lines == helper_lines(ACTIONS)
