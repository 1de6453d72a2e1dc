"""Validate stage: refuse what is not a real issue (auth walls, empty or teaser bodies), and let
nothing hostile through to the archive.

Everything refused raises ``Rejected`` with a reason, which the store pipeline records. An accepted
issue's Markdown links and URL metadata are held to the HTML sanitiser's URL allow-list here, the
last stage before storage, whatever produced them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.crawler import Crawler

from pipelines.rejection import Rejected
from tomtalks_scraper.extraction.sanitize import is_safe_url, sanitize_markdown
from tomtalks_scraper.items import IssuePage
from tomtalks_scraper.urls import is_sign_in_page

if TYPE_CHECKING:  # a type only; the module imports trafilatura, which the crawl process does not need
    from tomtalks_scraper.extraction.issue import ExtractedIssue


class ValidatePipeline:
    def __init__(self, min_words: int) -> None:
        self.min_words = min_words

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(min_words=crawler.settings.getint("MIN_ISSUE_WORDS", 40))

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, IssuePage):
            return item
        if is_sign_in_page(item.final_url):
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
        disarm(issue)
        return item


def disarm(issue: ExtractedIssue) -> None:
    """No ``javascript:`` or ``data:`` URL in the Markdown body, the cover image or the canonical URL."""
    issue.body_markdown = sanitize_markdown(issue.body_markdown)
    if not is_safe_url(issue.image):
        issue.image = None
    if not is_safe_url(issue.canonical_url):
        issue.canonical_url = None
