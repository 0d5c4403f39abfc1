"""The Transcript model: validation reasons, Moscow time, hashes."""

import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.model.errors import RecordRejected
from pipeline.model.records import MOSCOW, content_hash, validate_record


def fields(**over):
    base = dict(
        title="Foreign Minister Sergey Lavrov’s remarks, Moscow, December 1, 2020",
        published_at=datetime(2020, 12, 1, 19, 32, tzinfo=MOSCOW),
        language="en",
        body="Good afternoon.\n\nWe have held a meeting.",
    )
    base.update(over)
    return base


def test_valid_record_serialises_with_moscow_offset():
    record = validate_record(fields(published_at=datetime(2020, 12, 1, 16, 32, tzinfo=timezone.utc)))
    data = record.model_dump(mode="json")
    assert data["published_at"] == "2020-12-01T19:32:00+03:00"
    assert data["word_count"] == 7
    assert data["content_hash"] == content_hash(record.body)


@pytest.mark.parametrize(
    "override, reason_part",
    [
        ({"title": "  "}, "title"),
        ({"published_at": None}, "published_at"),
        ({"published_at": datetime(2020, 12, 1, 19, 32)}, "published_at"),
        ({"body": ""}, "body"),
        ({"body": " \n\n -- "}, "no words"),
    ],
)
def test_invalid_records_are_refused_with_a_reason(override, reason_part):
    with pytest.raises(RecordRejected) as err:
        validate_record(fields(**override))
    assert reason_part in err.value.reason


def test_hash_ignores_whitespace_differences_only():
    assert content_hash("A  b\n\nc") == content_hash("A b c")
    assert content_hash("A b c") != content_hash("A b d")


def test_hash_is_sha256_of_the_nfc_body_with_whitespace_collapsed():
    decomposed = "Cafe\u0301  au\n\nlait "  # e + combining acute: NFC makes it one character
    expected = hashlib.sha256("Caf\u00e9 au lait".encode("utf-8")).hexdigest()
    assert content_hash(decomposed) == expected
    assert validate_record(fields(body=decomposed)).content_hash == expected
