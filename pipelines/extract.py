"""Extract stage: platform pre-clean + trafilatura → ``item.extracted`` (an ``ExtractedIssue``)."""

from __future__ import annotations

from typing import Any

import trafilatura

from pipelines.rejection import Rejected
from tomtalks_scraper.extraction.issue import ExtractionError, extract_issue
from tomtalks_scraper.items import IssuePage
from tomtalks_scraper.platforms import all_adapters

#: trafilatura keeps LRU caches across pages; resetting them every N pages keeps long crawls flat.
RESET_CACHES_EVERY = 500


class ExtractPipeline:
    def __init__(self) -> None:
        self.pages = 0

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, IssuePage):
            return item
        platform = item.platform if item.platform in all_adapters() else None
        try:
            item.extracted = extract_issue(
                item.html, item.url, hints=item.hints, platform=platform,
                content_language=item.headers.get("Content-Language"),
            )
        except ExtractionError as error:
            raise Rejected("unreadable", str(error)) from error
        self.pages += 1
        if self.pages % RESET_CACHES_EVERY == 0:
            trafilatura.reset_caches()
        return item
