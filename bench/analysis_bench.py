r"""Benchmark: what the transcripts index's analysis costs the node per document, variant by variant.

    .venv/bin/python bench/analysis_bench.py [--pages 5000] [--rounds 3] [--variants shipped,no-char-filter]
    .venv/bin/python bench/analysis_bench.py --lucene [--pages 2000] [--rounds 9]   # the char filter alone

The replay bench's synthetic pages (``bench/replay_bench.py``: the replica's layouts, both
languages) are extracted once and serialised as the writer's ``_bulk`` bodies (``index``
actions, the writer's chunk size). Then, round after round, each variant of the index design
gets a fresh index and the same bodies, one request in flight, and the node's CPU time
(``_nodes/stats``, read 1.5 s after each phase, as the replay bench reads it) over the
documents is its cost. The variants take turns within each round, so a slow spell of a
shared machine slows them alike; the median of the rounds is printed.

Variants (the template's settings and mappings, with the language overlay changed):

* ``shipped``: the design as it is (``config/elasticsearch``): the initials char filter finds
  the dot first, then the letter after it and the one before (``\.(?=\p{L})(?<=\p{L}\.)``);
* ``first-pattern``: the pattern that filter had first, ``(?<=\p{L})\.(?=\p{L})`` (the same
  matches; the letter before is tested at every position of the text);
* ``never-matches``: the char filter with a pattern no text matches (``\x00``): what the char
  filter costs whatever its pattern (it copies the text and keeps an offset map);
* ``no-char-filter``: the ``.ru`` analyzer without its char filter (the russian analyzer's
  tokens: initials glued to a surname stay one token);
* ``no-languages``: no ``.en``/``.ru`` sub-fields at all (the mapping before December 6, 2026).

``--lucene`` measures the char filter alone, without the node: every text the ``.ru``
sub-fields analyse (title, body, each turn) of the same documents goes through the ``.ru``
analysis in Lucene (``bench/CharFilterBench.java``, on the node's own Lucene jars and a Java
21+ found as scripts/es.sh finds one) with no char filter, the first pattern, the shipped one,
the dot-first pattern with the letter before tested first and one that never matches.

Elasticsearch: MFA_ES_URL. Indices mfa-bench-analysis-* are deleted at the end. Figures only.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from replay_bench import node_cpu_seconds, synthetic_pages  # noqa: E402

from pipeline.context import RunContext  # noqa: E402
from pipeline.ingest import divert_failures, transform  # noqa: E402
from pipeline.model.records import Page  # noqa: E402
from pipeline.store import design  # noqa: E402
from pipeline.store.writer import document_json  # noqa: E402

FIRST_PATTERN = r"(?<=\p{L})\.(?=\p{L})"
NEVER = r"\x00"  # a character no text has: the char filter's cost without its regex's


def bodies(ctx: RunContext, n: int) -> list[bytes]:
    """The writer's documents of n synthetic pages as ``_bulk`` bodies in its chunk size."""
    import orjson

    now = datetime.now(timezone.utc)
    pages = (Page(source=url, content=html.encode("utf-8"), url=url) for url, html in synthetic_pages(n))
    lines: list[bytes] = []
    for record in divert_failures(transform(pages, ctx.profile), lambda failure: None):
        lines.append(orjson.dumps({"index": {"_id": record.doc_id}}))
        lines.append(document_json(record, doc_version=1, indexed_at=now).encode("utf-8"))
    size = 2 * ctx.settings.bulk_chunk_size
    return [b"\n".join(lines[i:i + size]) + b"\n" for i in range(0, len(lines), size)]


PATTERNS = {"first-pattern": FIRST_PATTERN, "never-matches": NEVER}


def variant(ctx: RunContext, name: str) -> tuple[dict, dict]:
    """(settings, mappings) of one variant of the index design."""
    settings = design.declared_settings(ctx.settings, with_languages=name != "no-languages")
    mappings = design.declared_mappings(ctx.settings, with_languages=name != "no-languages")
    analysis = settings.get("analysis", {})
    if name == "no-char-filter":
        for analyzer in analysis.get("analyzer", {}).values():
            analyzer.pop("char_filter", None)
    elif name in PATTERNS:
        for char_filter in analysis.get("char_filter", {}).values():
            char_filter["pattern"] = PATTERNS[name]
    elif name not in ("shipped", "no-languages"):
        raise SystemExit(f"unknown variant {name!r}")
    return copy.deepcopy(settings), mappings


