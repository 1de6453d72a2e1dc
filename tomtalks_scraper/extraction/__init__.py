"""Page → issue extraction, independent of Scrapy (used by the pipelines and by `tomtalks extract`)."""

from tomtalks_scraper.extraction.issue import ExtractedIssue, ExtractionError, content_hash, extract_issue

__all__ = ["ExtractedIssue", "ExtractionError", "content_hash", "extract_issue"]
