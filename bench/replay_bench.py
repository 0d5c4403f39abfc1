"""Benchmark: replay a synthetic WARC archive into a fresh index, beside the raw ``_bulk`` ceiling.

    .venv/bin/python bench/replay_bench.py [--sizes 1000,10000] [--keep]
    .venv/bin/python bench/replay_bench.py --sizes 100000   # the large run: ~470 MB of HTML, a ~220 MB WARC

For each size N it
1. writes a WARC of N article pages (the site replica's two layouts, English and
   Russian, each page with its own id, date and closing paragraph) plus listing
   noise that replay must skip;
2. replays it end to end in a child process (WARC reader -> extract -> validate ->
   index_records into a fresh alias) and takes the child's documents per second,
   peak RSS and CPU time per document (the child's threads and any extraction
   processes it started), and the node's CPU over the same window (its indices are
   made before it);
3. reads back the exact documents that were indexed, and their kept versions (the
   history entries), pre-serialises them as ``_bulk`` bodies in the same chunk size,
   and times only the ``_bulk`` calls into other fresh indices from the same templates
   (the documents, then the versions), one request at a time, as the writer sends
   per index whatever ``MFA_BULK_IN_FLIGHT`` (``writer.WriteGates``): the node's
   ceiling for these documents;
4. prints both rates, their ratio, the peak RSS along the sizes, the CPU ms/doc of the
   pipeline, and the node's own CPU ms/doc in each phase (``_nodes/stats``: the process
   CPU of every node), with what a ratio of 0.8 leaves the pipeline on this machine
   when the node shares its cores: the cores, less the node's raw cost per document at
   0.8 of the ceiling. The last column, peak PSS, is the replay's memory with a page
   shared by several of its processes (the fork server and extraction workers) counted
   once, as sampled every 1,000 pages; the RSS column counts it in each process;
5. measures the pipeline's own CPU per document without the node, in a third child
   process: the same WARC read, extracted, validated and stamped, and every bulk line the
   writer would send for a fresh index (documents and kept versions) serialised, with no
   request made;
6. prints the efficiency of the replay against the bound the two CPU costs set together
   on this machine's cores (issue 25):

       efficiency = replay docs/s / (cores / (node CPU per doc + pipeline CPU per doc))

   where replay docs/s is step 2's (documents indexed over the child's wall time, from
   its first WARC read to its report), the node's CPU per doc is step 3's (the CPU time
   of the Elasticsearch processes, ``_nodes/stats`` ``process.cpu.total_in_millis``, read
   before and after the raw ``_bulk`` of the same documents and of their kept versions,
   over the documents sent: what the replay has the node store, as step 5 counts what
   the pipeline serialises for it; the efficiency against the documents alone, as
   figured before December 2026, is printed beside it),
   the pipeline's CPU per doc step 5's (``time.process_time`` of that one process over
   the documents it made), and cores the CPUs this process may run on
   (``os.sched_getaffinity``). It also prints the efficiency's two factors: the share of
   the cores the replay kept busy (the node's and the replay's CPU per doc, both measured
   in step 2, at its docs/s) and the bound's CPU over the CPU the replay spent (what the
   replay does beyond the bound: the chunk's look-ups, the HTTP client, the threads'
   hand-offs, the pages' trips to extraction workers).

CPU ms per document is robust to other load on the machine; docs/s, and so the
efficiency, are not: take the figures on a quiet machine (``uptime``: load under 2).

Elasticsearch: MFA_ES_URL (the local node). Indices are named mfa-bench-* and
deleted at the end unless --keep. Figures only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.store import client as es_client, design  # noqa: E402
from pipeline.settings import Settings  # noqa: E402

CURRENT_HOST = "https://mid.ru"
ARCHIVE_HOST = "https://archive.mid.ru"
BASE_DAY = date(2026, 1, 15)


# --------------------------------------------------------------------------- the archive


def synthetic_pages(n: int):
    """(url, html) of n distinct article pages built from the replica's articles."""
    from mfa_replica.content import base_articles
    from mfa_replica.pages import PageOptions, render_archive_article, render_article

    # A fixed day: the replica dates its items relative to today, and every run (and the
    # output check, bench/dump_records.py) must see the same pages.
    templates = base_articles(BASE_DAY)
    options = PageOptions()
    for i in range(n):
        base = templates[i % len(templates)]
        number = 2_000_000 + i
        prefix = base.path.rstrip("/").rsplit("/", 1)[0]
        path = f"{prefix}/{number}" + ("/" if base.site == "current" else "")
        closing = (f"Сообщение {number}: МИД России опубликовал этот текст для проверки." if base.language == "ru"
                   else f"Note {number}: this text was published for the replay benchmark.")
        article = replace(base, path=path, published=base.published - timedelta(days=i // len(templates)),
                          paragraphs=[*base.paragraphs, closing])
        if base.site == "current":
            yield CURRENT_HOST + path, render_article(article, options)
        else:
            yield ARCHIVE_HOST + path, render_archive_article(article, options)


def write_warc(path: Path, n: int) -> int:
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    size = 0
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for i, (url, page) in enumerate(synthetic_pages(n)):
            body = page.encode("utf-8")
            size += len(body)
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                                  ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=BytesIO(body),
                                                          http_headers=headers))
            if i % 100 == 0:  # a listing page in between: replay must leave it out
                listing = b"<html><body><a href='/en/press_service/minister_speeches/1/'>x</a></body></html>"
                lh = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
                writer.write_record(writer.create_warc_record(
                    f"{CURRENT_HOST}/en/press_service/minister_speeches/?page={i}", "response",
                    payload=BytesIO(listing), http_headers=lh))
    return size


