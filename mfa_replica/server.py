"""A local replica of mid.ru and archive.mid.ru for tests and demos.

Two stdlib ``ThreadingHTTPServer``s on 127.0.0.1 (port 0): one plays the current
site, one the old archive portal. They serve listing pages with pagination,
articles in both layouts and languages, an RSS feed, robots.txt, ETag and
Last-Modified with 304s, and switchable faults (500/503 bursts, 429 with
Retry-After, slow responses, truncated bodies, an off-site redirect, a changed,
an added and a disappearing article). Every request lands in ``access_log`` so
tests can check what the crawler did and how fast.

Run it by hand with ``mfa-ingest replica`` or ``python -m mfa_replica.server``.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from mfa_replica.content import (ARCHIVE_SECTIONS, CURRENT_EN, EDIT_PARAGRAPH, SECTIONS, Article,
                                     added_article, base_articles, today_msk)
from mfa_replica.pages import (CHALLENGE, ROBOTS_ARCHIVE, ROBOTS_CURRENT, PageOptions, render_archive_article,
                                    render_archive_listing, render_article, render_listing, render_rss)

@dataclass
class Hit:
    """One request as the replica saw it."""

    at: float  # time.monotonic() when the request line was read
    site: str
    method: str
    path: str  # path with query
    status: int
    headers: dict[str, str]


# Bodies that break off, as a server or a proxy cuts them (the connection closes after each).
CUTS = ("truncate", "cut_chunked", "cut_gzip", "cut_nolength")


def _cut_body(body: bytes, cut: str) -> bytes:
    """What goes on the wire for a body cut this way (``CUTS``)."""
    if cut == "cut_chunked":  # every chunk but the last (the zero-length one that ends the body)
        return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in
                        (body[i:i + 4096] for i in range(0, len(body), 4096)))
    if cut == "cut_gzip":
        packed = gzip.compress(body)
        return packed[: len(packed) * 4 // 5]
    if cut == "cut_nolength":
        return body[: len(body) * 4 // 5]
    return body[: len(body) // 2]


@dataclass
class Fault:
    kind: str  # status | retry_after | slow | challenge | down | one of CUTS
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
    """Both sites' state: the items, the switches, the faults and the access log."""

    page_size: int = 20  # the site shows 20 items per listing page
    docs: dict[str, _Doc] = field(default_factory=dict)  # key: site + path
    faults: list[Fault] = field(default_factory=list)
    access_log: list[Hit] = field(default_factory=list)
    robots: str = ROBOTS_CURRENT
    archive_robots: str = ROBOTS_ARCHIVE
    options: PageOptions = field(default_factory=PageOptions)
    # The same id also answers under /{lang}/foreign_policy/news/<id>/ (served, not listed: folding is issue 9).
    cross_posts: bool = True
    # The "edits" fault: one transcript edited every this many seconds (edit_next).
    edit_every_s: float = 60.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._stopped = threading.Event()
        self._edits = 0
        start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)
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
        self._stopped.set()
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

    def articles(self, *, site: str | None = None, section: str | None = None,
                 language: str | None = None) -> list[Article]:
        """Every served, listed item version (redirects and removed pages left out)."""
        return [d.article for d in self.docs.values() if d.listed and not d.gone and not d.redirect
                and (site is None or d.article.site == site) and (section is None or d.article.section == section)
                and (language is None or d.article.language == language)]

    def live_articles(self) -> list[Article]:
        """Transcripts a complete crawl should index: listed, served, and not a non-transcript notice."""
        return [a for a in self.articles() if not is_notice(a)]

    def add_article(self) -> Article:
        article = added_article()
        with self._lock:
            self._put(article, datetime.now(timezone.utc).replace(microsecond=0))
        return article

    def fill_day(self, day, count: int, section: str = "news", language: str = "en",
                 first_id: int = 1800000) -> list[Article]:
        """``count`` more short items on one day (more than a listing page holds, for paging tests)."""
        made = []
        with self._lock:
            for i in range(count):
                at = datetime.combine(day, datetime.min.time()).replace(hour=8 + i // 60, minute=i % 60)
                path = f"{SECTIONS[section][language]}{first_id + i}/"
                # Every other item has a document number: on the site it is sometimes missing (firm).
                number = f"{3000 + i}-{day:%d-%m-%Y}" if i % 2 == 0 else None
                article = Article(site="current", language=language, path=path, section=section, doc_number=number,
                                  title=f"Foreign Minister Sergey Lavrov's remarks, item {i + 1}, Moscow, "
                                        f"{at:%B} {at.day}, {at.year}",
                                  published=at, languages=[language],
                                  paragraphs=[f"Item {i + 1}: we held detailed talks on the agenda of the day "
                                              "and agreed to continue them soon.",
                                              "Question: What comes next?",
                                              "Sergey Lavrov: We will keep working with our partners."])
                self._put(article, datetime.now(timezone.utc).replace(microsecond=0))
                made.append(article)
        return made

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

    def edit_next(self) -> Article:
        """The edit fault's step: the next transcript of the current site, newest first and round
        robin, gets an added paragraph (not a briefing, whose HTML body an edit leaves as it is)."""
        with self._lock:
            texts = sorted((d.article for d in self.docs.values() if d.article.site == "current" and d.listed
                            and not d.gone and not d.redirect and d.article.html is None and not is_notice(d.article)),
                           key=lambda a: (a.published, a.path), reverse=True)
            article = texts[self._edits % len(texts)]
            self._edits += 1
        return self.edit_article(article.path)

    def _keep_editing(self) -> None:
        while not self._stopped.wait(self.edit_every_s):
            self.edit_next()

    def unlist(self, path: str) -> Article:
        """The item version stays served, but no listing or feed shows it (published after the
        first listing page a nightly crawl reads): only the language links of its other versions
        (``?lang=``) reach it."""
        with self._lock:
            self.docs["current" + path].listed = False
        return self.docs["current" + path].article

    def remove_article(self, path: str = CURRENT_EN + "1785002/") -> Article:
        """The page disappears (404) but the listing still shows it."""
        with self._lock:
            self.docs["current" + path].gone = True
        return self.docs["current" + path].article

    def add_offsite_redirect(self, target: str = "http://offsite.invalid/en/article/1/") -> str:
        """A listed article whose URL redirects to another host."""
        at = datetime.combine(today_msk(), datetime.min.time()).replace(hour=10)
        article = Article(site="current", language="en", path=CURRENT_EN + "1785200/",
                          title="Redirected article, Moscow", published=at, paragraphs=["Moved."])
        with self._lock:
            self._put(article, datetime.now(timezone.utc), redirect=target)
        return self.article_url(article)

    def find(self, site: str, path: str, lang: str | None) -> _Doc | None:
        """The item version a path answers with: by path, else by numeric id in any section path
        (cross-posts, other language prefixes) and the ``?lang=`` (or path) language."""
        doc = self.docs.get(site + path) if lang is None else None
        if doc is not None or site != "current":
            return doc
        match = _CURRENT_ARTICLE.match(path)
        if not match or not (self.cross_posts or lang):
            return None
        ident, want = match["id"], lang or match["lang"]
        versions = [d for d in self.docs.values() if d.article.site == "current" and d.article.article_id == ident]
        on_path = [d for d in versions if _section_path(d.article) == match["section"]
                   or (self.cross_posts and match["section"] == "foreign_policy/news")]
        chosen = [d for d in on_path if d.article.language == want] or on_path
        return chosen[0] if chosen else None

    # ---- faults ----------------------------------------------------------
    def add_fault(self, kind: str, match: str = "", count: int = 1, arg: float = 0.0) -> None:
        """kind: status (arg = code) | retry_after (arg = s) | slow (arg = s) | challenge | down | a cut
        (CUTS: truncate, half the body of its Content-Length; cut_chunked, chunks without the last;
        cut_gzip, a gzip Content-Encoding stream cut at 80%; cut_nolength, no length header and 80%)."""
        with self._lock:
            self.faults.append(Fault(kind, match, count, arg))

    def serve_challenge(self, match: str = "", count: int = 1_000_000) -> None:
        """Answer matching paths with the F5/TSPD anti-bot challenge (HTTP 200, no content)."""
        self.add_fault("challenge", match, count)

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

    # ---- listings --------------------------------------------------------
    def listing(self, site: str, path: str, since=None, until=None) -> list[Article]:
        """The items a listing path shows, newest first, optionally only those of [since, until]."""
        with self._lock:
            found = [d.article for d in self.docs.values() if d.article.site == site and d.listed
                     and d.article.listing_path == path]
        found = [a for a in found if (since is None or a.published.date() >= since)
                 and (until is None or a.published.date() <= until)]
        return sorted(found, key=lambda a: (a.published, a.path), reverse=True)

    def feed(self, lang: str) -> list[Article]:
        """The newest 20 current-site items of one language, every section."""
        with self._lock:
            found = [d.article for d in self.docs.values() if d.article.site == "current" and d.listed
                     and not d.redirect and d.article.language == lang]
        return sorted(found, key=lambda a: a.published, reverse=True)[:20]


# Named fault sets for demos and ops drills (``mfa-ingest replica --faults blocked,drift``).
FAULTS = {
    "500": "a burst of five HTTP 500 answers, then normal service",
    "429": "five HTTP 429 answers with Retry-After: 1",
    "slow": "every answer waits 2 seconds",
    "down": "every connection is dropped without an answer",
    "blocked": "every page is the F5/TSPD anti-bot challenge (HTTP 200, no content)",
    "drift": "article pages lose their time element (template drift)",
    "template": "a redesign: article and listing classes renamed (check-site fails)",
    "edits": "every minute the next transcript, newest first, gets an added paragraph (a revisit policy drill)",
}


def apply_faults(replica: "Replica", names: list[str]) -> None:
    """Switch on the named fault sets (keys of FAULTS); ValueError naming the valid ones."""
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise ValueError(f"unknown fault {', '.join(unknown)}; choose from {', '.join(FAULTS)}")
    forever = 1_000_000_000
    for name in names:
        if name == "500":
            replica.add_fault("status", "", count=5, arg=500)
        elif name == "429":
            replica.add_fault("retry_after", "", count=5, arg=1)
        elif name == "slow":
            replica.add_fault("slow", "", count=forever, arg=2.0)
        elif name == "down":
            replica.add_fault("down", "", count=forever)
        elif name == "blocked":
            replica.serve_challenge("")
        elif name == "drift":
            replica.options.no_time = True
        elif name == "template":
            replica.options.changed_template = True
        elif name == "edits":
            threading.Thread(target=replica._keep_editing, name="replica-edits", daemon=True).start()


NOTICE = re.compile(r"(?i)\baccreditation\b|аккредитаци")
_CURRENT_ARTICLE = re.compile(r"^/(?P<lang>[a-z]{2})/(?P<section>[a-z_/]+?)/(?P<id>\d{5,8})/$")
ROBOTS = ROBOTS_CURRENT  # the name earlier tests import
LISTING_PATHS = {path: (section, lang) for section, paths in SECTIONS.items()
                 for lang, path in paths.items() if lang in ("en", "ru")}
ARCHIVE_LISTINGS = {path: instance for paths in ARCHIVE_SECTIONS.values() for path, instance in paths.values()}


def is_notice(article: Article) -> bool:
    """A briefing accreditation notice: listed in the news, not a transcript."""
    return bool(NOTICE.search(article.title))


def _section_path(article: Article) -> str:
    return article.listing_path.strip("/").split("/", 1)[1]


def _date_param(query: dict[str, list[str]], key: str):
    try:
        return datetime.strptime(query[key][0], "%d.%m.%Y").date()
    except (KeyError, ValueError):
        return None


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
                  headers: dict[str, str] | None = None, truncate: str | None = None) -> int:
            """``truncate``: the kind of cut (CUTS), None for a whole answer."""
            # Logged before the answer goes out, so a client that has its answer finds it in the log.
            replica._log(Hit(at=self._at, site=site, method="GET", path=self.path, status=status,
                             headers={k.lower(): v for k, v in self.headers.items()}))
            self.send_response(status)
            cut = truncate if status == 200 else None
            wire = _cut_body(body, cut) if cut else body
            if status != 304:
                self.send_header("Content-Type", ctype)
                if cut in (None, "truncate"):  # the whole body's length, half of it sent
                    self.send_header("Content-Length", str(len(body)))
            if cut == "cut_chunked":
                self.send_header("Transfer-Encoding", "chunked")
            if cut == "cut_gzip":
                self.send_header("Content-Encoding", "gzip")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if truncate:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if status != 304:
                try:
                    self.wfile.write(wire)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
            return status

        def _serve(self) -> int:
            fault = replica._take_fault(self.path)
            truncate = None
            if fault is not None:
                if fault.kind == "status":
                    return self._send(int(fault.arg), b"<html><body>Server error</body></html>")
                if fault.kind == "retry_after":
                    return self._send(429, b"<html><body>Too many requests</body></html>",
                                      headers={"Retry-After": str(int(fault.arg))})
                if fault.kind == "challenge":
                    return self._send(200, CHALLENGE.encode())
                if fault.kind == "down":  # the connection drops without an answer
                    replica._log(Hit(at=self._at, site=site, method="GET", path=self.path, status=0, headers={}))
                    self.close_connection = True
                    return 0
                if fault.kind == "slow":
                    time.sleep(fault.arg)
                truncate = fault.kind if fault.kind in CUTS else None
            return self._route(truncate)

        def _route(self, truncate: str | None) -> int:
            parts = urlsplit(self.path)
            path, query = parts.path, parse_qs(parts.query)
            if path == "/robots.txt":
                text = replica.robots if site == "current" else replica.archive_robots
                return self._send(200, text.encode(), "text/plain; charset=utf-8")
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
                feed = re.fullmatch(r"/([a-z]{2})/rss\.php", path)
                if feed:
                    body = render_rss(replica.feed(feed[1]), replica.base_url, feed[1])
                    return self._send(200, body.encode(), "application/rss+xml; charset=utf-8")
                if path in LISTING_PATHS:
                    return self._current_listing(path, query, truncate)
            elif path in ARCHIVE_LISTINGS:
                return self._archive_listing(path, query, truncate)
            doc = replica.find(site, path, (query.get("lang") or [None])[0])
            if doc is None or doc.gone:
                return self._send(404, b"<html><body>Not found</body></html>")
            if doc.redirect:
                return self._send(302, b"", headers={"Location": doc.redirect})
            return self._article(doc, truncate)

        def _current_listing(self, path: str, query: dict, truncate: str | None) -> int:
            """``?PAGEN_1=N`` paging; ``?activeFrom=&activeTo=`` filters by day (PAGEN_1 after them)."""
            since, until = _date_param(query, "activeFrom"), _date_param(query, "activeTo")
            items = replica.listing("current", path, since, until)
            page = _page_number(query, "PAGEN_1")
            size = replica.page_size
            chunk = items[(page - 1) * size: page * size]
            nxt = None
            if page * size < len(items):
                params = {k: v[0] for k, v in query.items() if k != "PAGEN_1"}
                params["PAGEN_1"] = str(page + 1)
                nxt = f"{path}?{urlencode(params)}"
            body = render_listing(chunk, LISTING_PATHS[path][1], nxt, replica.options)
            return self._send(200, body.encode(), truncate=truncate)

        def _archive_listing(self, path: str, query: dict, truncate: str | None) -> int:
            instance = ARCHIVE_LISTINGS[path]
            items = replica.listing("archive", path)
            page = _page_number(query, "_cur")
            size = replica.page_size
            chunk = items[(page - 1) * size: page * size]
            nxt = (f"{path}?p_p_id=101_INSTANCE_{instance}&_101_INSTANCE_{instance}_cur={page + 1}"
                   if page * size < len(items) else None)
            return self._send(200, render_archive_listing(chunk, nxt).encode(), truncate=truncate)

        def _article(self, doc: _Doc, truncate: str | None) -> int:
            article = doc.article
            if article.site == "current":
                body = render_article(article, replica.options).encode("utf-8")
                ctype = "text/html; charset=utf-8"
            else:
                body = render_archive_article(article, replica.options).encode(article.encoding)
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


def article_pages(base_url: str = "https://mid.ru", archive_url: str = "https://archive.mid.ru") -> list:
    """Every transcript the replica serves (notices left out), rendered as its page would be
    fetched from ``base_url``/``archive_url``: the corpus of the judged search queries
    (``mfa-ingest eval --search``), which are written against these texts."""
    from pipeline.model.records import Page

    pages = []
    for article in base_articles():
        if is_notice(article):
            continue
        if article.site == "current":
            body, ctype, url = render_article(article, PageOptions()).encode("utf-8"), "text/html; charset=utf-8", base_url
        else:
            body = render_archive_article(article, PageOptions()).encode(article.encoding)
            ctype, url = f"text/html; charset={article.encoding}", archive_url
        pages.append(Page(source=url + article.path, url=url + article.path, content=body, content_type=ctype))
    return pages
