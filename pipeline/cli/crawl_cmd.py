"""Commands of this group register here (see pipeline/cli/__init__.py)."""

from ._app import app  # noqa: F401
