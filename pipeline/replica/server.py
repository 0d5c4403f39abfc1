"""A local replica of mid.ru and archive.mid.ru for tests and demos.

Two stdlib ``ThreadingHTTPServer``s on 127.0.0.1 (port 0): one plays the current
site, one the old archive portal. They serve listing pages with pagination,
articles in both layouts and languages, an RSS feed, robots.txt, ETag and
Last-Modified with 304s, and switchable faults (500/503 bursts, 429 with
Retry-After, slow responses, truncated bodies, an off-site redirect, a changed,
an added and a disappearing article). Every request lands in ``access_log`` so
tests can check what the crawler did and how fast.

Run it by hand with ``mfa-ingest replica`` or ``python -m pipeline.replica.server``.
"""

from __future__ import annotations

import hashlib
import html
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from pipeline.replica.content import (ARCHIVE_EN, ARCHIVE_INSTANCE, ARCHIVE_RU, CURRENT_EN, CURRENT_RU, EDIT_PARAGRAPH,
                      Article, added_article, base_articles)

MSK = timezone(timedelta(hours=3))
ARCHIVE_RU_INSTANCE = "MCZ7HQuMdqBY"
RSS_PATH = "/en/foreign_policy/news/rss/"
EMPTY_LISTINGS = ("/en/press_service/spokesman/briefings/", "/ru/press_service/spokesman/briefings/")
ROBOTS = "User-agent: *\nDisallow: /en/search/\nDisallow: /ru/search/\nDisallow: /private/\n"
BOILERPLATE_EN = ('<div class="photo-album"><h3>Additional materials</h3><p>Photos</p>'
                  '<p>1 of 1 photos in album</p></div><form class="search-form"><a>Advanced settings</a></form>')
BOILERPLATE_RU = ('<div class="photo-album"><h3>Дополнительные материалы</h3><p>Фото</p>'
                  '<p>1 из 1 фотографий в альбоме</p></div><form class="search-form">'
                  '<p>Некорректно указаны даты</p><a>Дополнительные инструменты поиска</a></form>')
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December"]
MONTHS_RU = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
             "октября", "ноября", "декабря"]


@dataclass
class Hit:
    """One request as the replica saw it."""

    at: float  # time.monotonic() when the request line was read
    site: str
    method: str
    path: str  # path with query
    status: int
    headers: dict[str, str]


@dataclass
class Fault:
    kind: str  # status | retry_after | slow | truncate
    match: str  # substring of the path (with query) it applies to; "" = every path
    remaining: int
    arg: float = 0.0


@dataclass
class _Doc:
    article: Article
    modified: datetime
    listed: bool = True
    gone: bool = False
    redirect: str | None = None


