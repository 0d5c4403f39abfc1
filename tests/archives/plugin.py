"""pytest fixtures for the web-archive backfill: a real pywb over a collection built from the replica.

``archive_collection`` (session): WARC files written with the project's WARC writer
(pipeline/crawl/warcwriter.py) from the replica's pages (mfa_replica), under the
real site's addresses and with capture dates, indexed by pywb's ``wb-manager``:

- 1785002 (en), published in the window: captured, captured again with the same text,
  then edited and captured a third time;
- 1785002 (ru): an anti-bot challenge captured first, the page itself after it;
- 1786201 (en): a redirect capture (www., no trailing slash) and the page it leads to;
- 1785003 (en, ru): published before the window, captured inside it;
- a 404 capture of an article address;
- 1785002 (en) cross-posted under ``/foreign_policy/news/``, with the same text;
- an old-portal (archive.mid.ru) speech published in 2020, captured inside the window.

``pywb`` (session): pywb's ``wayback`` server on 127.0.0.1 (a free port) over that
collection, installed into its own virtualenv by scripts/pywb.sh. ``range_server``
(session): a small HTTP server with Range support over the collection's WARC files
(Common Crawl's data server). Nothing reaches the internet.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline.crawl.fetch import FetchResult
from pipeline.crawl.warcwriter import WarcStore
from mfa_replica.content import base_articles
from mfa_replica.pages import CHALLENGE, PageOptions, render_archive_article, render_article
from pipeline.settings import REPO_ROOT

COLLECTION = "mfa"
BASE = date(2021, 12, 10)  # the replica's items are dated relative to this day
SINCE, UNTIL = date(2021, 12, 5), date(2021, 12, 8)  # 1785002 (Dec 7) and 1786201 (Dec 6) inside
SITE = "https://mid.ru"


@dataclass
class Collection:
    root: Path
    warcs: list[Path]
    captures: int
    in_window: dict[str, str] = field(default_factory=dict)  # original URL -> its latest text's last paragraph
    edited_url: str = ""
    first_text: str = ""
    challenge_url: str = ""
    outside_urls: list[str] = field(default_factory=list)


def _article(articles, ident: int, language: str):
    return next(a for a in articles if a.site == "current" and a.article_id == str(ident) and a.language == language)


def _exchange(url: str, when: datetime, status: int = 200, body: bytes = b"",
              headers: list[tuple[str, str]] | None = None) -> FetchResult:
    reason = {200: "OK", 301: "Moved Permanently", 404: "Not Found"}[status]
    headers = headers or [("Content-Type", "text/html; charset=utf-8")]
    return FetchResult(url=url, status=status, reason=reason, http_version="HTTP/1.1", headers=headers,
                       request_headers=[("User-Agent", "archive-bot")], content=body, raw_body=body,
                       fetched_at=when)


def build_collection(root: Path) -> Collection:
    """The WARC files and pywb's collection folder (``root/collections/mfa``)."""
    articles = base_articles(BASE)
    opts = PageOptions()
    speech_en, speech_ru = _article(articles, 1785002, "en"), _article(articles, 1785002, "ru")
    old_en, old_ru = _article(articles, 1785003, "en"), _article(articles, 1785003, "ru")
    comment = _article(articles, 1786201, "en")
    portal = next(a for a in articles if a.site == "archive" and a.article_id == "4141810")
    edited = speech_en.edited("We have also agreed to meet again in the spring, in Minsk.")
    at = lambda day, hour=12: datetime(2021, 12, day, hour, 0, tzinfo=timezone.utc)  # noqa: E731
    url = lambda a: SITE + a.path  # noqa: E731
    page = lambda a: render_article(a, opts).encode(a.encoding)  # noqa: E731
    exchanges = [
        _exchange(url(speech_en), at(8), body=page(speech_en)),
        _exchange(url(speech_en), at(9), body=page(speech_en)),  # the same text again
        _exchange(url(speech_en), at(20), body=page(edited)),
        _exchange(url(speech_ru), at(8), body=CHALLENGE.encode()),
        _exchange(url(speech_ru), at(10), body=page(speech_ru)),
        _exchange("https://www.mid.ru" + comment.path.rstrip("/"), at(7), status=301,
                  headers=[("Location", url(comment)), ("Content-Type", "text/html")]),
        _exchange(url(comment), at(7, 13), body=page(comment)),
        _exchange(url(old_en), at(6), body=page(old_en)),
        _exchange(url(old_ru), at(6), body=page(old_ru)),
        _exchange(SITE + "/en/press_service/minister_speeches/1785099/", at(7), status=404, body=b"not found"),
        # the same speech cross-posted under the news: one page with it, the same text
        _exchange(SITE + speech_en.path.replace("press_service/minister_speeches", "foreign_policy/news"), at(8, 13),
                  body=page(speech_en)),
        # the old portal: captured inside the window, published in 2020
        _exchange("https://archive.mid.ru" + portal.path, at(6), body=render_archive_article(portal, opts).encode(
            portal.encoding)),
    ]
    warc_dir = root / "warc"
    with WarcStore(warc_dir, prefix="mfa-archive") as store:
        for exchange in sorted(exchanges, key=lambda e: e.fetched_at):
            store.record(exchange)
    warcs = [Path(p) for p in store.files]
    _pywb("wb-manager", "init", COLLECTION, cwd=root)
    _pywb("wb-manager", "add", COLLECTION, *map(str, warcs), cwd=root)
    return Collection(root=root, warcs=warcs, captures=len(exchanges),
                      in_window={url(edited): edited.paragraphs[-1], url(speech_ru): speech_ru.paragraphs[-1],
                                 url(comment): comment.paragraphs[-1]},
                      edited_url=url(edited), first_text=speech_en.paragraphs[-1],
                      challenge_url=url(speech_ru),
                      outside_urls=[url(old_en), url(old_ru), "https://archive.mid.ru" + portal.path])


