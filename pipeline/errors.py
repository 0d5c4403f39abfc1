"""Named failure modes shared by every stage.

A stage raises one of these for a single input; the run loop turns it into a
``Failure`` record (see records.py) and goes on with the next input.
"""


class PipelineError(Exception):
    """Base of every error the pipeline knows how to report."""

    stage = "pipeline"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SourceError(PipelineError):
    """An input could not be read (missing folder, unreadable file)."""

    stage = "source"


class FetchError(PipelineError):
    """A page could not be fetched (HTTP error, timeout, refused redirect)."""

    stage = "fetch"


class DropPage(PipelineError):
    """A page was read but holds no usable transcript (binary, empty, no text)."""

    stage = "extract"


class RecordRejected(PipelineError):
    """A record failed validation (no title, no date, empty body)."""

    stage = "validate"


class IndexingError(PipelineError):
    """Elasticsearch refused a document."""

    stage = "index"


class ConfigError(PipelineError):
    """The site profile or the settings are wrong."""

    stage = "config"
