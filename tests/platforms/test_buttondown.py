"""Buttondown adapter (``../shared/docs/platforms.md`` §6): pure functions, crawled fixture sites.

* Golden pages (the corpus's only "Buttondown" page, a Hugo blog with an embedded subscribe form, must
  not be claimed nor cut; our fixtures in Buttondown's documented markup, modern template and classic
  template with a paywalled premium email, are cut exactly) have their records in
  ``tests/fixtures/buttondown/golden.json``, run by ``test_golden.py``.
* Pure functions: detection, listing plans (API base for buttondown.com, for a mirror, none for a
  custom domain), API paging, archive index reading.
* Local sites crawled through the real spider: a mirror of ``buttondown.com/<user>`` (34 emails, 5 of
  them premium) discovered through the public API paged to its last page; a custom hosting domain
  discovered through its paged archive index; one email given as the start URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

import pytest
from lxml import html as lxml_html
from sites import assert_stored

from tomtalks_scraper.demo_site.server import LocalSite, Page
from tomtalks_scraper.discovery.listings import API, ARCHIVE, FEED, Listing
from tomtalks_scraper.platforms import detect_platform
from tomtalks_scraper.platforms.buttondown import ADAPTER
from tomtalks_scraper.urls import normalize_url

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "buttondown"
OTHER_PLATFORMS = ("beehiiv", "buttondown", "ghost", "kit", "linkedin", "mailchimp", "medium", "other", "substack",
                   "wordpress")


def _parse(markup: str) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(markup)


# Detection --------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "https://buttondown.com/robotsweekly",
    "https://buttondown.com/robotsweekly/archive/issue-12-small-models-big-warehouses/",
    "https://buttondown.email/hillelwayne/archive/if-inheritance-is-so-bad-why-does-everyone-use-it/",
    "https://www.buttondown.com/robotsweekly/archives/issue-12/",
])
def test_archive_urls_are_buttondown(url: str) -> None:
    assert ADAPTER.matches_url(url)


@pytest.mark.parametrize("url", [
    "https://buttondown.com/",
    "https://buttondown.com/pricing",
    "https://buttondown.email/api/emails/embed-subscribe/thevaluabledev",
    "https://docs.buttondown.com/customizing-web-design",
    "https://thevaluable.dev/guide-inheritance-oop/",
])
def test_other_urls_are_not_buttondown(url: str) -> None:
    assert not ADAPTER.matches_url(url)


def test_custom_domain_pages_are_detected_from_markup() -> None:
    for name in ("modern-email.html", "classic-paywalled-email.html"):
        tree = _parse((FIXTURES / name).read_text(encoding="utf-8"))
        assert detect_platform("https://news.example/archive/x/", tree).name == "buttondown"
    home = _parse(_home_page("Robots Weekly", "/robotsweekly"))
    assert ADAPTER.matches_page(home)


def test_no_corpus_page_looks_like_a_buttondown_archive(shared: Path) -> None:
    """Every corpus page, the Hugo blog with a Buttondown embed included, stays unclaimed."""
    pages = [p for d in OTHER_PLATFORMS for p in shared.joinpath("corpus", "real", d).rglob("*.html")
             if ".expected" not in p.name]
    assert any("buttondown-embed" in p.name for p in pages) and len(pages) > 40
    claimed = [p.name for p in pages if ADAPTER.matches_page(_parse(p.read_text(encoding="utf-8", errors="replace")))]
    assert claimed == []


# Listings ---------------------------------------------------------------------------------------


def test_an_email_url_is_a_single_issue() -> None:
    assert ADAPTER.listings("https://buttondown.com/robotsweekly/archive/issue-12/", None) == []
    assert ADAPTER.listings("https://buttondown.com/robotsweekly/archives/issue-12", None) == []
    email = _parse((FIXTURES / "modern-email.html").read_text(encoding="utf-8"))
    assert ADAPTER.listings("https://news.example/2024/issue-12", email) == []


def test_buttondown_archive_reads_the_public_api_first() -> None:
    assert ADAPTER.listings("https://buttondown.email/robotsweekly", None) == [
        Listing("https://api.buttondown.com/v1/public/emails/robotsweekly", API),
        Listing("https://buttondown.email/robotsweekly/archive/", ARCHIVE, fallback=True),
        Listing("https://buttondown.email/robotsweekly/rss", FEED, fallback=True),
    ]


def test_a_mirror_under_the_username_has_its_api_at_the_same_origin() -> None:
    home = _parse(_home_page("Robots Weekly", "/robotsweekly"))
    assert ADAPTER.listings("http://127.0.0.1:8080/robotsweekly/", home)[0] == Listing(
        "http://127.0.0.1:8080/v1/public/emails/robotsweekly", API)
    unrelated = _parse('<html><body><div class="public-archive"><a href="/archive/x/">x</a></div></body></html>')
    assert ADAPTER.listings("https://news.example/about/", unrelated) == [
        Listing("https://news.example/archive/", ARCHIVE), Listing("https://news.example/rss", FEED, fallback=True)]


def test_a_custom_domain_reads_its_archive_index_then_its_feed() -> None:
    assert ADAPTER.listings("https://news.ledgerlines.example/", None) == [
        Listing("https://news.ledgerlines.example/archive/", ARCHIVE),
        Listing("https://news.ledgerlines.example/rss", FEED, fallback=True),
    ]
    index = _parse(_archive_index("https://news.ledgerlines.example", "", EMAILS[:3], 1, 1))
    assert ADAPTER.listings("https://news.ledgerlines.example/", index)[0] == Listing(
        "https://news.ledgerlines.example/", ARCHIVE)


def test_archive_index_lists_emails_and_follows_only_later_pages() -> None:
    url = "https://news.ledgerlines.example/archive/?page=2"
    body = _archive_index("https://news.ledgerlines.example", "", EMAILS[10:13], 2, 3).encode()
    result = ADAPTER.parse_listing(Listing(url, ARCHIVE), body, url)
    assert [i.url for i in result.issues] == [
        f"https://news.ledgerlines.example/archive/{e.slug}/" for e in EMAILS[10:13]]
    assert result.next == [Listing("https://news.ledgerlines.example/archive/?page=3", ARCHIVE)]


def test_api_page_gives_emails_with_hints_and_the_next_page() -> None:
    body = json.dumps({"count": 2, "previous": None, "next": "https://api.buttondown.com/v1/public/emails/rw?page=2",
                       "results": [
                           {"id": "e1", "subject": "Issue 12", "slug": "issue-12",
                            "publish_date": "2024-05-14T13:00:00Z",
                            "absolute_url": "https://buttondown.com/rw/archive/issue-12/"},
                           {"id": "e2", "subject": "Issue 11", "slug": "issue-11",
                            "publish_date": "2024-05-07T13:00:00+02:00"}]}).encode()
    url = "https://api.buttondown.com/v1/public/emails/rw"
    result = ADAPTER.parse_listing(Listing(url, API), body, url)
    assert [(i.url, i.hints.title, i.hints.published_at) for i in result.issues] == [
        ("https://buttondown.com/rw/archive/issue-12/", "Issue 12", "2024-05-14T13:00:00Z"),
        ("https://buttondown.com/rw/archive/issue-11/", "Issue 11", "2024-05-07T11:00:00Z"),
    ]
    assert result.next == [Listing("https://api.buttondown.com/v1/public/emails/rw?page=2", API)]
    last = ADAPTER.parse_listing(Listing(url, API), json.dumps({"results": [], "next": None}).encode(), url)
    assert last.issues == [] and last.next == []
    with pytest.raises(ValueError):
        ADAPTER.parse_listing(Listing(url, API), b'{"detail": "Not found."}', url)


# Fixture sites ------------------------------------------------------------------------------------

API_PAGE_SIZE = 15
ARCHIVE_PAGE_SIZE = 10
TOPICS = ("small models", "forklift sensors", "pick lists", "dock doors", "battery swaps", "night shifts",
          "parcel chutes", "cold stores", "safety audits", "returns desks")


@dataclass(frozen=True)
class Email:
    number: int
    premium: bool

    @property
    def slug(self) -> str:
        return f"issue-{self.number}-{TOPICS[self.number % len(TOPICS)].replace(' ', '-')}"

    @property
    def subject(self) -> str:
        return f"Issue {self.number}: {TOPICS[self.number % len(TOPICS)]}"

    @property
    def published(self) -> datetime:
        return datetime(2023, 10, 3, 13, 0, tzinfo=UTC) + timedelta(days=7 * self.number)

    @property
    def iso(self) -> str:
        return self.published.strftime("%Y-%m-%dT%H:%M:%SZ")


EMAILS = [Email(n, premium=n % 7 == 0) for n in range(1, 35)]


def _header(name: str, root: str) -> str:
    return (f'<div class="header-navigation-container"><div class="header-navigation"><div>'
            f'<a class="header-brand" href="{root}/">{escape(name)}</a></div><div><nav><a href="{root}/">Subscribe</a>'
            f'<a href="{root}/archive/">Archives</a></nav></div></div></div>')


def _home_page(name: str, root: str) -> str:
    """The subscribe page a newsletter's root shows in the modern template."""
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(name)}</title>
<meta property="og:site_name" content="{escape(name)}"></head><body><div class="app-container">{_header(name, root)}
<div class="subscribe-container"><div class="subscribe"><h1 class="name">{escape(name)}</h1>
<p>Field notes on robots at work, every Tuesday.</p><div class="widget"><form method="post"
action="/api/emails/embed-subscribe/robotsweekly"><input type="email" name="email"><button>Subscribe</button></form>
</div></div></div></div><div class="footer">Powered by Buttondown</div></body></html>"""


def _email_page(name: str, root: str, email: Email) -> str:
    ld = {"@context": "https://schema.org", "@type": "BlogPosting", "headline": email.subject,
          "datePublished": email.iso, "author": {"@type": "Person", "name": "Ada Byron"},
          "publisher": {"@type": "Organization", "name": name}}
    topic = TOPICS[email.number % len(TOPICS)]
    paragraphs = [f"Hello from Leeds. Issue {email.number} is about {topic}, seen from the warehouse floor.",
                  "The people who keep the robots moving told me what the dashboards leave out, with numbers from "
                  "their own paper logs and photos of the whiteboard by the loading bay.",
                  f"Next week: what the managers who bought the {topic} say about it."]
    body = "".join(f"<p>{escape(p)}</p>" for p in (paragraphs[:-1] if email.premium else paragraphs))
    paywall = ('<div class="nouveau-paywall"><div>Keep reading with a premium subscription</div>'
               '<div>The rest of this email is for premium subscribers.</div></div>') if email.premium else ""
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(email.subject)}</title>
<meta property="og:title" content="{escape(email.subject)}"><meta property="og:type" content="article">
<script type="application/ld+json">{json.dumps(ld)}</script></head><body><div class="app-container">
{_header(name, root)}<article class="email-detail"><div class="email-detail__header"><a class="newsletter"
href="{root}/"><span class="newsletter-name">{escape(name)}</span></a><date class="email-detail-date">
{email.published:%B %d, %Y}</date><h1 class="subject">{escape(email.subject)}</h1></div>
<div class="email-body-container"><div class="email-body">{body}</div></div>{paywall}
<div class="epilogue"><div class="epilogue-header">You just read issue #{email.number} of {escape(name)}.</div></div>
</article></div><div class="footer">Powered by Buttondown</div></body></html>"""


