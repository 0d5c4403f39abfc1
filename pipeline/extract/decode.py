"""Stage extract, step 1: raw bytes of a Page -> text, and whether it is HTML.

Reads ``Page.content`` (and ``Page.content_type`` when a server sent one). The
charset is taken, in order, from a byte-order mark, strict UTF-8 (valid UTF-8
wins over a stale declaration), the HTTP header, a ``<meta charset>`` /
``http-equiv`` declaration, and finally charset-normalizer's guess (which is how windows-1251 pages without a
declaration are read). Binary or undecodable input raises DropPage.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

from pipeline.errors import DropPage

_SNIFF = 4096
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|div|p|article|h1)\b",
                         re.IGNORECASE | re.DOTALL)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Control characters other than tab/newline/CR/form feed: a text page has next to none.
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13))
_CONTROL_TABLE = bytes.maketrans(b"", b"")


@dataclass(frozen=True)
class Decoded:
    text: str
    is_html: bool
    encoding: str


def looks_like_html(head: bytes, content_type: str | None = None) -> bool:
    """HTML by the Content-Type, or by the first tag of the document."""
    if content_type and "html" in content_type.lower():
        return True
    if content_type and content_type.lower().startswith("text/plain"):
        return False
    return bool(_HTML_START.match(head))


def declared_charset(head: bytes, content_type: str | None) -> str | None:
    """The charset the server or the page declares, if Python knows it."""
    candidates = []
    if content_type:
        match = _HEADER_CHARSET.search(content_type)
        if match:
            candidates.append(match.group(1))
    match = _META_CHARSET.search(head)
    if match:
        candidates.append(match.group(1).decode("ascii", "ignore"))
    for name in candidates:
        try:
            return codecs.lookup(name).name
        except LookupError:
            continue
    return None


def _looks_binary(data: bytes) -> bool:
    sample = data[:_SNIFF]
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(_CONTROL_TABLE, _CONTROL))
    return controls > max(4, len(sample) // 100)


def decode_page(content: bytes, content_type: str | None = None) -> Decoded:
    """Bytes -> text; raise DropPage when the input is empty, binary or undecodable."""
    if not content or not content.strip():
        raise DropPage("empty input")
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            text = content.decode(encoding, errors="replace")
            return Decoded(text.lstrip("\ufeff"), looks_like_html(text[:_SNIFF].encode("utf-8", "ignore"), content_type), encoding)
    if _looks_binary(content):
        raise DropPage("binary content (not a text or HTML page)")
    head = content[:_SNIFF]
    is_html = looks_like_html(head, content_type)
    # Valid UTF-8 first, even against a declaration: pages moved off the old portal often
    # kept a windows-1251 declaration, and Cyrillic cp1251 text is never valid UTF-8 by chance.
    try:
        return Decoded(content.decode("utf-8"), is_html, "utf-8")
    except UnicodeDecodeError:
        pass
    declared = declared_charset(head, content_type) if is_html or content_type else None
    if declared:
        try:
            return Decoded(content.decode(declared), is_html, declared)
        except UnicodeDecodeError:
            pass  # a wrong declaration is common on old pages: guess instead
    guess = from_bytes(content[:200_000], cp_isolation=["cp1251", "koi8_r", "cp1252", "latin_1", "utf_8"]).best()
    if guess is None:
        raise DropPage("cannot tell the text encoding")
    return Decoded(content.decode(guess.encoding, errors="replace"), is_html, guess.encoding)
