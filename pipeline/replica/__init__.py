"""A local stand-in for mid.ru that the tests and demos crawl (``mfa-ingest replica``):
both layouts and languages, listings, feeds, robots.txt, and switchable faults."""
