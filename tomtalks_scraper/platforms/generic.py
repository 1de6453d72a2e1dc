"""The fallback for any site no platform adapter claims (personal blogs, content-farm copies, …).

It knows no body selector: trafilatura finds the body. It only removes chrome that is common
across the web and that trafilatura's own filters miss because it has no telltale class:
platform widgets copied along with an article, link lists and spam "author information" blocks.
Its body extraction is ``extraction/ensemble.py`` (trafilatura's precision mode, with captions,
embeds and sign-up widgets handled before it and edge chrome trimmed after it); platform
adapters keep the default ``run_trafilatura``.
"""

from __future__ import annotations

from tomtalks_scraper.platforms.base import PlatformAdapter


class GenericAdapter(PlatformAdapter):
    name = "generic"
    boilerplate = (
        "aside.recommended-articles",
        ".inline-articles",
        "section.top-articles",
        "section.latest-posts",
        "section.article-information",
        ".subscribe-box",
        ".subscribe-form",
        ".newsletter-signup",
        ".subscription-widget-wrap",
        ".share-buttons",
        ".social-share",
    )
    boilerplate_headings = (
        "Recommended by LinkedIn",
        "Top Articles",
        "Latest Posts",
        "Article information",
        "Author information",
        "More articles by this author",
        "Others also viewed",
        "Explore topics",
        "Explore content categories",
        r"Subscribe to .{1,80}",
        r"More (?:issues |posts |articles )?from .{1,80}",
    )


ADAPTER = GenericAdapter()
