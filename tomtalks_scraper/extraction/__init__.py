"""Page → issue extraction, independent of Scrapy (used by the pipelines and by `tomtalks extract`).

The entry point is ``tomtalks_scraper.extraction.issue.extract_issue``; the other modules are its parts
(metadata, titles, dates, body rendering, HTML sanitising), which platform adapters also use.
"""
