"""Mailchimp adapter (``../shared/docs/platforms.md`` §7): pure functions, crawled fixture sites.

* Golden pages (the two classic-template campaigns of the shared corpus, extracted from the list's
  real RSS feed, and our current-template campaign-archive page with its archive chrome) have their
  records in ``tests/fixtures/mailchimp/golden.json``, run by ``test_golden.py``. Here: their data
  tables and tracking links, and the corpus feed's ``pubDate`` reaching the issue as its date.
* Pure functions: detection, listing plans, the archive home's ``MM/DD/YYYY - <a>`` lines, the feed.
* A list archive (33 campaigns) crawled from its ``/home/?u=…&id=…`` page: every campaign the index
  lists is stored with its subject and send day, and the feed is not needed; with an empty index the
  feed fallback is read and its ``pubDate`` times are stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

import pytest
from golden import find, fold
from lxml import html as lxml_html
from sites import assert_stored

from tomtalks_scraper.demo_site.server import LocalSite, Page
from tomtalks_scraper.discovery.listings import ARCHIVE, FEED, Listing
from tomtalks_scraper.extraction.issue import extract_issue
from tomtalks_scraper.items import DiscoveryHints
from tomtalks_scraper.platforms import detect_platform
from tomtalks_scraper.platforms.mailchimp import ADAPTER
from tomtalks_scraper.urls import normalize_url

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mailchimp"
OTHER_PLATFORMS = ("beehiiv", "buttondown", "ghost", "kit", "linkedin", "medium", "other", "substack", "wordpress")
CORPUS_FEED = ("corpus", "real", "mailchimp", "psnc-system-suppliers.campaign-archive-feed.rss.xml")
FEED_URL = "https://us7.campaign-archive.com/feed?u=86d41ab7fa4c7c2c5d7210782&id=63383868f3"


def _parse(markup: str) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(markup)


def test_data_tables_stay_tables_and_tracking_links_stay_wrapped(shared: Path) -> None:
    campaign = shared.joinpath("corpus", "real", "mailchimp", "psnc-item-1.campaign.html").read_text(encoding="utf-8")
    issue = extract_issue(campaign, find("mailchimp", "psnc-item-1.campaign.html").url)
    assert "| Bicalutamide 150mg tablets | 28 | £3.96 | 1206011000001108 |" in issue.body_markdown
    page = extract_issue((FIXTURES / "campaign-archive-page.html").read_text(encoding="utf-8"),
                         find("mailchimp", "campaign-archive-page.html").url)
    assert [link.url for link in page.links] == [
        "https://robotsweekly.us7.list-manage.com/track/click?u=5f2e8a1c9b7d4e3f2a1b0c9d8&id=77aa88bb99&e=0c1d2e3f4a"]


def test_feed_date_reaches_the_issue(shared: Path) -> None:
    """Campaign pages carry no date: the feed's ``pubDate`` is the issue's date."""
    feed = ADAPTER.parse_listing(Listing(FEED_URL, FEED), shared.joinpath(*CORPUS_FEED).read_bytes(), FEED_URL)
    assert feed.newsletter == "System Suppliers"
    assert feed.home_url == "https://us7.campaign-archive.com/home/?u=86d41ab7fa4c7c2c5d7210782&id=63383868f3"
    assert [(i.url, i.hints.title, i.hints.published_at) for i in feed.issues] == [
        ("https://mailchi.mp/psnc/march-2023-price-concessions-3rd-update-s6dzuhohv9",
         "March 2023 Price Concessions 3rd Update", "2023-03-30T15:30:00Z"),
        ("https://mailchi.mp/psnc/march-2023-price-concessions-2nd-update-9lxheenfl0",
         "March 2023 Price Concessions 2nd Update", "2023-03-22T11:30:00Z"),
    ]
    campaign = shared.joinpath("corpus", "real", "mailchimp", "psnc-item-1.campaign.html").read_text(encoding="utf-8")
    issue = extract_issue(campaign, feed.issues[0].url, hints=feed.issues[0].hints)
    assert issue.published_at == "2023-03-30T15:30:00Z"


# Detection --------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "https://us7.campaign-archive.com/?u=86d41ab7fa4c7c2c5d7210782&id=63383868f3",
    "http://us5.campaign-archive1.com/?u=177759e271d0a2787093812a0&id=c13cce2305",
    "https://us2.campaign-archive.com/home/?u=e2e180baf855ac797ef407fc7&id=9e26887fc5",
    "https://mailchi.mp/psnc/march-2023-price-concessions-3rd-update-s6dzuhohv9",
    "http://eepurl.com/iGJzFw",
])
def test_campaign_archive_urls_are_mailchimp(url: str) -> None:
    assert ADAPTER.matches_url(url)


@pytest.mark.parametrize("url", [
    "https://mailchimp.com/resources/",
    "https://psnc.us7.list-manage.com/track/click?u=86d&id=4f0&e=cbd",
    "https://psnc.org.uk/priceconcessions",
])
def test_other_urls_are_not_mailchimp(url: str) -> None:
    assert not ADAPTER.matches_url(url)


def test_campaign_and_archive_home_are_detected_from_markup() -> None:
    for name in ("campaign-archive-page.html", "archive-home.html"):
        tree = _parse((FIXTURES / name).read_text(encoding="utf-8"))
        assert detect_platform("http://127.0.0.1:8000/?u=5f2&id=9a8", tree).name == "mailchimp"


def test_no_other_platform_page_of_the_corpus_looks_like_mailchimp(shared: Path) -> None:
    pages = [p for d in OTHER_PLATFORMS for p in shared.joinpath("corpus", "real", d).rglob("*.html")
             if ".expected" not in p.name]
    assert len(pages) > 40
    claimed = [p.name for p in pages if ADAPTER.matches_page(_parse(p.read_text(encoding="utf-8", errors="replace")))]
    assert claimed == []


# Listings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "https://us7.campaign-archive.com/?u=5f2e8a1c9b7d4e3f2a1b0c9d8&id=9a8b7c6d5e",
    "https://mailchi.mp/psnc/march-2023-price-concessions-3rd-update-s6dzuhohv9",
    "http://eepurl.com/iGJzFw",
])
def test_a_campaign_url_is_a_single_issue(url: str) -> None:
    assert ADAPTER.listings(url, None) == []


def test_archive_home_is_read_first_and_the_feed_is_the_fallback() -> None:
    home = "https://us7.campaign-archive.com/home/?u=5f2e8a1c9b7d4e3f2a1b0c9d8&id=1d2c3b4a5f"
    assert ADAPTER.listings(home, _parse((FIXTURES / "archive-home.html").read_text(encoding="utf-8"))) == [
        Listing(home, ARCHIVE),
        Listing("https://us7.campaign-archive.com/feed?u=5f2e8a1c9b7d4e3f2a1b0c9d8&id=1d2c3b4a5f", FEED, fallback=True),
    ]


def test_archive_home_lines_give_links_subjects_and_us_dates() -> None:
    url = "https://us7.campaign-archive.com/home/?u=5f2e8a1c9b7d4e3f2a1b0c9d8&id=1d2c3b4a5f"
    result = ADAPTER.parse_listing(Listing(url, ARCHIVE), (FIXTURES / "archive-home.html").read_bytes(), url)
    assert [(i.url, i.hints.title, i.hints.published_at) for i in result.issues] == [
        ("https://us7.campaign-archive.com/?u=5f2e8a1c9b7d4e3f2a1b0c9d8&id=9a8b7c6d5e",
         "Robots Weekly #40: The night shift", "2024-05-31"),
        ("https://us7.campaign-archive.com/?u=5f2e8a1c9b7d4e3f2a1b0c9d8&id=8b7c6d5e4f",
         "Robots Weekly #39: Dock doors", "2024-05-24"),
        ("http://eepurl.com/iGJzFw", "Robots Weekly #38: Battery swaps", "2024-05-17"),
        ("https://us7.campaign-archive.com/?u=5f2e8a1c9b7d4e3f2a1b0c9d8&id=7c6d5e4f3a",
         'Robots Weekly #13: A "quiet" December', "2023-12-01"),
    ]
    assert result.next == []


# Fixture sites ------------------------------------------------------------------------------------

USER, LIST = "5f2e8a1c9b7d4e3f2a1b0c9d8", "1d2c3b4a5f"
TOPICS = ("the night shift", "dock doors", "battery swaps", "pick lists", "cold stores", "safety audits",
          "parcel chutes", "returns desks", "vision models", "forklift sensors", "conveyor belts")


@dataclass(frozen=True)
class Campaign:
    number: int

    @property
    def campaign_id(self) -> str:
        return f"{self.number * 7919:010x}"

    @property
    def path(self) -> str:
        return f"/?u={USER}&id={self.campaign_id}"

    @property
    def subject(self) -> str:
        return f"Robots Weekly #{self.number}: {TOPICS[self.number % len(TOPICS)]}"

    @property
    def sent(self) -> datetime:
        return datetime(2023, 9, 1, 15, 30, tzinfo=UTC) + timedelta(days=7 * self.number)


CAMPAIGNS = [Campaign(n) for n in range(1, 34)]


def _campaign_page(campaign: Campaign) -> str:
    """A campaign-archive page in the mcn template, as the fixture page (awesomebar, preheader, footer)."""
    topic = TOPICS[campaign.number % len(TOPICS)]
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in (
        f"Hi all, issue {campaign.number} comes from a parcel hub where I spent the week looking at {topic}.",
        "The people who keep the robots moving told me what the dashboards leave out, with numbers from their "
        "own paper logs and photos of the whiteboard by the loading bay.",
        "Thanks for reading, and see you next Friday.",
    ))
    text_block = ('<table class="mcnTextBlock"><tbody class="mcnTextBlockOuter"><tr><td class="mcnTextBlockInner">'
                  '<table class="mcnTextContentContainer"><tbody><tr><td class="mcnTextContent">{}</td></tr></tbody>'
                  '</table></td></tr></tbody></table>')
    footer = ("<em>Copyright © 2024 Robots Weekly, All rights reserved.</em><br><strong>Our mailing address is:"
              "</strong><br>1 Mill Street, Leeds<br>Want to change how you receive these emails?<br>You can "
              '<a href="https://x.us7.list-manage.com/profile?u=5f2">update your preferences</a> or '
              '<a href="https://x.us7.list-manage.com/unsubscribe?u=5f2">unsubscribe from this list</a>.')
    preheader = '<a href="*|ARCHIVE|*">View this email in your browser</a>'
    return f"""<!doctype html><html><head><meta charset="UTF-8">
