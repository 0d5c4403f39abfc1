"""``python -m pipeline.cli``: the same app as the mfa-ingest script."""

from pipeline.cli import main

main()
