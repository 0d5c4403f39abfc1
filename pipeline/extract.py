"""Stage extract: a raw Page (HTML or a plain-text dump) -> a validated Transcript.

Placeholder: replaced by the extraction work (issue 3).
"""

from __future__ import annotations

from .errors import DropPage
from .profile import SiteProfile
from .records import Page, Transcript


def extract_record(page: Page, profile: SiteProfile | None = None) -> Transcript:
    """Turn one page into a Transcript; raise DropPage or RecordRejected with a reason."""
    raise DropPage("extraction not implemented yet")
