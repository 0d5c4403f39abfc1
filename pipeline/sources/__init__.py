"""Stage sources: where raw pages come from. Each source is a generator of Page | Failure.

- dumps: a folder of text dumps or saved HTML files (the bundled sample, old scrapes)
- listings / warc: the site's listing pages and RSS (crawl) and WARC archives (replay)
"""

from pipeline.sources.dumps import iter_dump_folder

__all__ = ["iter_dump_folder"]
