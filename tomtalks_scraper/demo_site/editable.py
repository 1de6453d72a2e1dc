"""A newsletter site whose issues tests and benchmarks can edit, add and delete between crawls.

Pages use the demo site's real templates; the listing is a sitemap with ``lastmod`` dates, a feed
without modification dates, or both. Each page carries an ETag and Last-Modified unless told not to.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from tomtalks_scraper.demo_site.server import Page
from tomtalks_scraper.demo_site.site import DemoIssue, issue_page, rss_feed

WORDS = ("archive robots cron ledger harbour lantern meadow orbit pixel quarry ribbon saddle timber "
         "velvet walnut zephyr beacon canyon dynamo ember falcon glacier").split()


def _paragraphs(number: int, version: int) -> str:
    """Three paragraphs of distinct text per issue (and per version)."""
    words = [WORDS[(number * 7 + i * 3 + version) % len(WORDS)] for i in range(150)]
    chunks = [" ".join(words[i:i + 50]).capitalize() + "." for i in range(0, 150, 50)]
    return f"Issue {number} version {version} opens here.\n\n" + "\n\n".join(chunks)


@dataclass
class EditableNewsletter:
    """``issues`` maps a slug to (DemoIssue, version); ``build`` renders the site at a base URL."""

    count: int
    recent: bool = False  # dates within the last days (re-checked every run) or in 2024
    listing: str = "sitemap"  # "sitemap", "feed" (no modification dates)
    validators: bool = True  # ETag / Last-Modified headers on issue pages
    versions: dict[str, int] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    issues: dict[str, DemoIssue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for number in range(1, self.count + 1):
            self.add(number)

    def add(self, number: int) -> str:
        start = datetime.now(UTC) - timedelta(days=2) if self.recent else datetime(2024, 1, 3, 9, tzinfo=UTC)
        date = (start - timedelta(hours=number)).strftime("%Y-%m-%dT%H:%M:%SZ")
        slug = f"issue-{number:04d}"
        self.issues[slug] = DemoIssue(slug, f"Issue number {number} of the Ledger", "Ann Editor", date,
                                      f"Summary of issue {number}.", _paragraphs(number, 1))
        self.versions[slug] = 1
        return slug

    def edit(self, slug: str) -> None:
        self.versions[slug] += 1
        number = int(slug.split("-")[1])
        self.issues[slug] = replace(self.issues[slug], markdown=_paragraphs(number, self.versions[slug]))

    def lastmod(self, slug: str) -> str:
        base = datetime.fromisoformat(self.issues[slug].date.replace("Z", "+00:00"))
        return (base + timedelta(days=self.versions[slug] - 1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def build(self, base: str) -> dict[str, Page]:
        live = [i for slug, i in sorted(self.issues.items()) if slug not in self.deleted]
        pages: dict[str, Page] = {"/robots.txt": Page(b"User-agent: *\nAllow: /\n", "text/plain")}
        if self.listing == "sitemap":
            urls = "".join(f"<url><loc>{base}{i.path}</loc><lastmod>{self.lastmod(i.slug)}</lastmod></url>"
                           for i in live)
            pages["/sitemap.xml"] = Page(
                f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
                .encode(), "application/xml")
        else:
            pages["/feed.xml"] = rss_feed(base, live)
        for issue in live:
            page = issue_page(base, issue, [])
            if self.validators:
                tag = hashlib.sha256(page.body).hexdigest()[:16]
                page.headers = {"ETag": f'"{tag}"', "Last-Modified": "Wed, 03 Jan 2024 09:00:00 GMT"}
            pages[issue.path] = page
        return pages

    @property
    def start_path(self) -> str:
        return "/sitemap.xml" if self.listing == "sitemap" else "/feed.xml"