# --------------------------------------------------------------------------- the child: end-to-end replay


def child_replay(warc: Path, alias: str) -> dict:
    from pipeline.context import RunContext
    from pipeline.sources.archive import archive_pages
    from pipeline.report import RunReport
    from pipeline.ingest import ingest
    from pipeline.store import deadletter

    settings = Settings(index_alias=alias, deadletter_index=f"{alias}-deadletter",
                        state_dir=Path(tempfile.mkdtemp(prefix="mfa-bench-state-")))
    ctx = RunContext.build(settings, report=RunReport(name="replay-bench"))
    profile, es = ctx.profile, ctx.es
    design.ensure_index(es, settings)
    # Its indices are made before the window, as the raw run's are: what is timed is the writing.
    design.ensure_versions_index(es, settings, alias)
    deadletter.ensure_deadletter_index(es, settings)
    samples: list[float] = []
    pss: list[float] = []
    node0 = node_cpu_seconds(es)
    t0, cpu0 = time.perf_counter(), time.process_time()
    pages = archive_pages([warc], max_bytes=settings.max_page_bytes, profile=profile)
    worker_cpu: dict[int, float] = {}
    report = ingest(ctx, rss_sampled(pages, samples, worker_cpu=worker_cpu, pss=pss))
    seconds = time.perf_counter() - t0
    # Extraction workers (MFA_EXTRACT_WORKERS > 1) as last sampled, after the last page was read: the
    # pages still in flight then (a bulk chunk's worth) are not counted.
    cpu_s = time.process_time() - cpu0 + sum(worker_cpu.values())
    # With extract_workers > 1 the extraction processes count too: their RSS is in the samples.
    own_peak = peak_rss_mb()
    node_s = node_cpu_seconds(es) - node0
    return {"seconds": seconds, "cpu_s": cpu_s, "node_s": node_s, "new": report.new, "failed": report.failed, "read": report.read,
            "peak_rss_mb": max([own_peak, *samples]), "rss_samples_mb": samples,
            "peak_pss_mb": max(pss, default=float("nan"))}


def child_pipeline(warc: Path) -> dict:
    """The pipeline's own CPU per document, without the node: the same WARC read, extracted,
    validated and stamped (``ingest.transform``, one process) and every bulk line the writer
    would send for a fresh index serialised (the documents and
    their kept versions, planned by the writer's own ``_Plan``, in the writer's own request
    bodies, ``writer.bulk_bodies``). No request is made: the
    client's HTTP work and the node's answers are the replay's overhead, not this cost."""
    from datetime import datetime, timezone

    from pipeline.context import RunContext
    from pipeline.ingest import divert_failures, transform
    from pipeline.report import RunReport
    from pipeline.sources.archive import archive_pages
    from pipeline.store import writer

    ctx = RunContext.build(Settings(), report=RunReport(name="pipeline-bench"))
    failures: list = []
    docs = body_bytes = 0
    cpu0 = time.process_time()
    pages = archive_pages([warc], max_bytes=ctx.settings.max_page_bytes, profile=ctx.profile)
    records = divert_failures(transform(pages, ctx.profile, ctx.report), failures.append)
    for chunk in writer._chunks(records, ctx.settings.bulk_chunk_size):
        plan = writer._Plan(index="bench", versions_index="bench-history", max_shrink=ctx.settings.index_max_shrink,
                            now=datetime.now(timezone.utc))
        for record in chunk:
            plan.document(record.doc_id, record, None)
        for actions in (plan.actions, plan.versions):  # two requests, as the writer sends them
            body_bytes += sum(len(body) for _, body in writer.bulk_bodies(list(actions.values())))
        docs += len(chunk)
    cpu_s = time.process_time() - cpu0
    return {"cpu_s": cpu_s, "docs": docs, "failed": len(failures), "body_mb": body_bytes / 2**20}


