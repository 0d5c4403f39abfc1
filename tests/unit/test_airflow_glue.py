"""mfa_airflow: the Elasticsearch URL and credentials from an Airflow connection."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from mfa_airflow import es_url_from_connection, resolve_input_path, site_values_from_connection


def conn(**kw):
    base = dict(conn_type="http", host="127.0.0.1", port=9200, schema="", login=None, password=None, extra_dejson={})
    base.update(kw)
    return SimpleNamespace(**base)


@pytest.mark.parametrize(
    "connection, url",
    [
        (conn(), "http://127.0.0.1:9200"),
        (conn(conn_type="https", host="es.example.org", port=None), "https://es.example.org"),
        (conn(conn_type="elasticsearch", extra_dejson={"scheme": "https"}, port=9243), "https://127.0.0.1:9243"),
        (conn(conn_type="generic", host="http://es:9200/", port=None), "http://es:9200"),
        (conn(schema="prefix"), "http://127.0.0.1:9200/prefix"),
    ],
)
def test_es_url_from_connection(connection, url):
    assert es_url_from_connection(connection) == url


def test_relative_dag_paths_resolve_against_the_project(monkeypatch, tmp_path):
    monkeypatch.setenv("MFA_REPO", str(tmp_path))
    assert resolve_input_path("sample/dumps") == tmp_path / "sample" / "dumps"
    assert resolve_input_path("/abs/x") == Path("/abs/x")


def test_site_values_from_the_mfa_site_connection():
    site = conn(host="127.0.0.1", port=8081, extra_dejson={"archive_url": "http://127.0.0.1:8082",
                                                           "allowed_private_hosts": "127.0.0.1"})
    assert site_values_from_connection(site) == {"crawl_base_url": "http://127.0.0.1:8081",
                                                 "crawl_archive_url": "http://127.0.0.1:8082",
                                                 "crawl_allowed_private_hosts": ["127.0.0.1"]}
    assert site_values_from_connection(conn(conn_type="https", host="mid.example", port=None)) == {
        "crawl_base_url": "https://mid.example"}


def test_permanent_errors_fail_without_retry_and_transient_ones_pass_through():
    from airflow.sdk.exceptions import AirflowFailException
    from elastic_transport import ApiResponseMeta, ConnectionError as TransportConnectionError, HttpHeaders
    from elasticsearch import NotFoundError

    from mfa_airflow import permanent_errors
    from pipeline.model.errors import ConfigError

    meta = ApiResponseMeta(status=404, http_version="1.1", headers=HttpHeaders(), duration=0.0, node=None)
    for permanent in (ConfigError("site profile is invalid"), NotFoundError("index_not_found_exception", meta, {})):
        with pytest.raises(AirflowFailException):
            with permanent_errors():
                raise permanent
    with pytest.raises(TransportConnectionError):  # retried by Airflow
        with permanent_errors():
            raise TransportConnectionError("connection refused")


def test_the_connections_ca_and_credentials_reach_the_settings(monkeypatch):
    """The compose file's connection URI: https, the pipeline user, the CA of the node's certificates."""
    import mfa_airflow
    from airflow.models.connection import Connection

    uri = "https://mfa_pipeline:s3cret@elasticsearch:9200?ca_certs=%2Fcerts%2Fca%2Fca.crt"
    monkeypatch.setattr(mfa_airflow, "_connection", lambda conn_id, **kw: (
        Connection(conn_id=conn_id, uri=uri) if conn_id == mfa_airflow.ES_CONN_ID else None))
    settings = mfa_airflow.settings_from_airflow()
    assert settings.es_url == "https://elasticsearch:9200"
    assert (settings.es_username, settings.es_password.get_secret_value()) == ("mfa_pipeline", "s3cret")
    assert settings.es_ca_certs == Path("/certs/ca/ca.crt")


def test_archive_inputs_given_as_urls_stay_urls():
    from mfa_airflow import resolve_input_path

    assert resolve_input_path("s3://bucket/warc/") == "s3://bucket/warc/"
    assert resolve_input_path("file:///data/warc") == "file:///data/warc"
