"""Stage sources: where raw pages come from, other than the live site. Each source is a
generator of Page | Failure.

- dumps: a folder of text dumps or saved HTML files (the bundled sample, old scrapes);
- warc: WARC files, ours or other tools' (replay);
- corpus: other people's corpora, CSV or JSON-lines files with a transcript per row;
- archive: any mix of those, under the one size cap (the reader every ingest path uses).
"""
