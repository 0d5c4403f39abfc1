"""Stage extract: a Page's bytes -> a validated Transcript. Decoding, the known HTML
layouts and text dumps, line cleaning (boilerplate), metadata (dates, places, turns),
all driven by the rules of the site profile. Never imports crawl or store."""
