"""check-site: does the site still look the way the profile says? (Scrapy has ``scrapy check``.)

For each section and language: the first listing page and a few of its articles, fetched
politely through the crawl's ``Fetcher`` (robots.txt, rate limit, WARC). Per section it
reports the listing items found, the article fields found (title, date, time, place, doc
number, languages, paragraphs, turns), the profile selectors that matched nothing, blocked
responses and whether robots.txt allows paging. A section is ``ok`` when its listing yields
items and every checked article has the firm fields (title, date, text); otherwise its
problems name the selector to look at in ``config/site.yaml``. The time found on none of the
checked articles is a problem too (the time element gone: template drift). The table lists the
selectors that matched nothing for failing sections only (``--json`` has them all).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

from pipeline.crawl.blocked import check as blocked_reason
from pipeline.context import RunContext
from pipeline.crawl.fetch import Fetcher
from pipeline.crawl.listings import listing_page_url, parse_listing_all
from pipeline.crawl.warcwriter import WarcStore
from pipeline.model.errors import DropPage, FetchError, PipelineError
from pipeline.extract.document import Document, _css, parse_document
from pipeline.extract.extractor import extract_record
from pipeline.profile import CrawlSection, SiteProfile
from pipeline.model.records import Page

ARTICLE_FIELDS = ("title", "date", "time", "place", "doc_number", "languages", "paragraphs", "turns")
FIRM_FIELDS = ("title", "date", "paragraphs")
# Fields every article of the site has though a page may lack them: found on none of the checked
# articles, the template drifted (the time element gone) and the check fails.
EXPECTED_FIELDS = ("time",)


@dataclass
class SectionCheck:
    section: str
    language: str
    listing_url: str
    items: int = 0
    articles: int = 0
    found: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ARTICLE_FIELDS, 0))
    unmatched: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    paging_allowed: bool | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _unmatched_listing(document: Document, section: CrawlSection, profile: SiteProfile) -> list[str]:
    layout = profile.crawl.layouts[section.layout]
    try:
        root = document.root
    except DropPage as exc:
        return [f"listing unreadable: {exc.reason}"]
    wanted = [("container", layout.container), ("item", layout.item), ("date", layout.date), ("time", layout.time)]
    return [f"listing {name} {selector!r}" for name, selector in wanted if selector and not _css(selector)(root)]


def _unmatched_article(document: Document) -> list[str]:
    """The selectors of the page's layout that match nothing (read before extraction, which
    drops boilerplate out of the tree)."""
    try:
        layout, root = document.layout, document.root
    except DropPage as exc:
        return [f"article unreadable: {exc.reason}"]
    if layout is None:
        return ["article layout: no layout's detect selector matched"]
    misses = []
    for name in ("title", "date", "time", "doc_number", "languages", "text"):
        selectors = getattr(layout, name)
        if selectors and not any(_css(s)(root) for s in selectors):
            misses.append(f"{layout.name}.{name} {selectors!r}")
    return misses


def check_section(fetcher: Fetcher, ctx: RunContext, section: CrawlSection, language: str,
                  articles: int) -> SectionCheck:
    profile = ctx.profile
    layout = profile.crawl.layouts[section.layout]
    base = ctx.base_urls[layout.site]
    url = listing_page_url(base, section, layout, language, layout.first_page)
    result = SectionCheck(section.name, language, url)
    try:  # robots.txt unreachable or a challenge in its place raises here: reported like the listing's fetch
        if layout.page_param or section.listings[language].page_param:
            result.paging_allowed = fetcher.robots_allows(listing_page_url(base, section, layout, language,
                                                                           layout.first_page + 1))
        page = fetcher.get(url)
    except FetchError as exc:
        result.problems.append(f"listing not fetched: {exc.reason}")
        return result
    document = parse_document(page.content, page.content_type, profile)
    reason = blocked_reason(document, "listing", listing=layout)
    if reason:
        result.blocked.append(f"{url}: {reason}")
    entries = parse_listing_all(page.content, url, section, section.layout, layout, language)
    result.items = len(entries)
    result.unmatched += _unmatched_listing(document, section, profile)
    if not entries:
        result.problems.append(f"listing yields no items: check crawl.layouts.{section.layout}.item "
                               f"{layout.item!r} and link {layout.link!r}")
    for entry in [e for e in entries if not section.skips(e.title)][:articles]:
        _check_article(fetcher, profile, entry.url, result)
    return result


def _check_article(fetcher: Fetcher, profile: SiteProfile, url: str, result: SectionCheck) -> None:
    try:
        page = fetcher.get(url)
    except FetchError as exc:
        result.problems.append(f"article not fetched: {exc.reason}")
        return
    result.articles += 1
    document = parse_document(page.content, page.content_type, profile)  # one parse for the three readers
    reason = blocked_reason(document, "article")
    if reason:
        result.blocked.append(f"{url}: {reason}")
    for miss in _unmatched_article(document):
        if miss not in result.unmatched:
            result.unmatched.append(miss)
    try:
        record = extract_record(Page(source=url, url=url, content=page.content, content_type=page.content_type),
                                profile, document)
    except PipelineError as exc:
        result.problems.append(f"{url}: not extracted: {exc.reason}")
        return
    at = record.published_at
    has = {"title": bool(record.title), "date": True, "time": (at.hour, at.minute) != (0, 0),
           "place": bool(record.location), "doc_number": bool(record.doc_number),
           "languages": bool(record.languages), "paragraphs": bool(record.body), "turns": len(record.turns) > 1}
    for name, present in has.items():
        result.found[name] += int(present)


def run_check(ctx: RunContext, *, sections: list[str] | None = None,
              languages: list[str] | None = None, articles: int = 2) -> dict:
    """Check the chosen sections (default: every section of the current site) in each language."""
    settings, profile = ctx.settings, ctx.profile
    chosen = ([profile.crawl.section(n) for n in sections] if sections else
              [s for s in profile.crawl.sections if profile.crawl.layouts[s.layout].site == "current"])
    wanted = languages or profile.crawl.languages
    checks: list[SectionCheck] = []
    with WarcStore(settings.state_dir / "check-site", max_bytes=settings.warc_max_bytes) as warc, \
            Fetcher(ctx, recorder=warc.record) as fetcher:
        for section in chosen:
            for language in wanted:
                if language in section.listings:
                    checks.append(check_section(fetcher, ctx, section, language, articles))
        files = [str(f) for f in warc.files]
    for check in checks:  # a firm field missing on a checked article, an expected one on all of them
        for name in FIRM_FIELDS:
            if check.articles and check.found[name] < check.articles:
                check.problems.append(f"firm field {name} missing on {check.articles - check.found[name]} of "
                                      f"{check.articles} articles: see {check.unmatched or 'the extraction layouts'}")
        for name in EXPECTED_FIELDS:
            if check.articles and not check.found[name]:
                hints = [u for u in check.unmatched if f".{name} " in u] or check.unmatched
                check.problems.append(f"{name} found on 0 of {check.articles} articles (template drift?): "
                                      f"see {hints or 'the extraction layouts'}")
    return {"ok": all(c.ok for c in checks), "warc": files,
            "sections": [{**asdict(c), "ok": c.ok} for c in checks]}


def table_lines(report: dict) -> list[str]:
    """The report as a fixed-width table plus one line per problem."""
    head = f"{'section':28} {'lang':4} {'items':>5} {'art':>3} " + " ".join(f"{f[:5]:>5}" for f in ARTICLE_FIELDS) \
        + f" {'blkd':>4} {'paging':>6}  status"
    lines = [head]
    for c in report["sections"]:
        paging = {True: "yes", False: "no", None: "-"}[c["paging_allowed"]]
        lines.append(f"{c['section'][:28]:28} {c['language']:4} {c['items']:>5} {c['articles']:>3} "
                     + " ".join(f"{c['found'][f]:>5}" for f in ARTICLE_FIELDS)
                     + f" {len(c['blocked']):>4} {paging:>6}  {'ok' if c['ok'] else 'FAIL'}")
    for c in report["sections"]:
        where = f"{c['section']}/{c['language']}"
        lines += [f"{where}: problem: {p}" for p in c["problems"]]
        lines += [f"{where}: blocked: {b}" for b in c["blocked"]]
        if not c["ok"]:  # on a healthy section, optional selectors matching nothing explain nothing
            lines += [f"{where}: matched nothing: {u}" for u in c["unmatched"]]
    lines.append(f"responses saved to {', '.join(report['warc']) or '-'}")
    return lines


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""
