"""Whole bodies: an HTTP body with its transfer and content encodings undone, or proof it is cut.

One reading for every way a page comes in: the live crawl's fetch (crawl/fetch.py) and WARC
records (sources/warc.py, whose payload is the body as it was on the wire). A body is taken
only when it is provably whole, otherwise ``Truncated`` is raised and the input is a failure
of class ``truncated``, never written over a stored text:

- ``Transfer-Encoding: chunked``: the zero-length last chunk must be there (a body that does
  not parse as chunks at all was de-chunked by the tool that archived it and is read as is);
- a ``Content-Length``: that many bytes;
- a ``Content-Encoding`` (gzip, deflate): the compressed stream must end (its end marker, and
  for gzip the CRC);
- none of these (the body ended when the connection closed): an HTML body must reach its
  ``</html>``; nothing else tells a whole page from one cut short.
"""

from __future__ import annotations

import re
import zlib

from pipeline.model.errors import FetchError, Truncated

_HTML_END = re.compile(rb"</html\s*>", re.I)
_CHUNK_SIZE = re.compile(rb"([0-9a-fA-F]+)[ \t]*(?:;[^\r\n]*)?\r?\n")


def dechunk(raw: bytes) -> tuple[bytes, bool] | None:
    """(data, whole) of a chunked body, whole when its last chunk came; None when ``raw`` does not
    start as chunks (de-chunked already by whoever stored it)."""
    out, at = bytearray(), 0
    while True:
        match = _CHUNK_SIZE.match(raw, at)
        if match is None:
            return None if at == 0 else (bytes(out), False)
        size = int(match[1], 16)
        if size == 0:
            return bytes(out), True
        start = match.end()
        if len(raw) < start + size:
            return bytes(out + raw[start:]), False
        out += raw[start:start + size]
        at = start + size
        if raw[at:at + 2] == b"\r\n":
            at += 2
        elif raw[at:at + 1] == b"\n":
            at += 1


def decode_content(raw: bytes, encoding: str | None, cap: int, url: str, *, archived: bool = False) -> bytes:
    """The body with its Content-Encoding undone; ``Truncated`` when the stream does not end.
    ``archived``: a body that is no compressed stream at all is taken as is (some archiving
    tools store the decoded body under the server's Content-Encoding header)."""
    encoding = (encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise FetchError(f"{url}: unsupported Content-Encoding {encoding}")
    for wbits in (47, -15):  # 47: gzip or zlib header; -15: raw deflate some servers send
        try:
            decoder = zlib.decompressobj(wbits=wbits)
            out = decoder.decompress(raw, cap + 1)
        except zlib.error:
            continue
        if len(out) > cap:
            raise FetchError(f"{url}: decoded response is over the {cap}-byte limit")
        if not decoder.eof:
            raise Truncated(f"truncated: the {encoding} Content-Encoding stream does not end "
                            f"({len(raw)} bytes, {len(out)} decoded)")
        return out
    if archived:
        return raw
    raise FetchError(f"{url}: body does not decode as {encoding}")


def whole_body(raw: bytes, *, transfer_encoding: str | None, content_encoding: str | None,
               content_length: str | None, content_type: str | None, cap: int, url: str,
               dechunked: bool = False, archived: bool = False) -> bytes:
    """The decoded body of an HTTP answer, or ``Truncated`` when it is not provably whole.

    ``dechunked``: the transfer encoding was undone already and found whole (an HTTP client
    that raises on a missing last chunk). ``archived``: see ``decode_content``."""
    framed = dechunked
    if not dechunked and "chunked" in (transfer_encoding or "").lower():
        chunks = dechunk(raw)
        if chunks is not None:
            raw, whole = chunks
            if not whole:
                raise Truncated(f"truncated: chunked body without its last chunk ({len(raw)} bytes)")
            framed = True
    declared = (content_length or "").strip()
    if not framed and declared.isdigit():
        if len(raw) < int(declared):
            raise Truncated(f"truncated: body of {len(raw)} bytes, Content-Length {declared}")
        framed = True
    body = decode_content(raw, content_encoding, cap, url, archived=archived)
    framed = framed or (content_encoding or "").strip().lower() not in ("", "identity")
    if not framed and "html" in (content_type or "").lower() and not _HTML_END.search(body[-4096:]):
        raise Truncated(f"truncated: no length header and the HTML stops before </html> ({len(body)} bytes)")
    return body
