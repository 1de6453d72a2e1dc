"""Validate stage: refuse what is not a real issue (auth walls, empty or teaser bodies).

Everything refused raises ``Rejected`` with a reason, which the store pipeline records.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler

from pipelines.rejection import Rejected
from tomtalks_scraper.items import IssuePage

#: URL fragments of sign-in pages that sites redirect robots to instead of the issue.
AUTH_WALL_MARKERS = ("/authwall", "/uas/login", "/login?", "/signin?", "/checkpoint/")


class ValidatePipeline:
    def __init__(self, min_words: int) -> None:
        self.min_words = min_words

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(min_words=crawler.settings.getint("MIN_ISSUE_WORDS", 40))

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, IssuePage):
            return item
        if any(marker in item.final_url for marker in AUTH_WALL_MARKERS):
            raise Rejected("refused", f"redirected to a sign-in page ({item.final_url}); retried next run")
        issue = item.extracted
        if issue is None:
            if item.known_page_hash and item.known_page_hash == item.page_hash:
                return item  # the page is byte-identical to the stored one
            raise Rejected("unreadable", "nothing was extracted")
        if issue.access == "login_wall":
            raise Rejected("refused", "the page is a sign-in wall instead of the issue; retried next run")
        if issue.word_count < self.min_words and not (issue.access == "paid_preview" and issue.title):
            # A paywalled post with a title is kept even with a short teaser: its metadata is the archive's
            # record that it exists, and a later full body replaces the preview.
            raise Rejected(
                "too_short",
                f"{issue.word_count} words in the body (< MIN_ISSUE_WORDS={self.min_words}): "
                "an empty page, a teaser or not an issue",
            )
        if not issue.title:
            raise Rejected("no_title", "the page has no title in its metadata, headings or <title>")
        return item
