"""A local stand-in for mid.ru that the tests and demos crawl (``mfa-ingest replica``):
both layouts and languages, listings, feeds, robots.txt, and switchable faults.

A top-level package beside pipeline/, not part of the library: installed for drills
(``mfa-ingest replica`` imports it inside the command), it may import the library, the
library never imports it (import-linter contract in pyproject.toml).
"""