def _archive_index(origin: str, root: str, emails: list[Email], number: int, pages: int) -> str:
    """The archive index: ``.email-list .email`` entries and Django-style ``.pagination .step-links``."""
    entries = "".join(
        f'<a href="{origin}{root}/archive/{e.slug}/"><div class="email"><div><div class="email-title">'
        f'{escape(e.subject)}</div><div>{e.published:%B %d, %Y}</div></div></div></a>' for e in emails)
    older = f'<a href="?page={number + 1}">Older</a>' if number < pages else ""
    newer = f'<a href="?page={number - 1}">Newer</a>' if number > 1 else ""
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Archive</title></head><body>
<div class="app-container">{_header("Ledger Lines", root)}<div class="email-list">{entries}</div>
<div class="pagination"><div class="step-links">{newer}<span class="current">Page {number} of {pages}</span>{older}
</div></div></div></body></html>"""


def _api_pages(base: str, user: str) -> dict[str, Page]:
    newest_first = sorted(EMAILS, key=lambda e: e.published, reverse=True)
    pages = -(-len(newest_first) // API_PAGE_SIZE)
    served = {}
    for number in range(1, pages + 1):
        chunk = newest_first[(number - 1) * API_PAGE_SIZE:number * API_PAGE_SIZE]
        path = f"/v1/public/emails/{user}"
        served[path if number == 1 else f"{path}?page={number}"] = Page(json.dumps({
            "count": len(EMAILS),
            "next": f"{base}{path}?page={number + 1}" if number < pages else None,
            "previous": (f"{base}{path}?page={number - 1}" if number > 2 else f"{base}{path}") if number > 1 else None,
            "results": [{"id": f"e{e.number}", "subject": e.subject, "slug": e.slug, "publish_date": e.iso,
                         "description": "", "absolute_url": f"{base}/{user}/archive/{e.slug}/"} for e in chunk],
        }).encode(), "application/json")
    return served


def build_mirror(base: str) -> dict[str, Page]:
    """``buttondown.com/robotsweekly`` and ``api.buttondown.com`` on one loopback origin."""
    site = {"/robotsweekly/": Page(_home_page("Robots Weekly", "/robotsweekly").encode()),
            "/robotsweekly/rss": Page(b"<rss version='2.0'><channel><title>Robots Weekly</title></channel></rss>",
                                      "application/rss+xml"),
            **_api_pages(base, "robotsweekly")}
    site["/robotsweekly/archive/"] = Page(_archive_index(base, "/robotsweekly", EMAILS[:5], 1, 1).encode())
    for email in EMAILS:
        page = _email_page("Robots Weekly", "/robotsweekly", email)
        site[f"/robotsweekly/archive/{email.slug}/"] = Page(page.encode())
    return site


def _expected_rows(archive, site: LocalSite, root: str, emails: list[Email], newsletter: str) -> None:
    assert_stored(archive, {normalize_url(site.url(f"{root}/archive/{email.slug}/")): {
        "title": email.subject, "published_at": email.iso, "platform": "buttondown", "newsletter": newsletter,
        "access": "paid_preview" if email.premium else "free"} for email in emails})


@pytest.mark.crawl
def test_newsletter_is_archived_through_the_public_api(crawl) -> None:
    assert len(EMAILS) >= 30 and any(e.premium for e in EMAILS)
    with LocalSite(build=build_mirror) as site:
        archive = crawl(site.url("/robotsweekly/"))
        assert site.requests["/v1/public/emails/robotsweekly"] == 1
        pages = -(-len(EMAILS) // API_PAGE_SIZE)
        assert all(site.requests[f"/v1/public/emails/robotsweekly?page={n}"] == 1 for n in range(2, pages + 1))
        assert site.requests["/robotsweekly/archive/"] == 0 and site.requests["/robotsweekly/rss"] == 0
        assert all(site.requests[f"/robotsweekly/archive/{e.slug}/"] == 1 for e in EMAILS)
        _expected_rows(archive, site, "/robotsweekly", EMAILS, "Robots Weekly")
        premium = next(e for e in EMAILS if e.premium)
        body = archive.get(normalize_url(site.url(f"/robotsweekly/archive/{premium.slug}/")))["body_text"]
    assert "premium subscription" not in body and "Next week" not in body and "You just read" not in body


def build_custom_domain(base: str) -> dict[str, Page]:
    """A hosting domain: the archive at the root, the index paged with ``?page=N``."""
    emails = EMAILS[:12]
    newest_first = sorted(emails, key=lambda e: e.published, reverse=True)
    pages = -(-len(emails) // ARCHIVE_PAGE_SIZE)
    site = {"/": Page(_home_page("Ledger Lines", "").encode())}
    for number in range(1, pages + 1):
        chunk = newest_first[(number - 1) * ARCHIVE_PAGE_SIZE:number * ARCHIVE_PAGE_SIZE]
        site["/archive/" if number == 1 else f"/archive/?page={number}"] = Page(
            _archive_index(base, "", chunk, number, pages).encode())
    for email in emails:
        site[f"/archive/{email.slug}/"] = Page(_email_page("Ledger Lines", "", email).encode())
    return site


@pytest.mark.crawl
def test_custom_domain_is_archived_through_its_paged_archive_index(crawl) -> None:
    with LocalSite(build=build_custom_domain) as site:
        archive = crawl(site.url("/"))
        assert site.requests["/archive/"] == 1 and site.requests["/archive/?page=2"] == 1
        assert site.requests["/v1/public/emails/archive"] == 0 and site.requests["/rss"] == 0
        _expected_rows(archive, site, "", EMAILS[:12], "Ledger Lines")


@pytest.mark.crawl
def test_one_email_as_start_url_stores_that_email_only(crawl) -> None:
    email = EMAILS[3]
    with LocalSite(build=build_mirror) as site:
        archive = crawl(site.url(f"/robotsweekly/archive/{email.slug}/"))
        assert site.requests["/v1/public/emails/robotsweekly"] == 0
        _expected_rows(archive, site, "/robotsweekly", [email], "Robots Weekly")
