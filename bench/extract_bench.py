"""Benchmark: our extraction beside trafilatura on the same HTML pages, in one run.

    .venv/bin/python bench/extract_bench.py [--rounds 5] [--no-chrome]

Pages: the HTML evaluation fixtures (tests/fixtures/html, both layouts, English and
Russian) plus the five seed dumps rendered in the current layout inside a heavy page
chrome (menus, footer, scripts). A last line times what the crawl does with a fetched
article on its one parse (``extract.document``): the blocked check, the language links and
extraction (before pages were parsed once, this was about 0.55x of extraction alone; now
about the same). The process is pinned to one CPU. Prints pages per second for each extractor and the peak memory
(Python allocations during one pass of each extractor over all pages, traced in a
separate pass because tracing slows Python code down, and the process's peak RSS).
Figures only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import html
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.crawl import blocked  # noqa: E402
from pipeline.extract.document import parse_document  # noqa: E402
from pipeline.extract.extractor import extract_record, language_links  # noqa: E402
from pipeline.context import RunContext  # noqa: E402
from pipeline.model.records import Page  # noqa: E402


def _chrome(lang: str) -> tuple[str, str]:
    menu = "".join(f'<li class="menu__item"><a href="/{lang}/section_{i}/">Section {i}</a>'
                   f'<ul>{"".join(f"<li><a href=/{lang}/s{i}/{j}/>Subsection {i}.{j}</a></li>" for j in range(12))}'
                   f"</ul></li>" for i in range(40))
    script = "<script>" + "var cfg={};" * 3000 + "</script>"
    top = (f'<header class="header"><nav class="menu"><ul>{menu}</ul></nav>'
           f'<form class="search-form"><input name="q"><a href="#">Advanced settings</a></form></header>')
    footer = f'<footer class="footer"><ul>{menu}</ul>© Ministry of Foreign Affairs</footer>{script}'
    return top, footer


def seed_pages(chrome: bool = True) -> list[bytes]:
    """The seed dumps as current-layout pages inside a realistic page chrome (or none: ``chrome=False``)."""
    top, footer = _chrome("en") if chrome else ("", "")
    pages = []
    for dump in sorted((ROOT / "sample/dumps").glob("*.txt")):
        lines = [line.strip() for line in dump.read_text(encoding="utf-8").splitlines() if line.strip()]
        title, body = lines[2] if ":" in lines[0] else lines[1], lines[3:]
        paragraphs = "\n".join(f"<p>{html.escape(line)}</p>" for line in body)
        page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
                f'</head><body>{top}<div class="page-body"><div class="article-line"><span class="article-line__date">'
                f'1 December 2020</span><span class="article-line__time">19:32</span></div>'
                f'<h1 class="photo-content__title">{html.escape(title)}</h1>'
                f'<div class="text article-content">{paragraphs}</div></div>{footer}</body></html>')
        pages.append(page.encode("utf-8"))
    return pages


def fixture_pages() -> list[bytes]:
    return [p.read_bytes() for p in sorted((ROOT / "pipeline/data/eval").glob("*.html"))]


def ours(pages: list[bytes]) -> int:
    profile = RunContext.build().profile
    done = 0
    for number, content in enumerate(pages):
        try:
            extract_record(Page(source=f"bench-{number}", content=content), profile)
            done += 1
        except Exception as exc:  # noqa: BLE001  the figure says how many pages gave a record
            print(f"  ours: page {number}: {exc}", file=sys.stderr)
    return done


def ours_crawl_page(pages: list[bytes]) -> int:
    """What the crawl does with a fetched article, on its one parse (extract/document.py): the
    blocked check, the article's language links, then extraction."""
    profile = RunContext.build().profile
    done = 0
    for number, content in enumerate(pages):
        url = f"https://mid.ru/en/foreign_policy/news/{number}/"
        page = Page(source=url, url=url, content=content)
        document = parse_document(content, None, profile)
        try:
            blocked.check(document, "article")
            language_links(document, url)
            extract_record(page, profile, document)
            done += 1
        except Exception as exc:  # noqa: BLE001  the figure says how many pages gave a record
            print(f"  crawl page: page {number}: {exc}", file=sys.stderr)
    return done


def trafilatura_text(pages: list[bytes]) -> int:
    import trafilatura

    return sum(1 for content in pages if trafilatura.extract(content, include_comments=False))


def trafilatura_with_metadata(pages: list[bytes]) -> int:
    import trafilatura

    return sum(1 for content in pages
               if trafilatura.bare_extraction(content, with_metadata=True, include_comments=False) is not None)


def measure(runs: dict, pages: list[bytes], rounds: int) -> list[dict]:
    """Each extractor over all pages, ``rounds`` times, the extractors taking turns round by
    round: a slow spell of a shared machine then slows them alike instead of one of them."""
    for run in runs.values():
        run(pages)  # warm-up: imports, compiled patterns, caches
    wall = dict.fromkeys(runs, 0.0)
    cpu = dict.fromkeys(runs, 0.0)
    done = dict.fromkeys(runs, 0)
    for _ in range(rounds):
        for name, run in runs.items():
            started, cpu_started = time.perf_counter(), time.process_time()
            done[name] += run(pages)
            wall[name] += time.perf_counter() - started
            cpu[name] += time.process_time() - cpu_started
    results = []
    for name, run in runs.items():
        # memory in a separate pass: tracing allocations slows Python code several times over
        tracemalloc.start()
        run(pages)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        total = len(pages) * rounds
        results.append({"name": name, "pages": total, "ok": done[name], "seconds": wall[name],
                        "pages_per_s": total / wall[name],
                        "cpu_pages_per_s": total / cpu[name] if cpu[name] else float("inf"),
                        "peak_alloc_mb": peak / 2**20})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-chrome", action="store_true",
                        help="the seed pages without their menus, footer and script: what the article alone costs")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    pages = fixture_pages() + seed_pages(chrome=not args.no_chrome)
    size_kb = sum(len(p) for p in pages) / len(pages) / 1024
    print(f"{len(pages)} HTML pages (mean {size_kb:.0f} KB{', seed pages without chrome' if args.no_chrome else ''}), "
          f"{args.rounds} rounds, one CPU")
    results = measure({"ours (extract_record)": ours, "trafilatura.extract (text only)": trafilatura_text,
                       "trafilatura.bare_extraction (+metadata)": trafilatura_with_metadata,
                       "ours, crawl (blocked + links + extract)": ours_crawl_page}, pages, args.rounds)
    print(f"{'extractor':42} {'pages/s':>9} {'cpu pages/s':>12} {'ok':>9} {'peak alloc MB':>14}")
    for r in results:
        print(f"{r['name']:42} {r['pages_per_s']:9.1f} {r['cpu_pages_per_s']:12.1f} "
              f"{r['ok']:>4}/{r['pages']:<4} {r['peak_alloc_mb']:14.1f}")
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    base = results[1]
    # Both: wall time on the pinned CPU, and CPU time of this process, which other
    # processes sharing that CPU (a busy machine) do not inflate.
    print(f"ours / trafilatura.extract speed: {results[0]['pages_per_s'] / base['pages_per_s']:.2f}x wall, "
          f"{results[0]['cpu_pages_per_s'] / base['cpu_pages_per_s']:.2f}x CPU")


if __name__ == "__main__":
    main()
