"""Stage store: the index design, read from config/elasticsearch/.

The composable template of the transcripts index (the base mapping and the language
overlay, the same on every node), versioned concrete indices ``<alias>-vN`` behind the
read/write alias, and the small indices of the pipeline's own (dead letters, crawl
ledger) created from their mappings. Nothing here writes documents.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
from pathlib import Path

from elasticsearch import ApiError, AuthorizationException, Elasticsearch

from pipeline.model.errors import ConfigError, NotAnAlias
from pipeline.settings import Settings
from pipeline.store.client import error_reason

log = logging.getLogger(__name__)

TEMPLATE_FILE = "transcripts.template.json"
OVERLAY_FILE = "transcripts.language-overlay.json"
DEADLETTER_FILE = "deadletter.template.json"
VERSIONS_FILE = "versions.template.json"


@functools.lru_cache(maxsize=32)
def _read_json(path: Path, _mtime_ns: int) -> dict:
    # parsed once per file version: ensure_index runs per run and per DAG task and needs it several times
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return {k: v for k, v in data.items() if not k.startswith("_comment")}


def _load_json(path: Path) -> dict:
    """A config/elasticsearch/ file without its _comment keys; a copy the caller may change."""
    try:
        mtime_ns = Path(path).stat().st_mtime_ns
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return copy.deepcopy(_read_json(Path(path), mtime_ns))


def load_config_json(settings_or_dir: Settings | Path, name: str) -> dict:
    """``config/elasticsearch/<name>`` of these settings (or of this config folder)."""
    config_dir = settings_or_dir.config_dir if isinstance(settings_or_dir, Settings) else Path(settings_or_dir)
    return _load_json(config_dir / "elasticsearch" / name)


def create_index_if_missing(es: Elasticsearch, name: str, body: dict) -> bool:
    """Create ``name`` with the body's settings and mappings; True when created here, False when it existed
    (also when a parallel run created it between the check and the create)."""
    if es.indices.exists(index=name):
        return False
    try:
        es.indices.create(index=name, settings=body.get("settings"), mappings=body.get("mappings"))
    except ApiError as exc:
        if exc.error != "resource_already_exists_exception":
            raise
        return False
    return True


def load_template(settings: Settings) -> dict:
    """The declared template body (without index_patterns and language overlay)."""
    return load_config_json(settings, TEMPLATE_FILE)


def load_overlay(settings: Settings) -> dict:
    return load_config_json(settings, OVERLAY_FILE)


def _field_at(properties: dict, dotted: str) -> dict:
    node: dict = {"properties": properties}
    for part in dotted.split("."):
        try:
            node = node["properties"][part]
        except KeyError:
            raise ConfigError(f"language overlay names {dotted!r}, which the base mapping lacks") from None
    return node


def declared_mappings(settings: Settings, *, with_languages: bool) -> dict:
    """The mappings exactly as declared in config: the base, plus the overlay when asked."""
    mappings = copy.deepcopy(load_template(settings)["template"]["mappings"])
    if with_languages:
        for dotted, subfields in load_overlay(settings)["fields"].items():
            field = _field_at(mappings["properties"], dotted)
            field.setdefault("fields", {}).update(copy.deepcopy(subfields))
    return mappings


def declared_settings(settings: Settings, *, with_languages: bool) -> dict:
    """The index settings exactly as declared: the base, plus the overlay's analysis (the
    ``russian_initials`` analyzer of the ``.ru`` sub-fields) when asked."""
    index_settings = copy.deepcopy(load_template(settings)["template"]["settings"])
    if with_languages:
        analysis = index_settings.setdefault("analysis", {})
        for kind, components in load_overlay(settings).get("analysis", {}).items():
            analysis.setdefault(kind, {}).update(copy.deepcopy(components))
    return index_settings


def node_modules(es: Elasticsearch) -> set[str]:
    """Modules and plugins present on every node of the cluster."""
    nodes = es.nodes.info(metric="plugins").body.get("nodes", {})
    per_node = [
        {m["name"] for m in node.get("modules", [])} | {p["name"] for p in node.get("plugins", [])}
        for node in nodes.values()
    ]
    return set.intersection(*per_node) if per_node else set()


def node_has_language_analyzers(es: Elasticsearch, settings: Settings) -> bool:
    """Whether every node has a module or plugin giving the overlay's analyzers (english, russian)."""
    return bool(set(load_overlay(settings)["requires_any"]) & node_modules(es))


