"""Named failure modes shared by every stage.

A stage raises one of these for a single input; the run loop turns it into a
``Failure`` record (see records.py) and goes on with the next input. ``stage`` says
where it happened; ``kind`` is the outcome class an operator reads in the run report
(site unreachable, robots unreachable, blocked, HTTP error, extraction, validation,
index failure...).
"""

import re

# Control characters (ESC, NUL, DEL, C1), bidi and zero-width marks, and the lone surrogates that
# stand for undecodable bytes (surrogateescape): none may reach a terminal, a log or a dead letter.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e"
                          "\u2066-\u2069\ufeff\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"[\t\r\n]+")


def _escaped(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte kept by surrogateescape: that byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` as one printable line: line breaks and tabs become a space, every other
    control character (an ESC of raw binary), invisible mark or undecodable byte its escape
    (``\\x1b``). The one sanitising of failure reasons (records.Failure) and error lines."""
    return _UNPRINTABLE.sub(lambda m: _escaped(m.group()), _LINE_BREAKS.sub(" ", text))


class PipelineError(Exception):
    """Base of every error the pipeline knows how to report."""

    stage = "pipeline"
    kind = "error"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SourceError(PipelineError):
    """An input could not be read (missing folder, unreadable file)."""

    stage = "source"
    kind = "source_error"


class FetchError(PipelineError):
    """A page could not be fetched (broken body, bad encoding, over the size cap...)."""

    stage = "fetch"
    kind = "fetch_error"


class SiteUnreachable(FetchError):
    """No answer from the site after the retries (connection refused or reset, timeouts, DNS)."""

    kind = "site_unreachable"


class RobotsUnreachable(FetchError):
    """robots.txt could not be had (5xx or no answer): RFC 9309 says crawl nothing for now."""

    kind = "robots_unreachable"


class RobotsDisallowed(FetchError):
    """robots.txt forbids the URL for our User-Agent."""

    kind = "disallowed"


class RefusedURL(FetchError):
    """A URL or a redirect target outside the allowed hosts or on a non-global address."""

    kind = "refused"


class HttpStatusError(FetchError):
    """The server answered with an error status (after retries, where retried)."""

    kind = "http_error"

    def __init__(self, reason: str, status: int):
        super().__init__(reason)
        self.status = status


class Truncated(FetchError):
    """A body that is not provably whole (a missing last chunk, a compressed stream that does not
    end, fewer bytes than its length, an HTML page cut before its end): never written."""

    kind = "truncated"


class Blocked(FetchError):
    """An anti-bot challenge or another non-content answer where content was expected."""

    kind = "blocked"


class LayoutChanged(FetchError):
    """A page that is neither content nor a challenge: its expected container is missing, so the
    site's layout changed. No backoff or retry mends it; the profile's selectors must."""

    kind = "layout_changed"


class DropPage(PipelineError):
    """A page was read but holds no usable transcript (binary, empty, no text)."""

    stage = "extract"
    kind = "extraction_failure"


class RecordRejected(PipelineError):
    """A record failed validation (no title, no date, empty body)."""

    stage = "validate"
    kind = "validation_failure"


class IndexingError(PipelineError):
    """Elasticsearch refused a document."""

    stage = "index"
    kind = "index_failure"


class ConfigError(PipelineError):
    """The site profile or the settings are wrong."""

    stage = "config"
    kind = "config_error"


class NotAnAlias(ConfigError):
    """A name the pipeline needs as an alias is a concrete index (``--index``, ``MFA_INDEX_ALIAS``)."""

    kind = "not_an_alias"
