"""Kibana saved objects of config/kibana/: read them, list the fields they use, import them.

Reads the NDJSON export (data view on the alias, saved search, Lens panels,
dashboard) and sends it to a Kibana through its saved-objects import API. The
data view's title is the index alias; it is rewritten when the configured alias
differs from the exported one.

Kibana draws dates in its ``dateFormat:tz`` advanced setting (default: the
browser's zone); a data view cannot carry a zone. The import sets it to
Europe/Moscow, the zone of the site and of the CLI's days and month buckets,
so a dashboard's months are the months ``mfa-ingest stats`` counts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import requests

from pipeline.model.errors import ConfigError

LENS_RECORDS_FIELD = "___records___"  # Lens' name for "count of documents", not a field
TIME_ZONE = "Europe/Moscow"  # as pipeline.store.search.TIME_ZONE


def default_export(config_dir: Path) -> Path:
    return Path(config_dir) / "kibana" / "mfa-transcripts.ndjson"


def load_saved_objects(path: Path) -> list[dict]:
    objects = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            objects.append(json.loads(line))
        except ValueError as exc:
            raise ConfigError(f"{path}:{number}: not JSON: {exc}") from None
    return objects


def _lens_fields(obj: dict) -> Iterator[tuple[str, str]]:
    layers = obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]
    for layer in layers.values():
        for column in layer["columns"].values():
            field = column.get("sourceField")
            if field and field != LENS_RECORDS_FIELD:
                yield field, column["operationType"]


def referenced_fields(objects: list[dict]) -> Iterator[tuple[str, str, str]]:
    """(object id, field, how it is used) for every index field the saved objects name."""
    for obj in objects:
        attrs = obj.get("attributes", {})
        if obj["type"] == "index-pattern" and attrs.get("timeFieldName"):
            yield obj["id"], attrs["timeFieldName"], "time"
        elif obj["type"] == "search":
            for column in attrs.get("columns", []):
                yield obj["id"], column, "column"
            for field, _direction in attrs.get("sort", []):
                yield obj["id"], field, "sort"
        elif obj["type"] == "lens":
            for field, operation in _lens_fields(obj):
                yield obj["id"], field, operation


def with_alias(objects: list[dict], alias: str) -> list[dict]:
    """The objects with every data view pointed at ``alias``."""
    out = []
    for obj in objects:
        if obj["type"] == "index-pattern":
            obj = {**obj, "attributes": {**obj["attributes"], "title": alias}}
        out.append(obj)
    return out


def with_speaker_labels(objects: list[dict], speakers: dict[str, list[str]]) -> list[dict]:
    """The objects with the data view's ``speaker_ids`` shown as printed names: a static lookup
    (Kibana's field format) from each person id of the profile (``extraction.speakers``) to its
    first printed form; an id the profile does not list is shown as it is (``riabkov-s``).
    Charts then group by the id (one bar per person) and label it with the name."""
    lookup = {"id": "static_lookup", "params": {
        "lookupEntries": [{"key": pid, "value": names[0]} for pid, names in speakers.items() if names],
        "unknownKeyValue": None}}
    out = []
    for obj in objects:
        if obj["type"] == "index-pattern":
            formats = json.loads(obj["attributes"].get("fieldFormatMap") or "{}")
            formats["speaker_ids"] = lookup
            obj = {**obj, "attributes": {**obj["attributes"], "fieldFormatMap": json.dumps(formats, ensure_ascii=False)}}
        out.append(obj)
    return out


def to_ndjson(objects: list[dict]) -> bytes:
    return "".join(json.dumps(o, ensure_ascii=False, separators=(",", ":")) + "\n" for o in objects).encode("utf-8")


def import_saved_objects(
    kibana_url: str,
    objects: list[dict],
    *,
    space: str | None = None,
    auth: tuple[str, str] | None = None,
    api_key: str | None = None,
    overwrite: bool = True,
    timeout: float = 60.0,
) -> dict:
    """POST the objects to Kibana's ``_import`` API; return its answer; raise ConfigError when refused."""
    url = _api(kibana_url, space, "/api/saved_objects/_import")
    headers = _headers(api_key)
    resp = requests.post(
        url, params={"overwrite": "true"} if overwrite else None, headers=headers, auth=auth, timeout=timeout,
        files={"file": ("mfa-transcripts.ndjson", to_ndjson(objects), "application/ndjson")},
    )
    try:
        body = resp.json()
    except ValueError:
        body = {"text": resp.text[:500]}
    if resp.status_code != 200 or not body.get("success", False):
        raise ConfigError(f"Kibana refused the import (HTTP {resp.status_code}): {json.dumps(body)[:1000]}")
    return body


def _api(kibana_url: str, space: str | None, path: str) -> str:
    prefix = f"/s/{space}" if space and space != "default" else ""
    return f"{kibana_url.rstrip('/')}{prefix}{path}"


def _headers(api_key: str | None) -> dict[str, str]:
    headers = {"kbn-xsrf": "mfa-ingest"}
    if api_key:
        headers["Authorization"] = f"ApiKey {api_key}"
    return headers


def set_time_zone(kibana_url: str, zone: str = TIME_ZONE, *, space: str | None = None,
                  auth: tuple[str, str] | None = None, api_key: str | None = None, timeout: float = 30.0) -> None:
    """Set the space's ``dateFormat:tz`` advanced setting; raise ConfigError when refused."""
    resp = requests.post(_api(kibana_url, space, "/api/kibana/settings"), json={"changes": {"dateFormat:tz": zone}},
                         headers=_headers(api_key), auth=auth, timeout=timeout)
    if resp.status_code != 200:
        raise ConfigError(f"Kibana refused the time zone setting (HTTP {resp.status_code}): {resp.text[:500]}")
