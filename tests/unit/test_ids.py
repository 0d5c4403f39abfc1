"""pipeline.model.ids: each key defined once, tested once."""

from datetime import datetime, timedelta

from pipeline.model.ids import canonical_url, deadletter_id, document_id, host_key, state_key
from pipeline.model.records import MOSCOW, Failure, validate_record

from .test_records import fields


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


def test_host_key_folds_case_www_and_trailing_dot():
    assert host_key("WWW.Mid.RU.") == host_key("mid.ru") == "mid.ru"
    assert host_key("archive.mid.ru") == "archive.mid.ru"


def test_state_key_follows_the_canonical_url():
    assert state_key("https://www.mid.ru/en/foreign_policy/news/123/?utm_source=x") == \
        state_key("http://mid.ru/en/foreign_policy/news/123")
    assert state_key("https://mid.ru/en/foreign_policy/news/123/?lang=ru") != state_key("https://mid.ru/en/foreign_policy/news/123/")
    assert state_key("https://mid.ru/x").startswith("doc-")


def test_deadletter_id_is_stable_per_refusal():
    a = Failure(source="a.txt", stage="extract", reason="no title")
    assert deadletter_id(a) == deadletter_id(Failure(source="a.txt", stage="extract", reason="no title"))
    assert deadletter_id(a) != deadletter_id(Failure(source="a.txt", stage="index", reason="no title"))