def require_language_analyzers(es: Elasticsearch, settings: Settings) -> None:
    """ConfigError naming the fix when the node cannot analyse the language sub-fields: the
    template is the same on every node, so a node without the analyzers cannot hold the index."""
    if not node_has_language_analyzers(es, settings):
        wanted = " or ".join(load_overlay(settings)["requires_any"])
        raise ConfigError(f"the Elasticsearch node lacks the english/russian analyzers ({wanted}); "
                          "for the local node run scripts/es.sh install, then scripts/es.sh stop && scripts/es.sh start")


def template_name(alias: str) -> str:
    return f"{alias}-template"


def versioned_name(alias: str, version: int) -> str:
    return f"{alias}-v{version}"


def template_body(es: Elasticsearch, settings: Settings, alias: str) -> dict:
    """The composable template to put for ``alias``: the base mapping and the language overlay."""
    body = load_template(settings)
    body["index_patterns"] = [f"{alias}-v*"]
    require_language_analyzers(es, settings)
    body["template"]["settings"] = declared_settings(settings, with_languages=True)
    body["template"]["mappings"] = declared_mappings(settings, with_languages=True)
    body.setdefault("_meta", {})["alias"] = alias
    return body


def put_template(es: Elasticsearch, settings: Settings, alias: str) -> dict:
    """Put the index template of ``alias`` when the credentials allow it; return its body.

    The pipeline's own role has no template privilege (a template over another pattern is a
    way to alias an administrator's index into ours: config/elasticsearch/pipeline-role.json),
    and needs none: it creates every index with this body itself (``create_versioned``). The
    template only serves indices made by other means, and is left to whoever may put it."""
    body = template_body(es, settings, alias)
    try:
        es.indices.put_index_template(name=template_name(alias), **body)
    except AuthorizationException:
        log.info("index template %s not put (no template privilege); indices are created with the design",
                 template_name(alias))
    return body


def create_versioned(es: Elasticsearch, name: str, body: dict, aliases: dict | None = None) -> None:
    """Create the versioned index ``name`` with the design's settings and mappings (never from a template alone)."""
    es.indices.create(index=name, settings=body["template"]["settings"], mappings=body["template"]["mappings"],
                      aliases=aliases)


def alias_indices(es: Elasticsearch, alias: str) -> dict[str, dict]:
    """Concrete indices behind ``alias`` with their alias properties ({} when none)."""
    if not es.indices.exists_alias(name=alias):
        return {}
    found = es.indices.get_alias(name=alias).body
    return {name: info["aliases"][alias] for name, info in found.items()}


def write_index(es: Elasticsearch, alias: str) -> str | None:
    """The concrete index writes through ``alias`` land in."""
    indices = alias_indices(es, alias)
    if len(indices) == 1:
        return next(iter(indices))
    for name, props in indices.items():
        if props.get("is_write_index"):
            return name
    return None


def ensure_index(es: Elasticsearch, settings: Settings, *, alias: str | None = None, grow: bool = True) -> str:
    """Put the template, create ``<alias>-v<version>`` behind the alias if missing; return the alias.

    ``grow``: give the live index the fields the design gained (ConfigError asking for a reindex
    when it cannot take them); the rebuild passes False: it makes a new index with the whole design,
    also from a live index that does not fit it (a sub-field's analyzer changed)."""
    alias = alias or settings.index_alias
    body = put_template(es, settings, alias)
    if es.indices.exists_alias(name=alias):
        if grow:
            _add_new_fields(es, alias, body)
        return alias
    if es.indices.exists(index=alias):
        raise NotAnAlias(f"{alias!r} is a concrete index, not an alias (made by Elasticsearch's auto-create?); "
                          "rename or delete it first, and see action.auto_create_index in docs/indexing.md")
    first = versioned_name(alias, int(body.get("version", 1)))
    try:
        create_versioned(es, first, body, aliases={alias: {"is_write_index": True}})
    except ApiError as exc:
        if exc.error != "resource_already_exists_exception":
            raise
        # Another run created it between our check and now; make sure it carries the alias.
        es.indices.update_aliases(actions=[{"add": {"index": first, "alias": alias, "is_write_index": True}}])
    log.info("created %s behind alias %s", first, alias)
    return alias