<meta property="og:title" content="{escape(campaign.subject)}"><title>{escape(campaign.subject)}</title></head>
<body><div id="awesomewrap"><div id="awesomebar"><ul><li><a href="http://eepurl.com/hXk9Qz">Subscribe</a></li>
<li><a href="/home/?u={USER}&amp;id={LIST}">Past Issues</a></li><li><a href="/feed?u={USER}&amp;id={LIST}">RSS</a>
</li></ul></div></div><center><table id="bodyTable"><tr><td id="bodyCell"><table class="templateContainer">
<tr><td id="templatePreheader">{text_block.format(preheader)}</td></tr>
<tr><td id="templateBody">{text_block.format(paragraphs)}</td></tr>
<tr><td id="templateFooter">{text_block.format(footer)}</td></tr></table></td></tr></table></center></body></html>"""


def _home(base: str, campaigns: list[Campaign]) -> str:
    lines = "".join(
        f'<li class="campaign">{c.sent:%m/%d/%Y} - <a href="{base}{c.path.replace("&", "&amp;")}" '
        f'title="{escape(c.subject)}" target="_blank">{escape(c.subject)}</a></li>'
        for c in sorted(campaigns, key=lambda c: c.sent, reverse=True))
    return f"""<!DOCTYPE html><html><head><meta charset="UTF-8"><title>Robots Weekly Archive</title>
