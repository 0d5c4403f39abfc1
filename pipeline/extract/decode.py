"""Stage extract, step 1: raw bytes of a Page -> text, and whether it is HTML.

Reads ``Page.content`` (and ``Page.content_type`` when a server sent one). The
charset is taken, in order, from a byte-order mark, strict UTF-8 (valid UTF-8
wins over a stale declaration), the HTTP header, a ``<meta charset>`` /
``http-equiv`` declaration, and finally charset-normalizer's guess (which is how windows-1251 pages without a
declaration are read). Binary or undecodable input raises DropPage.

Never junk: UTF-8 with a handful of invalid bytes (a damaged download) stays UTF-8,
the bad bytes replaced and counted (``Decoded.replaced``), instead of the whole page
being read as an 8-bit charset (mojibake); control characters (NUL...) are taken out
of the whole text, not only the sniffed head.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

from pipeline.model.errors import DropPage

_SNIFF = 4096
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|div|p|article|h1)\b",
                         re.IGNORECASE | re.DOTALL)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Control characters other than tab/newline/CR/form feed: a text page has next to none.
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13))
_CONTROL_TABLE = bytes.maketrans(b"", b"")
# The same characters (and DEL) removed from decoded text.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 32), 127])  # the same, as bytes of ASCII-based charsets
# UTF-8 with bad bytes is still UTF-8 when valid multi-byte characters outnumber the bad
# ones this many times: cp1251/koi8-r Cyrillic or latin-1 accents are almost all bad bytes
# when read as UTF-8 (a cp1251 letter is followed by another letter, never a continuation byte).
_UTF8_VALID_PER_BAD = 2

log = logging.getLogger("pipeline.extract")


@dataclass(frozen=True)
class Decoded:
    text: str
    is_html: bool
    encoding: str
    replaced: int = 0  # invalid bytes replaced by U+FFFD (a damaged UTF-8 page)
    # The text is the bytes decoded as UTF-8 and nothing else (no BOM, nothing replaced or
    # removed): a cut of the bytes at an ASCII character is the same cut of the text
    # (extract/precut.py works on the bytes).
    verbatim: bool = False


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
    # A stray NUL in a text page is damage (removed later); binary formats are full of them.
    if sample.count(b"\x00") > len(sample) // 256:
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
            return _clean(Decoded(text.lstrip("\ufeff"),
                                  looks_like_html(text[:_SNIFF].encode("utf-8", "ignore"), content_type), encoding))
    if _looks_binary(content):
        raise DropPage("binary content (not a text or HTML page)")
    head = content[:_SNIFF]
    is_html = looks_like_html(head, content_type)
    # Valid UTF-8 first, even against a declaration: pages moved off the old portal often
    # kept a windows-1251 declaration, and Cyrillic cp1251 text is never valid UTF-8 by chance.
    try:
        return _clean(Decoded(content.decode("utf-8"), is_html, "utf-8", verbatim=True), content)
    except UnicodeDecodeError:
        pass
    mostly = _mostly_utf8(content, is_html)
    if mostly is not None:
        return mostly
    declared = declared_charset(head, content_type) if is_html or content_type else None
    if declared:
        try:
            return _clean(Decoded(content.decode(declared), is_html, declared), content)
        except UnicodeDecodeError:
            pass  # a wrong declaration is common on old pages: guess instead
    guess = from_bytes(content[:200_000], cp_isolation=["cp1251", "koi8_r", "cp1252", "latin_1", "utf_8"]).best()
    if guess is None:
        raise DropPage("cannot tell the text encoding")
    return _clean(Decoded(content.decode(guess.encoding, errors="replace"), is_html, guess.encoding))


def _mostly_utf8(content: bytes, is_html: bool) -> Decoded | None:
    """UTF-8 with a few invalid bytes (replaced and counted), or None when it is not UTF-8."""
    text = content.decode("utf-8", errors="replace")
    # each invalid byte (or cut-off sequence) became one U+FFFD; some pages print U+FFFD itself
    bad = text.count("\ufffd") - content.count("\ufffd".encode())
    valid_multibyte = len(text) - len(text.encode("ascii", "ignore")) - bad
    if valid_multibyte < _UTF8_VALID_PER_BAD * bad:
        return None
    log.warning("UTF-8 page with %d invalid bytes: replaced by U+FFFD", bad)
    return _clean(Decoded(text, is_html, "utf-8", replaced=bad))


def _clean(decoded: Decoded, content: bytes | None = None) -> Decoded:
    """Control characters out of the whole text (the binary sniff only saw its head).
    ``content``: the raw bytes of a single-byte or UTF-8 page, checked first (a C-speed
    translate instead of a regex scan of the text)."""
    if content is not None and len(content.translate(None, _CONTROL_BYTES)) == len(content):
        return decoded
    text = decoded.text
    if _CONTROL_CHARS.search(text):
        text = _CONTROL_CHARS.sub("", text)
        return Decoded(text, decoded.is_html, decoded.encoding, decoded.replaced)
    return decoded