@dataclass
class Replica:
    page_size: int = 2
    docs: dict[str, _Doc] = field(default_factory=dict)  # key: (site + path)
    faults: list[Fault] = field(default_factory=list)
    access_log: list[Hit] = field(default_factory=list)
    robots: str = ROBOTS

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._servers: dict[str, ThreadingHTTPServer] = {}
        start = datetime(2022, 1, 10, 9, 0, tzinfo=timezone.utc)
        for article in base_articles():
            self._put(article, start)

    # ---- lifecycle -------------------------------------------------------
    def start(self, port: int = 0, archive_port: int = 0) -> "Replica":
        for site, wanted in (("current", port), ("archive", archive_port)):
            server = ThreadingHTTPServer(("127.0.0.1", wanted), _handler_for(self, site))
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                             name=f"replica-{site}", daemon=True).start()
            self._servers[site] = server
        return self

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()

    def url(self, site: str = "current") -> str:
        host, port = self._servers[site].server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        return self.url("current")

    @property
    def archive_url(self) -> str:
        return self.url("archive")

    def article_url(self, article: Article) -> str:
        return self.url(article.site) + article.path

    # ---- what is published -----------------------------------------------
    def _put(self, article: Article, modified: datetime, **kw) -> None:
        self.docs[article.site + article.path] = _Doc(article=article, modified=modified, **kw)

    def live_articles(self) -> list[Article]:
        """Articles a complete crawl should index (listed, served, not redirected)."""
        return [d.article for d in self.docs.values() if d.listed and not d.gone and not d.redirect]

    def add_article(self) -> Article:
        article = added_article()
        with self._lock:
            self._put(article, datetime.now(timezone.utc).replace(microsecond=0))
        return article

    def edit_article(self, path: str | None = None) -> Article:
        """Change the text of an article (default: the newest English one); new ETag and date."""
        key = "current" + (path or CURRENT_EN + "1785001/")
        with self._lock:
            doc = self.docs[key]
            doc.article = doc.article.edited(EDIT_PARAGRAPH)
            # Last-Modified has one-second resolution; make sure it moves.
            doc.modified = max(datetime.now(timezone.utc).replace(microsecond=0),
                               doc.modified + timedelta(seconds=1))
        return doc.article

    def remove_article(self, path: str = CURRENT_EN + "1785002/") -> Article:
        """The page disappears (404) but the listing still shows it."""
        with self._lock:
            self.docs["current" + path].gone = True
        return self.docs["current" + path].article

    def add_offsite_redirect(self, target: str = "http://offsite.invalid/en/article/1/") -> str:
        """A listed article whose URL redirects to another host."""
        article = Article(site="current", language="en", path=CURRENT_EN + "1785200/",
                          title="Redirected article, Moscow, December 9, 2021",
                          published=datetime(2021, 12, 9, 10, 0), paragraphs=["Moved."])
        with self._lock:
            self._put(article, datetime.now(timezone.utc), redirect=target)
        return self.article_url(article)

    # ---- faults ----------------------------------------------------------
    def add_fault(self, kind: str, match: str = "", count: int = 1, arg: float = 0.0) -> None:
        with self._lock:
            self.faults.append(Fault(kind, match, count, arg))

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.remaining > 0 and fault.match in path:
                    fault.remaining -= 1
                    return fault
        return None

    # ---- access log ------------------------------------------------------
    def hits(self, *, site: str | None = None, contains: str = "", status: int | None = None) -> list[Hit]:
        with self._lock:
            return [h for h in self.access_log
                    if (site is None or h.site == site) and contains in h.path
                    and (status is None or h.status == status)]

    def clear_log(self) -> None:
        with self._lock:
            self.access_log.clear()

    def _log(self, hit: Hit) -> None:
        with self._lock:
            self.access_log.append(hit)

    # ---- rendering -------------------------------------------------------
    def listing(self, site: str, path: str) -> list[_Doc]:
        with self._lock:
            docs = [d for d in self.docs.values() if d.article.site == site and d.listed
                    and _listing_path(d.article) == path]
        return sorted(docs, key=lambda d: d.article.published, reverse=True)


def _listing_path(article: Article) -> str:
    if article.site == "current":
        return article.path.rsplit("/", 2)[0] + "/"
    return article.path.split("/-/")[0]


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _long_date(article: Article) -> str:
    d = article.published
    if article.language == "ru":
        return f"{d.day} {MONTHS_RU[d.month - 1]} {d.year}"
    return f"{d.day} {MONTHS_EN[d.month - 1]} {d.year}"


def render_current_article(article: Article) -> str:
    paras = "\n".join(f"<p>{_esc(p)}</p>" for p in article.paragraphs)
    number = (f'<p class="article-line__note article-line__note_small">{_esc(article.doc_number)}</p>'
              if article.doc_number else "")
    boiler = BOILERPLATE_RU if article.language == "ru" else BOILERPLATE_EN
    return f"""<!DOCTYPE html>
<html lang="{article.language}"><head><meta charset="utf-8"><title>{_esc(article.title)}</title></head>
<body>
<header class="header"><nav class="menu"><a href="/{article.language}/">{_esc(article.section_label)}</a></nav></header>
<div class="page-body">
<div class="breadcrumbs"><a href="{_listing_path(article)}">{_esc(article.section_label)}</a></div>
<div class="article-line"><span class="article-line__date">{_long_date(article)}</span><span class="article-line__time">{article.published:%H:%M}</span></div>
<h1 class="photo-content__title">{_esc(article.title)}</h1>
<ul class="lang-switcher"><li>en-GB<sup>1</sup></li><li>ru-RU<sup>1</sup></li></ul>
{number}
<div class="text article-content">
{paras}
</div>
{boiler}
</div>
<footer class="footer">© Ministry of Foreign Affairs of the Russian Federation</footer>
</body></html>
"""


