"""Stage crawl: the live site -> Pages. Listings and feeds, polite fetching (robots.txt,
rate limits, retries, network guard), the crawl ledger in Elasticsearch, and the WARC
archive of every response. Hands Pages to the one ingest path (``pipeline.ingest``)."""