def _add_new_fields(es: Elasticsearch, alias: str, body: dict) -> None:
    """Give the live write index the fields the design gained since it was created (a mapping
    only grows in place); a change Elasticsearch refuses (a field's type) needs a reindex."""
    target = write_index(es, alias)
    if target is None:
        return
    try:
        es.indices.put_mapping(index=target, properties=body["template"]["mappings"]["properties"])
    except ApiError as exc:
        if exc.status_code != 400:
            raise
        raise ConfigError(f"{target} does not fit the current index design ({exc.error}: {error_reason(exc)}); "
                          "rebuild it with `mfa-ingest reindex`") from None


def grow_mapping(es: Elasticsearch, index: str, body: dict) -> None:
    """Give an existing index (the crawl ledger, the dead letters: strict mappings) the fields its
    mapping file gained since it was created. Asks only when a field is missing: a role with
    ``write`` but not ``manage`` may update a mapping today, not in Elasticsearch's next major."""
    declared = body["mappings"]["properties"]
    (stored,) = es.indices.get_mapping(index=index).body.values()
    if not _covers(stored["mappings"].get("properties", {}), declared):
        es.indices.put_mapping(index=index, properties=declared)


def _covers(have: dict, want: dict) -> bool:
    """Whether every field of ``want`` (and its sub-fields and object properties) is in ``have``."""
    for name, field in want.items():
        if name not in have:
            return False
        for key in ("properties", "fields"):
            if key in field and not _covers(have[name].get(key, {}), field[key]):
                return False
    return True


def exists(es: Elasticsearch, name: str) -> bool:
    """Whether ``name`` is an index or an alias."""
    return bool(es.indices.exists(index=name))


def count(es: Elasticsearch, index: str) -> int:
    """How many documents ``index`` holds."""
    return int(es.count(index=index)["count"])


def create_scratch_index(es: Elasticsearch, settings: Settings, name: str, *, with_languages: bool) -> None:
    """A concrete index ``name`` outside any alias with the declared settings and mappings, with or
    without the language overlay (the search evaluation compares the two)."""
    if with_languages:
        require_language_analyzers(es, settings)
    body = {"settings": declared_settings(settings, with_languages=with_languages),
            "mappings": declared_mappings(settings, with_languages=with_languages)}
    create_index_if_missing(es, name, body)


def delete_index(es: Elasticsearch, name: str) -> None:
    es.indices.delete(index=name, ignore_unavailable=True)


def refresh(es: Elasticsearch, index: str) -> None:
    es.indices.refresh(index=index)


def delete_like(es: Elasticsearch, prefix: str) -> None:
    """Delete every index and index template whose name starts with ``prefix`` (a bench's or a
    test's throw-away alias, its versions, ledger and dead letters)."""
    names = list(es.indices.get(index=f"{prefix}*", expand_wildcards="all").keys())
    if names:
        es.indices.delete(index=",".join(names), ignore_unavailable=True)
    quiet = es.options(ignore_status=404)
    for template in quiet.indices.get_index_template(name=f"{prefix}*").get("index_templates", []):
        quiet.indices.delete_index_template(name=template["name"])


def versions_index_name(alias: str) -> str:
    """Where every text of the alias's documents is kept (``history``)."""
    # Not "-versions": the template of the transcripts index covers every "<alias>-v*" name.
    return f"{alias}-history"


def ensure_versions_index(es: Elasticsearch, settings: Settings, alias: str) -> str:
    name = versions_index_name(alias)
    create_index_if_missing(es, name, load_config_json(settings, VERSIONS_FILE))
    return name
