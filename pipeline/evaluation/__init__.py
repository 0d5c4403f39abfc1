"""Extraction quality on the labelled set (``mfa-ingest eval``), with trafilatura beside it.
The labelled cases ship with the package, so an installed copy can evaluate itself."""