def render_archive_article(article: Article) -> str:
    paras = "\n".join(f"<p>{_esc(p)}</p>" for p in article.paragraphs)
    number = f'<div class="doc-number">{_esc(article.doc_number)}</div>' if article.doc_number else ""
    return f"""<!DOCTYPE html>
<html lang="{article.language}"><head>
<meta http-equiv="Content-Type" content="text/html; charset={article.encoding}">
<title>{_esc(article.title)} - Министерство иностранных дел Российской Федерации</title></head>
<body class="portal">
<div id="wrapper"><div class="portlet-boundary portlet-boundary_101_" id="p_p_id_101_INSTANCE_{ARCHIVE_INSTANCE}_">
<div class="portlet-body"><div class="asset-full-content">
<div class="news_date">{article.published:%d.%m.%Y %H:%M}</div>
<h2 class="asset-title">{_esc(article.title)}</h2>
{number}
<div class="text article-content">
{paras}
</div>
</div></div></div>
<div class="portlet-boundary"><ul class="links"><li>Посольства и консульства</li></ul></div>
</div></body></html>
"""


def render_current_listing(replica: Replica, docs: list[_Doc], page: int, path: str, lang: str) -> str:
    size = replica.page_size
    chunk = docs[(page - 1) * size: page * size]
    items = "\n".join(
        f'<div class="announce__item"><a class="announce__link" href="{d.article.path}">'
        f'<span class="announce__date">{d.article.published:%d.%m.%Y %H:%M}</span>'
        f'<span class="announce__title">{_esc(d.article.title)}</span></a></div>'
        for d in chunk)
    nxt = (f'<div class="pagination"><a class="pagination__next" href="{path}?PAGEN_1={page + 1}">»</a></div>'
           if page * size < len(docs) else "")
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>Listing</title></head>'
            f'<body><div class="page-body"><div class="announce announce_articles">{items}</div>{nxt}'
            f'</div></body></html>')


def render_archive_listing(replica: Replica, docs: list[_Doc], page: int, path: str, instance: str) -> str:
    size = replica.page_size
    chunk = docs[(page - 1) * size: page * size]
    items = "\n".join(
        f'<li><div class="anons-date">{d.article.published:%d.%m.%Y}</div>'
        f'<div class="anons-title"><a href="{d.article.path}">{_esc(d.article.title)}</a></div></li>'
        for d in chunk)
    nxt = (f'<div class="pager"><a class="next" href="{path}?p_p_id=101_INSTANCE_{instance}'
           f'&amp;_101_INSTANCE_{instance}_cur={page + 1}">Next</a></div>' if page * size < len(docs) else "")
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Archive</title></head><body>'
            f'<ul class="anons-list news-anons-list">{items}</ul>{nxt}</body></html>')


def render_rss(replica: Replica) -> str:
    docs = replica.listing("current", CURRENT_EN)
    items = "\n".join(
        f"<item><title>{_esc(d.article.title)}</title><link>{replica.article_url(d.article)}</link>"
        f"<guid>{replica.article_url(d.article)}</guid>"
        f"<pubDate>{format_datetime(d.article.published.replace(tzinfo=MSK))}</pubDate></item>"
        for d in docs[:10])
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>MFA news</title>'
            f"<link>{replica.base_url}/en/</link><description>News</description>{items}</channel></rss>")


def _page_number(query: dict[str, list[str]], key_suffix: str) -> int:
    for key, values in query.items():
        if key.endswith(key_suffix):
            try:
                return max(1, int(values[0]))
            except ValueError:
                return 1
    return 1


