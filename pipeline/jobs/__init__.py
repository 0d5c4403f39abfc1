"""The runs the CLI commands and the DAG tasks start, each through the one ingest path:
backfill partitions (backfill.py), the blue/green rebuild (rebuild.py) and the redrive of
dead letters (redrive.py)."""
