"""mfa-ingest: the library behind the CLI and the Airflow DAGs.

Stages, one module each, chained as iterators of typed records:
sources -> fetch -> extract -> clean -> parse -> records -> index, wired by run.
Nothing here imports Airflow.
"""

__version__ = "0.1.0"