def cost(es, index: str, index_settings: dict, mappings: dict, chunks: list[bytes]) -> float:
    """Node CPU seconds of bulk-writing the chunks into a fresh index (refresh included)."""
    es.indices.create(index=index, settings={**index_settings, "number_of_replicas": 0}, mappings=mappings)
    try:
        before = node_cpu_seconds(es)
        for body in chunks:
            if es.bulk(index=index, operations=body)["errors"]:
                raise RuntimeError(f"{index}: the node refused documents")
        es.indices.refresh(index=index)
        return node_cpu_seconds(es) - before
    finally:
        es.indices.delete(index=index)


def _java_major(java: str) -> int:
    import re
    import subprocess

    shown = subprocess.run([java, "-XshowSettings:properties", "-version"], capture_output=True, text=True).stderr
    found = re.search(r"java\.specification\.version = (\d+)", shown)
    return int(found.group(1)) if found else 0


def lucene(ctx: RunContext, n: int, rounds: int) -> None:
    """The char filter alone, in Lucene: bench/CharFilterBench.java over the texts of n documents."""
    import glob
    import os
    import subprocess
    import tempfile

    pages = (Page(source=url, content=html.encode("utf-8"), url=url) for url, html in synthetic_pages(n))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as fh:
        texts = 0
        for record in divert_failures(transform(pages, ctx.profile), lambda failure: None):
            for text in [record.title, record.body, *(turn.text for turn in record.turns)]:
                fh.write(text.replace("\n", "\\n") + "\n")
                texts += 1
    lib = next(iter(sorted(glob.glob(str(ctx.settings.state_dir / "es" / "elasticsearch-*" / "lib")))), None)
    homes = [os.environ.get("ES_JAVA_HOME"), os.environ.get("JAVA_HOME"), *sorted(glob.glob("/usr/lib/jvm/*"))]
    java = next((f"{home}/bin/java" for home in homes if home and os.access(f"{home}/bin/javac", os.X_OK)
                 and _java_major(f"{home}/bin/java") >= 21), None)
    if lib is None or java is None:
        raise SystemExit("--lucene needs the node installed (scripts/es.sh install) and a JDK 21+")
    classpath = ":".join(sorted(glob.glob(f"{lib}/lucene-core-*.jar") + glob.glob(f"{lib}/lucene-analysis-common-*.jar")))
    pattern = design.load_overlay(ctx.settings)["analysis"]["char_filter"]["initials_apart"]["pattern"]
    print(f"char filter alone: {texts} texts of {n} documents ({texts / n:.2f} per document), {rounds} rounds in turns")
    try:
        subprocess.run([java, "-cp", classpath, str(ROOT / "bench" / "CharFilterBench.java"), fh.name, str(rounds),
                        pattern], check=True)
    finally:
        os.unlink(fh.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", default="shipped,first-pattern,never-matches,no-char-filter,no-languages")
    parser.add_argument("--lucene", action="store_true", help="the char filter alone, in Lucene (no node)")
    args = parser.parse_args()
    ctx = RunContext.build()
    if args.lucene:
        lucene(ctx, args.pages, args.rounds)
        return
    es = ctx.es
    names = args.variants.split(",")
    chunks = bodies(ctx, args.pages)
    docs = sum(body.count(b"\n") // 2 for body in chunks)
    mb = sum(len(body) for body in chunks) / 2**20
    print(f"analysis bench: node {ctx.settings.es_url}, {docs} documents ({mb:.0f} MB of bulk bodies), "
          f"{len(chunks)} chunks, {args.rounds} rounds, variants in turns")
    prefix = f"mfa-bench-analysis-{uuid.uuid4().hex[:8]}"
    per_doc: dict[str, list[float]] = {name: [] for name in names}
    # the node's JIT warms up on every analyzer of the shipped design first: the first variant would pay it
    cost(es, f"{prefix}-warm-up", *variant(ctx, "shipped"), chunks)
    for r in range(args.rounds):
        for name in names:
            index_settings, mappings = variant(ctx, name)
            seconds = cost(es, f"{prefix}-{name}-{r}", index_settings, mappings, chunks)
            per_doc[name].append(1000 * seconds / docs)
        print(f"round {r + 1}: " + "  ".join(f"{name} {per_doc[name][-1]:.2f}" for name in names), flush=True)
    print()
    print(f"{'variant':>16} {'node CPU ms/doc (median)':>25} {'runs':>24}")
    for name in names:
        print(f"{name:>16} {statistics.median(per_doc[name]):>25.2f} "
              f"{' '.join(f'{v:.2f}' for v in per_doc[name]):>24}")


if __name__ == "__main__":
    main()
