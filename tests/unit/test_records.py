"""The Transcript model: validation reasons, Moscow time, stable ids and hashes."""

import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.errors import RecordRejected
from pipeline.records import MOSCOW, canonical_url, content_hash, document_id, validate_record


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


def test_document_id_is_stable_and_url_based_when_url_known():
    a = validate_record(fields(url="https://www.mid.ru/en/press_service/minister_speeches/1745012/?utm=x#top"))
    b = validate_record(fields(url="http://mid.ru/en/press_service/minister_speeches/1745012", body="Edited text."))
    assert document_id(a) == document_id(b)
    other_lang = validate_record(fields(url="https://mid.ru/en/press_service/minister_speeches/1745012/?lang=ru"))
    assert document_id(other_lang) != document_id(a)


def test_document_id_without_url_depends_on_language_date_and_title():
    a = validate_record(fields())
    assert document_id(a) == document_id(validate_record(fields(body="Other body")))
    later = fields(published_at=datetime(2020, 12, 1, 19, 32, tzinfo=MOSCOW) + timedelta(days=1))
    assert document_id(a) != document_id(validate_record(later))


def test_canonical_url_keeps_only_meaningful_parts():
    assert canonical_url("HTTPS://WWW.MID.RU/en/foreign_policy/news/123/?b=2&lang=de#x") == \
        "https://mid.ru/en/foreign_policy/news/123?lang=de"