def pywb_bin() -> Path:
    """The pywb virtualenv's bin folder (scripts/pywb.sh installs it when missing; quick when done)."""
    out = subprocess.run([str(REPO_ROOT / "scripts" / "pywb.sh")], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


def _pywb(tool: str, *args: str, cwd: Path) -> None:
    subprocess.run([str(pywb_bin() / tool), *args], cwd=cwd, check=True, capture_output=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, proc: subprocess.Popen | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answers on port {port}")


@dataclass
class Pywb:
    port: int
    root: Path

    @property
    def cdx_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{COLLECTION}/cdx"

    @property
    def replay_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{COLLECTION}/"

    def access_log(self) -> list[str]:
        """The paths pywb was asked for (its own request log)."""
        log = self.root / "access.log"
        return re.findall(r'"GET (\S+) HTTP', log.read_text(errors="replace")) if log.exists() else []


@pytest.fixture(scope="session")
def archive_collection(tmp_path_factory) -> Collection:
    return build_collection(tmp_path_factory.mktemp("pywb"))


@pytest.fixture(scope="session")
def pywb(archive_collection):
    port = free_port()
    log = open(archive_collection.root / "access.log", "wb")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([str(pywb_bin() / "wayback"), "--bind", "127.0.0.1", "--port", str(port)],
                            cwd=archive_collection.root, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_for(port, proc)
        yield Pywb(port, archive_collection.root)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


class _RangeHandler(SimpleHTTPRequestHandler):
    """Static files with single byte ranges (``Range: bytes=a-b`` -> 206), as Common Crawl's data server.
    ``busy``: how many requests to answer 429 with ``Retry-After: 1`` first."""

    hits: list[tuple[str, str | None]] = []
    times: list[float] = []  # time.monotonic() of each request
    busy: list[int] = [0]

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def send_head(self):
        wanted = self.headers.get("Range")
        type(self).hits.append((self.path, wanted))
        type(self).times.append(time.monotonic())
        if self.busy[0] > 0:
            self.busy[0] -= 1
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        found = re.fullmatch(r"bytes=(\d+)-(\d+)", wanted or "")
        if not found:
            return super().send_head()
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return None
        first, last = int(found[1]), int(found[2])
        data = path.read_bytes()[first:last + 1]
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {first}-{first + len(data) - 1}/{path.stat().st_size}")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        from io import BytesIO

        return BytesIO(data)


@dataclass
class RangeServer:
    port: int
    handler: type

    @property
    def data_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


@pytest.fixture(scope="session")
def range_server(archive_collection):
    archive_dir = archive_collection.root / "collections" / COLLECTION / "archive"
    handler = type("Handler", (_RangeHandler,), {"hits": [], "times": [], "busy": [0]})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(archive_dir)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RangeServer(server.server_address[1], handler)
    finally:
        server.shutdown()
        server.server_close()


def archive_env(settings, pywb: Pywb, range_server: RangeServer | None = None) -> dict[str, str]:
    """Settings (as MFA_ variables) that point a backfill at the local archive, fast."""
    import json

    hosts = [f"127.0.0.1:{pywb.port}"] + ([f"127.0.0.1:{range_server.port}"] if range_server else [])
    env = {
        "MFA_INDEX_ALIAS": settings.index_alias, "MFA_STATE_INDEX": settings.state_index,
        "MFA_DEADLETTER_INDEX": settings.deadletter_index, "MFA_STATE_DIR": str(settings.state_dir),
        "MFA_WAYBACK_CDX_URL": pywb.cdx_url, "MFA_WAYBACK_REPLAY_URL": pywb.replay_url,
        "MFA_COMMONCRAWL_INDEX_URL": pywb.cdx_url,
        "MFA_COMMONCRAWL_DATA_URL": range_server.data_url if range_server else "http://127.0.0.1:9/",
        "MFA_CRAWL_ALLOWED_PRIVATE_HOSTS": json.dumps(hosts),
        "MFA_ARCHIVE_RATE_PER_HOST": "50", "MFA_CRAWL_BACKOFF_FACTOR": "0.05", "MFA_CRAWL_BACKOFF_MAX": "0.5",
        "MFA_CRAWL_BACKOFF_JITTER": "0.05", "MFA_CRAWL_MAX_RETRIES": "2", "MFA_CRAWL_PROGRESS": "false",
    }
    return env


def clean_collection(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