<link rel="alternate" type="application/rss+xml" title="RSS" href="{base}/feed?u={USER}&amp;id={LIST}"></head>
<body><div id="templateContainer"><h2>Past Issues</h2><ul id="archive-list"><div class="display_archive">{lines}
</div></ul></div></body></html>"""


def _feed(base: str, campaigns: list[Campaign]) -> str:
    items = "".join(
        f"<item><title><![CDATA[{c.subject}]]></title><link>{base}{c.path.replace('&', '&amp;')}</link>"
        f"<guid>{base}{c.path.replace('&', '&amp;')}</guid><pubDate>{format_datetime(c.sent)}</pubDate>"
        f"<content:encoded><![CDATA[{_campaign_page(c)}]]></content:encoded></item>" for c in campaigns)
    return f"""<?xml version="1.0" encoding="utf-8"?><rss xmlns:content="http://purl.org/rss/1.0/modules/content/"
version="2.0"><channel><title><![CDATA[Robots Weekly Archive Feed]]></title>
<link>{base}/feed?u={USER}&amp;id={LIST}</link><generator>Zend_Feed</generator>{items}</channel></rss>"""


def _site(base: str, listed: list[Campaign], in_feed: list[Campaign]) -> dict[str, Page]:
    site = {f"/home/?u={USER}&id={LIST}": Page(_home(base, listed).encode()),
            f"/feed?u={USER}&id={LIST}": Page(_feed(base, in_feed).encode(), "application/rss+xml")}
    for campaign in CAMPAIGNS:
        site[campaign.path] = Page(_campaign_page(campaign).encode())
    return site


@pytest.mark.crawl
def test_list_archive_is_crawled_from_its_home_index(crawl) -> None:
    assert len(CAMPAIGNS) >= 30
    with LocalSite(build=lambda base: _site(base, CAMPAIGNS, CAMPAIGNS[-3:])) as site:
        archive = crawl(site.url(f"/home/?u={USER}&id={LIST}"))
        assert site.requests[f"/home/?u={USER}&id={LIST}"] == 1
        assert site.requests[f"/feed?u={USER}&id={LIST}"] == 0
        assert all(site.requests[c.path] == 1 for c in CAMPAIGNS)
        expected = {normalize_url(site.url(c.path)): {
            "title": c.subject, "published_at": c.sent.date().isoformat(), "platform": "mailchimp", "access": "free",
        } for c in CAMPAIGNS}
    assert_stored(archive, expected)
    body = archive.get(next(iter(expected)))["body_text"]
    assert body.startswith("Hi all, issue") and fold(body).endswith("see you next Friday.")
    for chrome in ("View this email", "Past Issues", "Copyright", "mailing address", "unsubscribe"):
        assert chrome not in body


@pytest.mark.crawl
def test_empty_home_index_falls_back_to_the_list_feed(crawl) -> None:
    """An archive home listing nothing has no Mailchimp marker left, so the platform is named."""
    recent = CAMPAIGNS[-5:]
    with LocalSite(build=lambda base: _site(base, [], recent)) as site:
        archive = crawl(site.url(f"/home/?u={USER}&id={LIST}"), spider_args={"platform": "mailchimp"})
        assert site.requests[f"/feed?u={USER}&id={LIST}"] == 1
        expected = {normalize_url(site.url(c.path)): {
            "title": c.subject, "published_at": c.sent.strftime("%Y-%m-%dT%H:%M:%SZ"), "newsletter": "Robots Weekly",
        } for c in recent}
    assert_stored(archive, expected)


@pytest.mark.crawl
def test_one_campaign_as_start_url_is_stored(crawl) -> None:
    campaign = CAMPAIGNS[0]
    with LocalSite(build=lambda base: _site(base, CAMPAIGNS, [])) as site:
        archive = crawl(site.url(campaign.path))
        assert site.requests[f"/home/?u={USER}&id={LIST}"] == 0
    assert [row["title"] for row in archive.list()] == [campaign.subject]


def test_hints_fill_the_date_of_a_campaign_page() -> None:
    campaign = CAMPAIGNS[0]
    issue = extract_issue(_campaign_page(campaign), "http://127.0.0.1:9/" + campaign.path[1:],
                          hints=DiscoveryHints(published_at="2023-09-08", source="archive"))
    assert (issue.platform, issue.title, issue.published_at) == ("mailchimp", campaign.subject, "2023-09-08")