def _handler_for(replica: Replica, site: str):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "ReplicaHTTP/1.0"

        def log_message(self, format, *args):  # noqa: A002 - quiet; we keep our own log
            pass

        def do_GET(self):  # noqa: N802
            self._at = time.monotonic()
            self._serve()

        # -- helpers --
        def _send(self, status: int, body: bytes = b"", ctype: str = "text/html; charset=utf-8",
                  headers: dict[str, str] | None = None, truncate: bool = False) -> int:
            # Logged before the answer goes out, so a client that has its answer finds it in the log.
            replica._log(Hit(at=self._at, site=site, method="GET", path=self.path, status=status,
                             headers={k.lower(): v for k, v in self.headers.items()}))
            self.send_response(status)
            if status != 304:
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if truncate:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if status != 304:
                try:
                    self.wfile.write(body[: len(body) // 2] if truncate else body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
            return status

        def _serve(self) -> int:
            fault = replica._take_fault(self.path)
            truncate = False
            if fault is not None:
                if fault.kind == "status":
                    return self._send(int(fault.arg), b"<html><body>Server error</body></html>")
                if fault.kind == "retry_after":
                    return self._send(429, b"<html><body>Too many requests</body></html>",
                                      headers={"Retry-After": str(int(fault.arg))})
                if fault.kind == "slow":
                    time.sleep(fault.arg)
                truncate = fault.kind == "truncate"
            return self._route(truncate)

        def _route(self, truncate: bool) -> int:
            parts = urlsplit(self.path)
            path, query = parts.path, parse_qs(parts.query)
            if path == "/robots.txt":
                return self._send(200, replica.robots.encode(), "text/plain; charset=utf-8")
            if path.startswith("/private/"):
                return self._send(200, b"<html><body>private</body></html>")
            if path == "/test/pdf":
                return self._send(200, b"%PDF-1.4 not a page", "application/pdf")
            if path == "/test/big":
                return self._send(200, b"<html><body>" + b"x" * 300_000 + b"</body></html>")
            if path == "/test/redirect-offsite":
                return self._send(302, b"", headers={"Location": "http://offsite.invalid/x"})
            if path == "/test/redirect-inside":
                return self._send(301, b"", headers={"Location": CURRENT_EN + "1785001/"})
            if path == "/test/redirect-localhost":
                port = self.server.server_address[1]
                return self._send(302, b"", headers={"Location": f"http://localhost:{port}{CURRENT_EN}1785001/"})
            if site == "current":
                if path == RSS_PATH:
                    return self._send(200, render_rss(replica).encode(), "application/rss+xml; charset=utf-8")
                if path in (CURRENT_EN, CURRENT_RU) or path in EMPTY_LISTINGS:
                    lang = path.split("/")[1]
                    docs = replica.listing(site, path) if path in (CURRENT_EN, CURRENT_RU) else []
                    body = render_current_listing(replica, docs, _page_number(query, "PAGEN_1"), path, lang)
                    return self._send(200, body.encode(), truncate=truncate)
            else:
                if path in (ARCHIVE_EN, ARCHIVE_RU):
                    instance = ARCHIVE_INSTANCE if path == ARCHIVE_EN else ARCHIVE_RU_INSTANCE
                    body = render_archive_listing(replica, replica.listing(site, path),
                                                  _page_number(query, "_cur"), path, instance)
                    return self._send(200, body.encode(), truncate=truncate)
            doc = replica.docs.get(site + path)
            if doc is None or doc.gone:
                return self._send(404, b"<html><body>Not found</body></html>")
            if doc.redirect:
                return self._send(302, b"", headers={"Location": doc.redirect})
            return self._article(doc, truncate)

        def _article(self, doc: _Doc, truncate: bool) -> int:
            article = doc.article
            if article.site == "current":
                body = render_current_article(article).encode("utf-8")
                ctype = "text/html; charset=utf-8"
            else:
                body = render_archive_article(article).encode(article.encoding)
                ctype = f"text/html; charset={article.encoding}"
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            modified = format_datetime(doc.modified.astimezone(timezone.utc), usegmt=True)
            validators = {"ETag": etag, "Last-Modified": modified}
            if self._not_modified(etag, doc.modified):
                return self._send(304, headers=validators)
            return self._send(200, body, ctype, headers=validators, truncate=truncate)

        def _not_modified(self, etag: str, modified: datetime) -> bool:
            inm = self.headers.get("If-None-Match")
            if inm is not None:
                return etag in [t.strip() for t in inm.split(",")]
            ims = self.headers.get("If-Modified-Since")
            if ims:
                try:
                    return modified.replace(microsecond=0) <= parsedate_to_datetime(ims)
                except (TypeError, ValueError):
                    return False
            return False

    return Handler


def main() -> None:  # pragma: no cover - manual demo entry
    replica = Replica().start()
    print(f"current site: {replica.base_url}\narchive site: {replica.archive_url}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        replica.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
