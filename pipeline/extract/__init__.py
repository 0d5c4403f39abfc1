"""Stage extract: a Page's bytes -> a validated Transcript. Decoding and one parse per page
(document.py, shared with the crawl's blocked check and language links), the known HTML
layouts and text dumps, line cleaning (boilerplate), metadata (dates, places, turns),
all driven by the rules of the site profile. Never imports crawl or store."""
