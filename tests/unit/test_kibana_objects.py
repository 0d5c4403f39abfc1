"""config/kibana/*.ndjson: it parses, its references resolve, every field it names is in the mapping;
and kibana-import sends it the way Kibana's saved-objects API expects (to a local HTTP server)."""

from __future__ import annotations

import json
import threading
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.store import design
from pipeline.store import kibana
from pipeline.model.errors import ConfigError
from pipeline.settings import Settings

from tests.conftest import REPO

EXPORTS = sorted((REPO / "config" / "kibana").glob("*.ndjson"))
AGGREGATABLE = {"keyword", "date", "integer", "long", "float", "double", "boolean"}


def field_mapping(mappings: dict, dotted: str) -> dict | None:
    """The mapping of a dotted field name, following objects, nested objects and multi-fields."""
    node: dict = mappings
    parts = dotted.split(".")
    i = 0
    while i < len(parts):
        props = node.get("properties", {})
        if parts[i] in props:
            node = props[parts[i]]
        elif parts[i] in node.get("fields", {}):
            node = node["fields"][parts[i]]
        else:
            return None
        i += 1
    return node


@pytest.fixture(scope="module")
def objects():
    assert EXPORTS, "config/kibana holds the NDJSON export"
    return [obj for path in EXPORTS for obj in kibana.load_saved_objects(path)]


def test_export_has_the_data_view_search_and_dashboard(objects):
    by_type = {}
    for obj in objects:
        by_type.setdefault(obj["type"], []).append(obj)
    (view,) = by_type["index-pattern"]
    assert view["attributes"]["title"] == Settings().index_alias
    assert view["attributes"]["timeFieldName"] == "published_at"
    assert len(by_type["search"]) == 1
    (dashboard,) = by_type["dashboard"]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    titles = {o["attributes"]["title"] for o in objects}
    assert {"Transcripts over time", "Top places", "Top speakers", "Questions per month"} <= titles
    assert len(panels) == len(dashboard["references"]) == 5


def test_the_saved_search_shows_identity_and_versions(objects):
    """Analysts see which article a document is (event_id, every URL that reached it) and its
    edits (version, first publication, last change) without adding columns by hand."""
    (search,) = [o for o in objects if o["type"] == "search"]
    assert {"event_id", "urls", "doc_version", "first_published", "last_changed"} <= set(search["attributes"]["columns"])


def test_ids_are_unique_and_every_reference_resolves(objects):
    ids = [(o["type"], o["id"]) for o in objects]
    assert len(ids) == len(set(ids))
    for obj in objects:
        for ref in obj.get("references", []):
            assert (ref["type"], ref["id"]) in ids, f"{obj['id']} refers to a missing {ref}"
    dashboard = next(o for o in objects if o["type"] == "dashboard")
    ref_names = {r["name"] for r in dashboard["references"]}
    for panel in json.loads(dashboard["attributes"]["panelsJSON"]):
        assert f"{panel['panelIndex']}:{panel['panelRefName']}" in ref_names


@pytest.mark.parametrize("with_languages", [False, True])
def test_every_field_the_objects_use_exists_in_the_mapping_with_a_fitting_type(objects, with_languages):
    mappings = design.declared_mappings(Settings(), with_languages=with_languages)
    used = list(kibana.referenced_fields(objects))
    assert len(used) >= 10
    for obj_id, field, usage in used:
        mapped = field_mapping(mappings, field)
        assert mapped is not None, f"{obj_id} uses {field!r}, which the mapping lacks"
        if usage in ("time", "date_histogram"):
            assert mapped["type"] == "date", (obj_id, field)
        elif usage in ("terms", "sum", "sort"):
            assert mapped["type"] in AGGREGATABLE, (obj_id, field, mapped["type"])


def test_field_lookup_refuses_unknown_fields():
    mappings = design.declared_mappings(Settings(), with_languages=False)
    assert field_mapping(mappings, "turns.speaker.lower")["normalizer"] == "lowercase_normalizer"
    assert field_mapping(mappings, "title.keyword")["type"] == "keyword"
    assert field_mapping(mappings, "speaker") is None
    assert field_mapping(mappings, "body.en") is None


class FakeKibanaHandler(BaseHTTPRequestHandler):
    """A local HTTP endpoint that records the import request and answers like Kibana does."""

    received: list = []
    answer: tuple[int, dict] = (200, {"success": True, "successCount": 0})

    def do_POST(self):  # noqa: N802
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length)
        if self.path.endswith("/api/kibana/settings"):
            self.received.append({"path": self.path, "xsrf": self.headers.get("kbn-xsrf"), "json": json.loads(body)})
            return self._answer(200, {"settings": {}})
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        message = BytesParser(policy=email_policy).parsebytes(head + body)
        parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
        self.received.append({"path": self.path, "xsrf": self.headers.get("kbn-xsrf"),
                              "file": parts["file"].get_payload(decode=True).decode("utf-8"),
                              "filename": parts["file"].get_filename()})
        self._answer(*self.answer)

    def _answer(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def kibana_server():
    FakeKibanaHandler.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeKibanaHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", FakeKibanaHandler
    server.shutdown()


def test_import_posts_the_ndjson_with_the_alias_rewritten(objects, kibana_server):
    url, handler = kibana_server
    handler.answer = (200, {"success": True, "successCount": len(objects)})
    answer = kibana.import_saved_objects(url, kibana.with_alias(objects, "analysts-alias"), space="research")
    assert answer["successCount"] == len(objects)
    (req,) = handler.received
    assert req["path"] == "/s/research/api/saved_objects/_import?overwrite=true"
    assert req["xsrf"]
    sent = [json.loads(line) for line in req["file"].splitlines()]
    assert [o["id"] for o in sent] == [o["id"] for o in objects]
    assert next(o for o in sent if o["type"] == "index-pattern")["attributes"]["title"] == "analysts-alias"


def test_a_refused_import_raises_with_kibanas_reason(objects, kibana_server):
    url, handler = kibana_server
    handler.answer = (200, {"success": False, "errors": [{"id": "mfa-transcripts", "error": {"type": "conflict"}}]})
    with pytest.raises(ConfigError, match="conflict"):
        kibana.import_saved_objects(url, objects)


def test_the_time_zone_is_set_to_moscow_like_the_cli(kibana_server):
    url, handler = kibana_server
    kibana.set_time_zone(url, space="research")
    (req,) = handler.received
    assert req["path"] == "/s/research/api/kibana/settings" and req["xsrf"]
    assert req["json"] == {"changes": {"dateFormat:tz": "Europe/Moscow"}}


def test_top_speakers_group_by_the_speaker_id_labelled_with_the_profiles_printed_name(objects):
    """One bar per person (Zakharova was 4/4/1 by printed name): the chart groups speaker_ids,
    and the data view shows a profile id as the person's first printed form."""
    from pipeline.context import get_profile

    lens = next(o for o in objects if o["id"] == "mfa-lens-top-speakers")
    assert {f for f, _op in kibana._lens_fields(lens)} == {"speaker_ids"}
    labelled = kibana.with_speaker_labels(objects, get_profile().extraction.speakers)
    view = next(o for o in labelled if o["type"] == "index-pattern")
    lookup = json.loads(view["attributes"]["fieldFormatMap"])["speaker_ids"]
    assert lookup["id"] == "static_lookup"
    assert {"key": "zakharova-m", "value": "Maria Zakharova"} in lookup["params"]["lookupEntries"]
    assert json.loads(view["attributes"]["fieldFormatMap"])["url"] == {"id": "url"}