def peak_rss_mb() -> float:
    """This process's own high-water RSS.

    Not ru_maxrss: Linux carries that across fork+exec, so the child would report the
    parent's peak (the parent has just built the WARC). VmHWM belongs to the address
    space the child runs in.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_sampled(pages, samples: list[float], every: int = 1000, worker_cpu: dict[int, float] | None = None,
                pss: list[float] | None = None):
    """Pass the pages through, noting the current RSS every ``every`` pages (is memory flat along the run?):
    this process plus any it started (extraction workers), so a parallel run is not under-counted.
    ``worker_cpu``: the CPU seconds each process it started had used when last seen (the extraction
    workers are the fork server's children, never reaped by this process: RUSAGE_CHILDREN misses them).
    ``pss``: the same processes' proportional set size (Linux): a page shared by the fork server
    and its workers counts once, where the RSS sum counts it in each."""
    import psutil

    me = psutil.Process()

    def sample() -> None:
        children = me.children(recursive=True)
        sizes = [_memory(p) for p in [me, *children]]  # one read of each process's memory map
        samples.append(sum(rss for rss, _ in sizes) / 2**20)
        if pss is not None:
            pss.append(sum(shared_once for _, shared_once in sizes) / 2**20)
        if worker_cpu is not None:
            for child in children:
                try:
                    times = child.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                worker_cpu[child.pid] = times.user + times.system

    n = 0
    for n, page in enumerate(pages, 1):
        if n % every == 0:
            sample()
        yield page
    if n % every:
        sample()  # once more after the last page: the workers' CPU up to the pages still in flight


def _memory(process) -> tuple[int, int]:
    """(RSS, PSS) of a process in bytes; (0, 0) for one that has ended."""
    import psutil

    try:
        info = process.memory_full_info()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0, 0
    return info.rss, getattr(info, "pss", 0)


# --------------------------------------------------------------------------- the ceiling


def serialised_chunks(es, alias: str, chunk_size: int) -> list[bytes]:
    """The documents of ``alias`` (an index or alias) as ready ``_bulk`` bodies (action + source
    lines), chunk by chunk."""
    from elasticsearch import helpers

    chunks, lines = [], []
    for hit in helpers.scan(es, index=alias, size=1000):
        lines.append(json.dumps({"index": {"_id": hit["_id"]}}, separators=(",", ":")))
        lines.append(json.dumps(hit["_source"], ensure_ascii=False, separators=(",", ":")))
        if len(lines) == 2 * chunk_size:
            chunks.append(("\n".join(lines) + "\n").encode("utf-8"))
            lines = []
    if lines:
        chunks.append(("\n".join(lines) + "\n").encode("utf-8"))
    return chunks


def raw_bulk(es, target: str, chunks: list[bytes], in_flight: int) -> tuple[float, int]:
    """Seconds and documents of sending ``chunks`` into ``target`` with ``in_flight`` requests at a time."""
    from concurrent.futures import ThreadPoolExecutor

    def send(body: bytes) -> int:
        resp = es.bulk(index=target, operations=body)
        if resp["errors"]:
            raise RuntimeError("raw bulk refused documents")
        return len(resp["items"])

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        count = sum(pool.map(send, chunks))
    es.indices.refresh(index=target)
    return time.perf_counter() - t0, count


# --------------------------------------------------------------------------- driver


def cleanup(es, prefix: str) -> None:
    names = list(es.indices.get(index=f"{prefix}*", expand_wildcards="all").body)
    if names:
        es.indices.delete(index=",".join(names))
    for tpl in es.indices.get_index_template(name=f"{prefix}*").body.get("index_templates", []):
        es.indices.delete_index_template(name=tpl["name"])


def node_cpu_seconds(es) -> float:
    """The CPU time the node processes have used so far (all nodes of the cluster). The node
    refreshes these figures once a second (``monitor.process.refresh_interval``): read after
    a pause, so what a phase used has reached them."""
    time.sleep(1.5)
    stats = es.nodes.stats(metric="process", filter_path="nodes.*.process.cpu.total_in_millis")
    return sum(node["process"]["cpu"]["total_in_millis"] for node in stats["nodes"].values()) / 1000


def bench_size(n: int, workdir: Path, keep: bool) -> dict:
    settings = Settings()
    es = es_client.connect(settings)
    prefix = f"mfa-bench-{uuid.uuid4().hex[:8]}"
    warc = workdir / f"synthetic-{n}.warc.gz"
    t0 = time.perf_counter()
    html_bytes = write_warc(warc, n)
    build_s = time.perf_counter() - t0
    try:
        done = subprocess.run([sys.executable, __file__, "--child", str(warc), f"{prefix}-replay"],
                              capture_output=True, text=True, check=True)
        replay = json.loads(done.stdout.strip().splitlines()[-1])
        done = subprocess.run([sys.executable, __file__, "--child-pipeline", str(warc)],
                              capture_output=True, text=True, check=True)
        alone = json.loads(done.stdout.strip().splitlines()[-1])
        chunks = serialised_chunks(es, f"{prefix}-replay", settings.bulk_chunk_size)
        kept = serialised_chunks(es, design.versions_index_name(f"{prefix}-replay"), settings.bulk_chunk_size)
        design.ensure_index(es, settings, alias=f"{prefix}-raw")
        raw_versions = design.ensure_versions_index(es, settings, f"{prefix}-raw")
        node_before = node_cpu_seconds(es)
        raw_s, raw_docs = raw_bulk(es, design.write_index(es, f"{prefix}-raw"), chunks, 1)
        node_raw_s = node_cpu_seconds(es) - node_before
        node_before = node_cpu_seconds(es)
        _, raw_kept = raw_bulk(es, raw_versions, kept, 1)
        node_kept_s = node_cpu_seconds(es) - node_before
    finally:
        if not keep:
            cleanup(es, prefix)
    return {
        "n": n, "warc_mb": warc.stat().st_size / 2**20, "html_mb": html_bytes / 2**20, "build_s": build_s,
        "indexed": replay["new"], "failed": replay["failed"], "e2e_s": replay["seconds"],
        "e2e_dps": replay["new"] / replay["seconds"], "raw_docs": raw_docs, "raw_s": raw_s,
        "raw_dps": raw_docs / raw_s, "peak_rss_mb": replay["peak_rss_mb"], "peak_pss_mb": replay["peak_pss_mb"],
        "cpu_ms_per_doc": 1000 * replay["cpu_s"] / max(1, replay["new"]), "rss_samples": replay["rss_samples_mb"],
        "node_e2e_ms_per_doc": 1000 * replay["node_s"] / max(1, replay["new"]),
        "node_raw_ms_per_doc": 1000 * node_raw_s / max(1, raw_docs), "node_raw_cores": node_raw_s / raw_s,
        "node_kept_ms_per_doc": 1000 * node_kept_s / max(1, raw_docs), "raw_kept": raw_kept,
        "pipeline_ms_per_doc": 1000 * alone["cpu_s"] / max(1, alone["docs"]), "pipeline_docs": alone["docs"],
    }


def print_efficiency(rows: list[dict], cores: int) -> None:
    """The issue's figure: replay docs/s over the bound the two CPU costs set on these cores,
    cores / (node CPU per doc, raw + pipeline CPU per doc, alone), and its two factors: the
    share of the cores the replay kept busy (the node's and the replay's own CPU per doc at its
    docs/s), and the bound's CPU over the CPU the replay spent (its look-ups, the HTTP client,
    the threads' hand-offs and, with workers, the pages' trips between processes are overhead).

    The node's raw CPU counts what the replay has it store, as the pipeline's counts what it
    serialises for it: the documents and their kept versions (``history``, one entry per
    document in a fresh index). The last column is the efficiency against the documents'
    raw ``_bulk`` alone, as it was figured before 2026-12-06: it charges the history's
    indexing to the replay as overhead while the pipeline's side of the bound serialises it."""
    print()
    print(f"{'N':>7} {'node raw ms/doc':>16} {'pipeline ms/doc':>16} {'bound docs/s':>13} {'e2e docs/s':>11} "
          f"{'efficiency':>11} {'cores busy':>11} {'bound CPU / spent':>18} {'docs-only eff.':>15}")
    for r in rows:
        node_raw = r["node_raw_ms_per_doc"] + r["node_kept_ms_per_doc"]
        bound = 1000 * cores / (node_raw + r["pipeline_ms_per_doc"])
        docs_only = 1000 * cores / (r["node_raw_ms_per_doc"] + r["pipeline_ms_per_doc"])
        spent = r["node_e2e_ms_per_doc"] + r["cpu_ms_per_doc"]
        busy = r["e2e_dps"] * spent / 1000 / cores
        print(f"{r['n']:>7} {node_raw:>16.2f} {r['pipeline_ms_per_doc']:>16.2f} {bound:>13.0f} "
              f"{r['e2e_dps']:>11.0f} {r['e2e_dps'] / bound:>11.2f} {busy:>11.2f} "
              f"{(node_raw + r['pipeline_ms_per_doc']) / spent:>18.2f} {r['e2e_dps'] / docs_only:>15.2f}")
    print(f"efficiency = e2e docs/s / ({cores} cores / (node raw ms/doc + pipeline ms/doc)) "
          f"= cores busy x bound CPU / spent (target 0.85 at 10,000)")
    for r in rows:
        print(f"N={r['n']}: node raw ms/doc = the documents' {r['node_raw_ms_per_doc']:.2f} + their "
              f"{r['raw_kept']} kept versions' {r['node_kept_ms_per_doc']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="archive sizes, comma-separated")
    parser.add_argument("--keep", action="store_true", help="keep the bench indices")
    parser.add_argument("--child", nargs=2, metavar=("WARC", "ALIAS"), help=argparse.SUPPRESS)
    parser.add_argument("--child-pipeline", metavar="WARC", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_replay(Path(args.child[0]), args.child[1])))
        return
    if args.child_pipeline:
        print(json.dumps(child_pipeline(Path(args.child_pipeline))))
        return

    sizes = [int(s) for s in args.sizes.split(",")]
    settings = Settings()
    print(f"replay bench: node {settings.es_url}, bulk chunk {settings.bulk_chunk_size} documents, "
          f"{settings.bulk_in_flight} chunk(s) in flight in the replay (MFA_BULK_IN_FLIGHT; one bulk per index at a time), "
          f"one in the raw _bulk, "
          f"extract_workers={settings.extract_workers} (MFA_EXTRACT_WORKERS)")
    rows = []
    with tempfile.TemporaryDirectory(prefix="mfa-replay-bench-") as tmp:
        for n in sizes:
            row = bench_size(n, Path(tmp), args.keep)
            rows.append(row)
            print(f"  N={n}: WARC {row['warc_mb']:.1f} MB gz ({row['html_mb']:.0f} MB HTML, built in "
                  f"{row['build_s']:.1f}s); indexed {row['indexed']}, failed {row['failed']}", flush=True)
    print()
    print(f"{'N':>7} {'e2e docs/s':>11} {'raw _bulk docs/s':>17} {'ratio':>6} {'e2e s':>7} {'raw s':>6} "
          f"{'peak RSS MB':>12} {'CPU ms/doc':>11} {'node ms/doc e2e':>16} {'node ms/doc raw':>16} {'peak PSS MB':>12}")
    for r in rows:
        print(f"{r['n']:>7} {r['e2e_dps']:>11.0f} {r['raw_dps']:>17.0f} {r['e2e_dps'] / r['raw_dps']:>6.2f} "
              f"{r['e2e_s']:>7.1f} {r['raw_s']:>6.1f} {r['peak_rss_mb']:>12.0f} {r['cpu_ms_per_doc']:>11.2f} "
              f"{r['node_e2e_ms_per_doc']:>16.2f} {r['node_raw_ms_per_doc']:>16.2f} {r['peak_pss_mb']:>12.0f}")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print_efficiency(rows, cores)
    for r in rows:
        # At 0.8 of the ceiling the node alone needs 0.8 * raw docs/s * its raw cost per document;
        # whatever CPU is left on a machine it shares is all the pipeline may use per document.
        at = 0.8 * r["raw_dps"]
        left_raw = 1000 * cores / at - r["node_raw_ms_per_doc"]
        left_e2e = 1000 * cores / at - r["node_e2e_ms_per_doc"]
        print(f"N={r['n']}: the raw run kept {r['node_raw_cores']:.2f} of {cores} cores busy in the node; at 0.8 of "
              f"the ceiling ({at:.0f} docs/s) a pipeline sharing those cores may use {left_raw:.2f} CPU ms/doc if "
              f"its writes cost the node what raw ones do, {left_e2e:.2f} at what they cost it here "
              f"(the pipeline uses {r['cpu_ms_per_doc']:.2f})")
    for r in rows:
        step = 10 if len(r["rss_samples"]) > 20 else 1  # a 100,000-page run: every tenth sample
        print(f"RSS every {1000 * step:,} pages, N={r['n']}: "
              + " ".join(f"{v:.0f}" for v in r["rss_samples"][step - 1::step]) + " MB")
    if len(rows) >= 2:
        print(f"peak RSS {rows[0]['n']} -> {rows[-1]['n']}: {rows[0]['peak_rss_mb']:.0f} MB -> "
              f"{rows[-1]['peak_rss_mb']:.0f} MB (targets: efficiency >= 0.85 at 10,000, RSS < 300 MB and flat)")


if __name__ == "__main__":
    main()
