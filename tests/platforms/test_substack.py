"""Substack adapter (``../shared/docs/platforms.md`` §3): pure functions, a crawled fixture site.

* Golden pages (every real Substack page of the shared corpus: web posts, a Note, received emails;
  our own paid previews in two layouts, a subscriber's paid copy, a blog that copied a Substack post)
  have their records in ``tests/fixtures/substack/golden.json``, run by ``test_golden.py``.
* Pure functions: detection, ``_preloads`` reading, paywall vs comments modal, archive API paging,
  sitemap filtering, listing plans, email link unwrapping.
* A local custom-domain publication ("The Weekly Ledger", 34 posts, 6 of them paid previews) crawled
  through the real spider from its home page: the archive API is paged to its empty last page, and
  with the API refused (the CDN's bot challenge, HTTP 403) the sitemap and feed fallbacks still store every post.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path
from string import Template
from typing import Any

import pytest
from golden import fold
from lxml import html as lxml_html
from sites import assert_stored

from tomtalks_scraper.demo_site.server import LocalSite, Page
from tomtalks_scraper.discovery.listings import API, FEED, SITEMAP, Listing
from tomtalks_scraper.extraction.issue import extract_issue
from tomtalks_scraper.platforms import detect_platform
from tomtalks_scraper.platforms.substack import ADAPTER, archive_api_url, read_preloads

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "substack"
SITE = FIXTURES / "site"
CORPUS_DIR = ("corpus", "real", "substack")


def _parse(markup: str) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(markup)


# Detection ------------------------------------------------------------------------------------------

def test_url_patterns_cover_publications_notes_and_email_links() -> None:
    for url in ("https://garymarcus.substack.com/p/nonsense-on-stilts", "https://chinatalk.substack.com",
                "https://substack.com/@richholmes/note/c-202380205", "https://substack.com/home/post/p-139824544",
                "https://email.mg2.substack.com/c/eJxVkk2PozAM"):
        assert ADAPTER.matches_url(url), url
    for url in ("https://www.slowboring.com/p/elon-musks-business-ties-deserve", "https://substack.example.org/p/x",
                "https://notsubstack.com/p/x", "https://substackcdn.com/image/fetch/x.png"):
        assert not ADAPTER.matches_url(url), url


def test_every_corpus_page_is_recognised_on_a_foreign_host(shared: Path) -> None:
    """Custom domains: the page alone (assets, ``_preloads`` or email footer) identifies Substack."""
    for path in sorted(shared.joinpath(*CORPUS_DIR).rglob("*.html")):
        if ".expected" in path.name:
            continue
        tree = _parse(path.read_text(encoding="utf-8", errors="replace"))
        assert detect_platform("https://newsletter.example.org/p/some-post", tree).name == "substack", path.name


def test_a_blog_that_copied_a_substack_post_is_not_substack() -> None:
    tree = _parse((FIXTURES / "copied-to-blog.html").read_text(encoding="utf-8"))
    assert not ADAPTER.matches_page(tree)
    assert detect_platform("https://money-notes.example/2024/06/why-index-funds-won/", tree).name != "substack"


def test_preloads_are_read_in_both_spellings(shared: Path) -> None:
    corpus = shared.joinpath(*CORPUS_DIR)
    parsed = read_preloads(_parse((corpus / "francofernando-seniority.html").read_text(encoding="utf-8")))
    literal = read_preloads(_parse((corpus / "slowboring-elon-musks-business-ties.html").read_text(encoding="utf-8")))
    assert parsed and parsed["post"]["slug"] == "seniority" and parsed["pub"]["name"] == "The Polymathic Engineer"
    assert literal and literal["post"]["audience"] == "everyone"
    assert literal["pub"]["custom_domain"] == "www.slowboring.com"
    broken = "<html><body><script>window._preloads = JSON.parse(oops)</script></body></html>"
    assert read_preloads(_parse(broken)) is None


def test_comments_paywall_modal_is_not_a_body_paywall(shared: Path) -> None:
    corpus = shared.joinpath(*CORPUS_DIR)
    for name in ("slowboring-elon-musks-business-ties.html", "anncoulter-highlights-bennet.html",
                 "garymarcus-nonsense-on-stilts.html", "computerenhance-raw-udp.html"):
        assert not ADAPTER.body_paywall(_parse((corpus / name).read_text(encoding="utf-8"))), name
    for name in ("paid-preview-2024.html", "paid-preview-2021.html"):
        assert ADAPTER.body_paywall(_parse((FIXTURES / name).read_text(encoding="utf-8"))), name


# Links ----------------------------------------------------------------------------------------------

def test_email_click_links_are_decoded_offline(shared: Path) -> None:
    email = shared.joinpath(*CORPUS_DIR, "email", "20percent-berlin-39.email.html").read_text(encoding="utf-8")
    mailgun = re.search(r'href="(https://email\.mg2\.substack\.com/c/[^"]+)"[^>]*>Montecruz Photo', email)
    assert mailgun and ADAPTER.unwrap_link(mailgun.group(1)) == "https://www.flickr.com/photos/libertinus/"
    newer = shared.joinpath(*CORPUS_DIR, "email", "substack-newsletter-new.email.html").read_text(encoding="utf-8")
    signed = re.search(r'href="(https://substack\.com/redirect/2/eyJlIjoiaHR0cHM6Ly9ob25nYm8xMzAuc3Vic3RhY2suY29tL3AvdGl0bGU_dXRt[^"]+)"',
                       newer)
    assert signed and ADAPTER.unwrap_link(signed.group(1).replace("&amp;", "&")) == (
        "https://hongbo130.substack.com/p/title?utm_source=substack&utm_medium=email&action=restack-comment")
    app_link = "https://open.substack.com/pub/astralcodexten/p/nick-cammarata-on-jhana?utm_source=email"
    assert ADAPTER.unwrap_link(app_link) == "https://astralcodexten.substack.com/p/nick-cammarata-on-jhana"


def test_opaque_redirects_and_broken_tokens_are_left_alone() -> None:
    for url in ("https://substack.com/redirect/07e3cc16-5e31-46a3-9830-9acda2260330?r=2d1yw",
                "https://email.mg2.substack.com/c/not-zlib-at-all", "https://substack.com/redirect/2/bm90IGpzb24.sig",
                "https://example.com/?url=https://elsewhere.example/"):
        assert ADAPTER.unwrap_link(url) == url


def _decode_without_cleaning(url: str) -> str:
    """The raw query string packed in a Mailgun click link (what the adapter decodes)."""
    token = url.rsplit("/c/", 1)[1]
    return zlib.decompress(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))).decode()


def test_recipient_token_is_dropped_from_decoded_links(shared: Path) -> None:
    """The email's links to the post carry the subscriber's sign-in token; the stored link must not."""
    email = shared.joinpath(*CORPUS_DIR, "email", "tics-weekly-thoughts.email.html").read_text(encoding="utf-8")
    [title_link] = _parse(email).xpath('//h1[contains(@class, "post-title")]//a/@href')
    assert "token" in _decode_without_cleaning(title_link)  # the email's own target does carry it
    assert ADAPTER.unwrap_link(title_link) == "https://tictoctrading.substack.com/p/tics-weekly-thoughts"
    issue = extract_issue(email, "https://email.mg2.substack.com/c/x")
    assert issue.links and not [link for link in issue.links if "token=" in link.url or "email.mg" in link.url]


def test_footnote_numbers_are_text_not_links(shared: Path) -> None:
    """Superscript numbers would glue to the text before them; as in-page jumps they are no links of the issue."""
    page = shared.joinpath(*CORPUS_DIR, "garymarcus-nonsense-on-stilts.html").read_text(encoding="utf-8")
    issue = extract_issue(page, "https://garymarcus.substack.com/p/nonsense-on-stilts")
    text = fold(issue.body_text)
    assert "are remotely intelligent.[1] All they do is match patterns" in text
    assert "[1] To be triply sure I asked Aguera y Arcas" in text
    assert not [link for link in issue.links if "#footnote" in link.url]


# Discovery as pure functions ---------------------------------------------------------------------------

def test_listing_plan_for_a_publication_home() -> None:
    home = _parse(_template("home.html").safe_substitute(
        preloads=json.dumps(json.dumps({"pub": {"name": "The Weekly Ledger"}, "newPosts": []}))))
    assert ADAPTER.listings("https://www.weeklyledger.example/", home) == [
        Listing("https://www.weeklyledger.example/api/v1/archive?sort=new&offset=0&limit=50", API),
        Listing("https://www.weeklyledger.example/sitemap.xml", SITEMAP, fallback=True),
        Listing("https://www.weeklyledger.example/feed", FEED, fallback=True),
    ]


@pytest.mark.parametrize("url", [
    "https://garymarcus.substack.com/p/nonsense-on-stilts",
    "https://www.slowboring.com/p/elon-musks-business-ties-deserve?utm_source=x",
    "https://substack.com/@richholmes/note/c-202380205",
    "https://substack.com/home/post/p-139824544",
    "https://substack.com/@richholmes",
])
def test_single_items_and_reader_pages_have_no_archive(url: str) -> None:
    assert ADAPTER.listings(url, None) == []


def test_a_post_page_at_any_path_is_one_issue(shared: Path) -> None:
    post = _parse(shared.joinpath(*CORPUS_DIR, "slowboring-elon-musks-business-ties.html").read_text(encoding="utf-8"))
    assert ADAPTER.listings("https://www.slowboring.com/some/odd/path", post) == []


def _api_post(slug: str, canonical: str, pub_id: int = 7, pub_name: str = "The Weekly Ledger") -> dict[str, Any]:
    return {
        "id": hash(slug) % 10_000, "publication_id": pub_id, "title": slug.title(), "slug": slug, "type": "newsletter",
        "post_date": "2024-06-28T12:30:00.000Z", "audience": "everyone", "canonical_url": canonical,
        "publishedBylines": [{"id": 1, "name": "Dana Whitfield", "publicationUsers": [
            {"publication_id": 99, "publication": {"id": 99, "name": "Another Publication"}},
            {"publication_id": pub_id, "publication": {"id": pub_id, "name": pub_name}},
        ]}],
    }


def test_archive_api_pages_until_an_empty_page() -> None:
    first = Listing(archive_api_url("https://x.example", 0), API)
    posts = [_api_post(f"post-{n}", f"https://x.example/p/post-{n}") for n in range(12)]
    result = ADAPTER.parse_listing(first, json.dumps(posts).encode(), first.url)
    assert [found.url for found in result.issues] == [f"https://x.example/p/post-{n}" for n in range(12)]
    assert result.next == [Listing("https://x.example/api/v1/archive?sort=new&offset=12&limit=50", API)]
    assert result.newsletter == "The Weekly Ledger" and result.home_url == "https://x.example/"
    hints = result.issues[0].hints
    assert (hints.title, hints.author, hints.published_at, hints.source) == (
        "Post-0", "Dana Whitfield", "2024-06-28T12:30:00Z", "api")
    # A short page is not the end: the server caps ``limit``; only an empty page ends the archive.
    short = ADAPTER.parse_listing(result.next[0], json.dumps(posts[:3]).encode(), result.next[0].url)
    assert short.next == [Listing("https://x.example/api/v1/archive?sort=new&offset=15&limit=50", API)]
    assert ADAPTER.parse_listing(short.next[0], b"[]", short.next[0].url).next == []


def test_archive_api_keeps_the_crawl_on_the_start_host() -> None:
    """``canonical_url`` names the custom domain; crawled from ``<pub>.substack.com`` the post is asked there."""
    listing = Listing(archive_api_url("https://ledger.substack.com", 0), API)
    posts = [_api_post("on-custom-domain", "https://www.weeklyledger.example/p/on-custom-domain"),
             {**_api_post("no-canonical", ""), "canonical_url": None}, {"title": "no slug, no url"}]
    result = ADAPTER.parse_listing(listing, json.dumps(posts).encode(), listing.url)
    assert [found.url for found in result.issues] == [
        "https://ledger.substack.com/p/on-custom-domain", "https://ledger.substack.com/p/no-canonical"]


def test_archive_api_answer_that_is_not_a_post_list_is_an_error() -> None:
    listing = Listing(archive_api_url("https://x.example", 0), API)
    with pytest.raises(ValueError):
        ADAPTER.parse_listing(listing, b'{"error": "rate limited"}', listing.url)
    with pytest.raises(ValueError):
        ADAPTER.parse_listing(listing, b"<html>Just a moment...</html>", listing.url)


def test_sitemap_keeps_only_posts() -> None:
    sitemap = _sitemap("https://x.example", [("a-post", "2024-06-28"), ("b-post", "2024-06-21")]).body
    listing = Listing("https://x.example/sitemap.xml", SITEMAP)
    result = ADAPTER.parse_listing(listing, sitemap, listing.url)
    assert [(f.url, f.hints.updated_at) for f in result.issues] == [
        ("https://x.example/p/a-post", "2024-06-28"), ("https://x.example/p/b-post", "2024-06-21")]


def test_a_sitemap_index_leads_to_the_yearly_sitemaps() -> None:
    index = (b'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             b"<sitemap><loc>https://x.example/sitemap/2024</loc></sitemap>"
             b"<sitemap><loc>https://x.example/sitemap/2023</loc></sitemap></sitemapindex>")
    listing = Listing("https://x.example/sitemap.xml", SITEMAP, fallback=True)
    result = ADAPTER.parse_listing(listing, index, listing.url)
    assert result.issues == [] and result.next == [
        Listing("https://x.example/sitemap/2024", SITEMAP), Listing("https://x.example/sitemap/2023", SITEMAP)]


# The local publication ---------------------------------------------------------------------------

PUB_ID, PUB_NAME, SUBDOMAIN = 2319804, "The Weekly Ledger", "weeklyledger"
AUTHOR, HANDLE = "Dana Whitfield", "danawhitfield"
HERO = "Plain answers to money questions, every Friday."
CO_AUTHOR = "Omar Reyes"
API_CAP = 12  # posts per archive page the server returns, whatever ``limit`` asks
FEED_SIZE = 20  # Substack's feed holds only the newest posts (§3.2)
#: (slug, title, subject) newest first; the subject is woven into the body text.
SUBJECTS = [
    ("why-index-funds-won", "Why index funds won", "index funds"),
    ("the-mortgage-rate-trap", "The mortgage rate trap", "locked-in mortgage rates"),
    ("reading-a-pay-slip", "Reading a pay slip line by line", "pay slips"),
    ("the-case-against-budget-apps", "The case against budget apps", "budget apps"),
    ("inflation-in-the-shopping-basket", "Inflation in the shopping basket", "grocery inflation"),
    ("what-a-pension-really-costs", "What a pension really costs", "pension fees"),
    ("the-emergency-fund-question", "The emergency fund question", "emergency funds"),
    ("renting-versus-buying-again", "Renting versus buying, again", "renting and buying"),
    ("how-banks-price-savings", "How banks price savings accounts", "savings rates"),
    ("the-quiet-cost-of-subscriptions", "The quiet cost of subscriptions", "subscriptions"),
    ("bonds-are-boring-again", "Bonds are boring again", "bonds"),
    ("a-letter-about-debt", "A letter about debt", "household debt"),
    ("the-ledger-podcast-episode-1", "The Ledger podcast, episode 1", "our first podcast"),
    ("why-fees-compound-too", "Why fees compound too", "compounding fees"),
    ("the-tax-return-checklist", "The tax return checklist", "tax returns"),
    ("gold-as-a-feeling", "Gold as a feeling", "gold"),
    ("when-to-pay-off-a-car", "When to pay off a car loan", "car loans"),
    ("the-two-account-system", "The two-account system", "two bank accounts"),
    ("what-credit-scores-measure", "What credit scores measure", "credit scores"),
    ("currency-risk-for-beginners", "Currency risk for beginners", "currency risk"),
    ("the-sabbatical-fund", "The sabbatical fund", "saving for a sabbatical"),
    ("insurance-you-do-not-need", "Insurance you do not need", "unnecessary insurance"),
    ("dividends-are-not-free-money", "Dividends are not free money", "dividends"),
    ("the-freelancer-buffer", "The freelancer's buffer", "freelance income"),
    ("costs-of-a-wedding", "The real costs of a wedding", "wedding budgets"),
    ("student-loans-explained", "Student loans, explained slowly", "student loans"),
    ("the-one-page-plan", "The one-page financial plan", "one-page plans"),
    ("what-i-got-wrong-in-2023", "What I got wrong in 2023", "my own mistakes"),
    ("a-year-of-the-ledger", "A year of The Weekly Ledger", "our first year"),
    ("cash-is-a-position", "Cash is a position", "holding cash"),
    ("the-price-of-convenience", "The price of convenience", "convenience spending"),
    ("how-i-track-net-worth", "How I track net worth", "net worth"),
    ("first-principles-of-saving", "First principles of saving", "saving"),
    ("hello-ledger-readers", "Hello, Ledger readers", "this newsletter"),
]
#: Index in SUBJECTS → audience of the paid posts (the rest are "everyone").
PAID = {3: "only_paid", 8: "only_paid", 14: "only_paid", 20: "only_paid", 26: "only_paid", 30: "founding"}
CO_AUTHORED = {5}
TAGGED = {0: ["Investing", "Basics"], 11: ["Debt"]}
FIRST_DATE = datetime(2024, 6, 28, 12, 30, tzinfo=UTC)
FOOTNOTE = "Twenty-five minutes if the coffee is good."


@dataclass(frozen=True)
class Post:
    index: int
    slug: str
    title: str
    subject: str

    @property
    def audience(self) -> str:
        return PAID.get(self.index, "everyone")

    @property
    def paid(self) -> bool:
        return self.audience != "everyone"

    @property
    def date(self) -> datetime:
        return FIRST_DATE - timedelta(days=7 * self.index, minutes=17 * self.index)

    @property
    def iso(self) -> str:
        return self.date.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.index * 7 % 1000:03d}Z"

    @property
    def authors(self) -> list[str]:
        return [AUTHOR, CO_AUTHOR] if self.index in CO_AUTHORED else [AUTHOR]

    @property
    def subtitle(self) -> str:
        return f"Notes on {self.subject}, and what to do about them this week."

    @property
    def first_sentence(self) -> str:
        return f"This week's letter is about {self.subject}, which more of you asked about than anything else."

    @property
    def last_sentence(self) -> str:
        return f"That is all on {self.subject} for now; reply to this email if you disagree."

    def url(self, base: str) -> str:
        return f"{base}/p/{self.slug}"


POSTS = [Post(i, slug, title, subject) for i, (slug, title, subject) in enumerate(SUBJECTS)]


def _byline(name: str, base: str) -> dict[str, Any]:
    """A ``publishedBylines`` entry as the archive API returns it (shape of the real ``newPosts`` items)."""
    return {
        "id": 4000 + len(name), "name": name, "handle": name.lower().replace(" ", ""), "photo_url": None,
        "bio": f"{name} writes about money.", "profile_set_up_at": "2021-10-01T02:49:41.829Z",
        "publicationUsers": [{
            "id": 437707, "user_id": 4000 + len(name), "publication_id": PUB_ID, "role": "admin", "public": True,
            "is_primary": name == AUTHOR,
            "publication": {"id": PUB_ID, "name": PUB_NAME, "subdomain": SUBDOMAIN,
                            "custom_domain": base.split("://", 1)[1], "custom_domain_optional": False,
                            "hero_text": HERO, "author_id": 4000 + len(AUTHOR)},
        }],
        "is_guest": False,
    }


def _api_item(post: Post, base: str) -> dict[str, Any]:
    """One post as ``/api/v1/archive`` lists it."""
    return {
        "id": 146000000 + post.index, "publication_id": PUB_ID, "title": post.title, "social_title": None,
        "search_engine_title": None, "search_engine_description": None,
        "type": "podcast" if "podcast" in post.slug else "newsletter", "slug": post.slug, "post_date": post.iso,
        "audience": post.audience, "podcast_duration": None, "video_upload_id": None,
        "write_comment_permissions": "only_paid", "should_send_free_preview": post.paid,
        "default_comment_sort": None, "canonical_url": post.url(base), "section_id": None, "top_exclusions": [],
        "pins": [], "is_section_pinned": False, "section_slug": None, "section_name": None,
        "reactions": {"❤": 10 + post.index}, "subtitle": post.subtitle,
        "cover_image": f"https://substack-post-media.s3.amazonaws.com/public/images/{post.slug}_1456x816.jpeg",
        "podcast_url": "", "videoUpload": None, "description": post.subtitle, "body_json": None, "body_html": None,
        "truncated_body_text": post.first_sentence, "wordcount": 180 if not post.paid else 1200,
        "postTags": [{"id": f"tag-{t}", "publication_id": PUB_ID, "name": t, "slug": t.lower(), "hidden": False}
                     for t in TAGGED.get(post.index, [])],
        "publishedBylines": [_byline(name, base) for name in post.authors], "reaction": False,
        "comment_count": post.index % 5, "truncated_description": None, "truncated_body_html": None,
        "post_paywall_content_for_google": None,
    }


def _js_string(value: Any) -> str:
    """``value`` as the JS string literal Substack passes to ``JSON.parse`` (with ``</`` escaped)."""
    return json.dumps(json.dumps(value)).replace("</", "<\\/")


def _template(name: str) -> Template:
    return Template((SITE / name).read_text(encoding="utf-8"))


def _body(post: Post, canonical: str) -> str:
    """The free body, or what a reader without a paid subscription gets: the opening, cut at the paywall."""
    return _template("body-preview.html" if post.paid else "body-free.html").substitute(
        first_sentence=post.first_sentence, last_sentence=post.last_sentence, subject=post.subject,
        slug=post.slug, pub_name=PUB_NAME, canonical=canonical, footnote=FOOTNOTE)


def _paywall(post: Post, base: str) -> str:
    """The body paywall after ``div.available-content``, in its two wordings (free trial offered or not)."""
    trial = post.index % 2 == 0
    text = (f'<div class="paywall-text">Subscribe to {PUB_NAME} to keep reading this post and get 7 days of free '
            "access to the full post archives.</div>")
    return _template("paywall.html").substitute(
        title="Keep reading with a 7-day free trial" if trial else "This post is for paid subscribers",
        text=text if trial else "", button="Start trial" if trial else "Subscribe",
        base=base, canonical=post.url(base), slug=post.slug, subdomain=SUBDOMAIN)


def _post_page(post: Post, base: str) -> Page:
    canonical = post.url(base)
    body = _body(post, canonical)
    item = _api_item(post, base)
    preloads = {
        "isEU": False, "language": "en", "country": "DE", "base_url": base,
        "pub": {"id": PUB_ID, "name": PUB_NAME, "subdomain": SUBDOMAIN, "custom_domain": base.split("://", 1)[1],
                "base_url": base, "author_name": AUTHOR, "type": "newsletter", "payments_state": "enabled"},
        "post": {**item, "body_html": None if post.paid else f'<div class="body markup">{body}</div>'},
        "canonicalUrl": canonical, "ogUrl": canonical, "noIndex": False, "readerIsSearchCrawler": False,
    }
    jsonld = {
        "@context": "https://schema.org", "@type": "NewsArticle", "url": canonical, "mainEntityOfPage": canonical,
        "headline": post.title, "description": post.subtitle,
        "image": [{"@type": "ImageObject", "url": item["cover_image"]}],
        "datePublished": post.date.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "dateModified": post.date.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "isAccessibleForFree": not post.paid,
        "author": [{"@type": "Person", "name": name, "url": f"https://substack.com/@{name.lower().replace(' ', '')}"}
                   for name in post.authors],
        "publisher": {"@type": "Organization", "name": PUB_NAME, "url": base, "identifier": f"pub:{PUB_ID}"},
    }
    page = _template("post.html").substitute(
        title=escape(post.title), subtitle=escape(post.subtitle), author=escape(" and ".join(post.authors)),
        author_handle=HANDLE, date_display=post.date.strftime("%b %d, %Y"), canonical=canonical, base=base,
        pub_name=PUB_NAME, slug=post.slug, subdomain=SUBDOMAIN, post_id=item["id"], image_id=post.slug,
        likes=12 + post.index, comments=post.index % 5, jsonld=json.dumps(jsonld).replace("</", "<\\/"),
        body=body, after_body=_paywall(post, base) if post.paid else "", preloads=_js_string(preloads),
    )
    return Page(page.encode("utf-8"))


def _home_page(base: str) -> Page:
    cards = "\n".join(
        f'<div class="pencraft pc-reset post-preview"><a href="{p.url(base)}" class="pencraft pc-reset '
        f'post-preview-title">{escape(p.title)}</a><div class="pencraft pc-reset post-preview-description">'
        f"{escape(p.subtitle)}</div></div>" for p in POSTS[:API_CAP]
    )
    preloads = {"isEU": False, "language": "en", "base_url": base,
                "pub": {"id": PUB_ID, "name": PUB_NAME, "subdomain": SUBDOMAIN, "base_url": base,
                        "author_name": AUTHOR},
                "newPosts": [_api_item(p, base) for p in POSTS[:API_CAP]], "pinnedPosts": [], "homepageLinks": []}
    page = _template("home.html").substitute(
        base=base, pub_name=PUB_NAME, author=AUTHOR, hero_text=HERO,
        cards=cards, preloads=_js_string(preloads))
    return Page(page.encode("utf-8"))


def _sitemap(base: str, posts: list[tuple[str, str]]) -> Page:
    """Substack's flat ``/sitemap.xml``: publication pages and every post with its ``lastmod`` day."""
    pages = [f"<url><loc>{base}/{path}</loc><changefreq>daily</changefreq></url>"
             for path in ("", "archive", "about", "podcast", "recommendations")]
    pages += [f"<url><loc>{base}/p/{slug}</loc><lastmod>{day}</lastmod><changefreq>monthly</changefreq></url>"
              for slug, day in posts]
    return Page(('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                 + "".join(pages) + "</urlset>").encode(), "application/xml")


def _feed(base: str) -> Page:
    """``/feed``: RSS 2.0 with only the newest posts, as Substack serves it."""
    items = "".join(
        f"<item><title><![CDATA[{p.title}]]></title><description><![CDATA[{p.subtitle}]]></description>"
        f"<link>{p.url(base)}</link><guid isPermaLink=\"false\">{p.url(base)}</guid>"
        f"<dc:creator><![CDATA[{', '.join(p.authors)}]]></dc:creator>"
        f"<pubDate>{format_datetime(p.date, usegmt=True)}</pubDate>"
        f"<content:encoded><![CDATA[<p>{p.first_sentence}</p>]]></content:encoded></item>"
        for p in POSTS[:FEED_SIZE]
    )
    return Page((
        '<?xml version="1.0" encoding="UTF-8"?><rss xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom" '
        f'version="2.0"><channel><title><![CDATA[{PUB_NAME}]]></title><description><![CDATA[Plain answers to money '
        f"questions, every Friday.]]></description><link>{base}</link><generator>Substack</generator>"
        f"<lastBuildDate>{format_datetime(FIRST_DATE, usegmt=True)}</lastBuildDate>"
        f'<atom:link href="{base}/feed" rel="self" type="application/rss+xml"/><language><![CDATA[en]]></language>'
        f"{items}</channel></rss>"
    ).encode(), "application/rss+xml; charset=utf-8")


#: Substack's robots.txt template (custom domains serve the same): the archive API and /feed are allowed.
ROBOTS = """User-agent: BLEXBot
Disallow: /

User-agent: *
Disallow: /action/
Disallow: /publish
Disallow: /sign-in
Disallow: /channel-frame
Disallow: /session-attribution-frame
Disallow: /feed/private
Disallow: /subscribe
Disallow: /p/*/comment/*
Disallow: /inbox/post/*
Disallow: /embed

SITEMAP: {base}/sitemap.xml
"""
#: What Substack's CDN answers a client it takes for a bot, in place of the API JSON.
CHALLENGE = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking browser</body></html>"


def build_publication(base: str, api_status: int = 200) -> dict[str, Page]:
    """The whole publication. The archive API answers any offset with at most ``API_CAP`` posts
    (or, with ``api_status`` 403, the CDN's challenge page)."""
    site = {
        "/": _home_page(base),
        "/robots.txt": Page(ROBOTS.format(base=base).encode(), "text/plain"),
        "/sitemap.xml": _sitemap(base, [(p.slug, p.date.strftime("%Y-%m-%d")) for p in POSTS]),
        "/feed": _feed(base),
        "/about": Page(b"<html><head><title>About</title></head><body><p>About the Ledger</p></body></html>"),
        "/archive": Page(b"<html><head><title>Archive</title></head><body><div id='entry'></div></body></html>"),
    }
    items = [_api_item(p, base) for p in POSTS]
    for offset in range(len(POSTS) + 1):
        site[f"/api/v1/archive?sort=new&offset={offset}&limit=50"] = Page(
            json.dumps(items[offset:offset + API_CAP]).encode(), "application/json; charset=utf-8"
        ) if api_status == 200 else Page(CHALLENGE, status=api_status)
    for post in POSTS:
        site[f"/p/{post.slug}"] = _post_page(post, base)
    return site


def _api_offsets(site: LocalSite) -> dict[int, int]:
    return {int(re.search(r"offset=(\d+)", path).group(1)): count
            for path, count in site.requests.items() if path.startswith("/api/v1/archive")}


def _assert_every_post_stored(archive: Any, base: str) -> None:
    assert_stored(archive, {post.url(base): {
        "title": post.title, "published_at": post.date.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "access": "paid_preview" if post.paid else "free", "author": ", ".join(post.authors),
        "platform": "substack", "newsletter": PUB_NAME} for post in POSTS})


def test_home_page_crawl_pages_the_archive_api_to_the_end(crawl) -> None:
    with LocalSite(build=build_publication) as site:
        archive = crawl(site.url("/"))
        base = site.base_url
        assert _api_offsets(site) == {0: 1, 12: 1, 24: 1, 34: 1}  # three full-or-short pages, then the empty one
        assert site.requests["/sitemap.xml"] == 0 and site.requests["/feed"] == 0  # fallbacks unused
        assert all(site.requests[f"/p/{p.slug}"] == 1 for p in POSTS)
    _assert_every_post_stored(archive, base)
    free = archive.get(POSTS[0].url(base))
    text = fold(free["body_text"])
    assert text.startswith(POSTS[0].first_sentence) and text.endswith(f"{POSTS[0].last_sentence} [1] {FOOTNOTE}")
    assert "A chart of index funds over the last ten years." in text  # the image caption is kept
    assert free["tags"] == ["Investing", "Basics"]
    assert free["subtitle"] == POSTS[0].subtitle
    paid = archive.get(POSTS[3].url(base))
    assert fold(paid["body_text"]).endswith("Below, paying subscribers get my spreadsheet and the three checks.")
    for issue in (free, paid):
        for chrome in ("Thanks for reading The Weekly Ledger", "Subscribe for free", "This post is public",
                       "Only paid subscribers can comment", "Keep reading with a 7-day free trial",
                       "This post is for paid subscribers", "Already a paid subscriber", "Ready for more?",
                       "Discussion about this post", "Restack", "Share"):
            assert chrome not in issue["body_text"] and chrome not in issue["body_markdown"], chrome
    assert archive.stats()[0]["home_url"] == base + "/"


def test_sitemap_and_feed_take_over_when_the_api_refuses(crawl) -> None:
    def build(base: str) -> dict[str, Page]:
        return build_publication(base, api_status=403)

    with LocalSite(build=build) as site:
        archive = crawl(site.url("/"))
        base = site.base_url
        assert _api_offsets(site) == {0: 1}  # refused once, not retried, not paged
        assert site.requests["/sitemap.xml"] == 1 and site.requests["/feed"] == 1
        assert site.requests["/about"] == 0 and site.requests["/archive"] == 0 and site.requests["/podcast"] == 0
        assert all(site.requests[f"/p/{p.slug}"] == 1 for p in POSTS)
    _assert_every_post_stored(archive, base)


def test_a_post_url_is_one_issue(crawl) -> None:
    with LocalSite(build=build_publication) as site:
        post = POSTS[8]
        archive = crawl(site.url(f"/p/{post.slug}"))
        assert _api_offsets(site) == {} and site.requests["/sitemap.xml"] == 0 and site.requests["/"] == 0
        base = site.base_url
    [stored] = archive.list()
    assert (stored["url"], stored["title"], stored["access"]) == (post.url(base), post.title, "paid_preview")


# Embedded tweets --------------------------------------------------------------------------------

_TWEET_POST = """<html><head><link rel="stylesheet" href="https://substackcdn.com/bundle/theme/main.css"></head>
<body><article class="post"><div class="available-content"><div class="body markup">
<p>Here is what a researcher wrote about the launch last week, and why I think she is right.</p>
<div class="tweet" data-attrs="{}"><a href="https://twitter.com/ada/status/123?s=21&amp;t=abc" target="_blank">
  <div class="tweet-header"><img class="tweet-user-avatar" src="https://substackcdn.com/image/twitter_name/ada.jpg">
  <span class="tweet-author-name">Ada Lovelace</span> <span class="tweet-author">@ada</span></div>
  The engine weaves algebraic patterns just as the loom weaves flowers and leaves.</a>
  <a href="https://twitter.com/ada/status/123"><div class="tweet-footer"><p class="tweet-date">June 12th 2022</p>
  <span class="likes"><span class="like-count">356</span> Likes</span></div></a></div>
<p>The machine does only what we know how to order it to perform, and that is the whole point of my argument.</p>
</div></div></article></body></html>"""


def test_an_embedded_tweet_is_a_quote_in_markdown_and_html_but_not_in_the_text() -> None:
    issue = extract_issue(_TWEET_POST, "https://example-pub.substack.com/p/looms")
    tweet = "The engine weaves algebraic patterns just as the loom weaves flowers and leaves."
    assert tweet not in issue.body_text
    assert fold(issue.body_text) == (
        "Here is what a researcher wrote about the launch last week, and why I think she is right. The machine does "
        "only what we know how to order it to perform, and that is the whole point of my argument.")
    assert tweet in issue.body_markdown and "— Ada Lovelace ([@ada](https://twitter.com/ada/status/123" \
        in issue.body_markdown
    assert "<blockquote>" in issue.body_html and tweet in issue.body_html
    for chrome in ("356", "Likes", "June 12th 2022", "avatar"):
        assert chrome not in issue.body_text and chrome not in issue.body_markdown, chrome
    assert any(link.url.startswith("https://twitter.com/ada/status/123") for link in issue.links)
