"""LinkedIn adapter (platforms.md §2): specific pages, detection, discovery and a crawl of a local newsletter.

Golden expectations live in ``tests/fixtures/linkedin/golden.json`` (real pages of the shared corpus
and our own 2023+ fixtures), run by ``test_golden.py``. The local site serves a TomTalks newsletter
page, the author's article list (two pages) and 35 editions in the 2023+ layout, one of them behind
LinkedIn's sign-in wall.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sites import assert_stored

from tomtalks_scraper.demo_site.server import LocalSite, Page
from tomtalks_scraper.discovery.listings import Listing
from tomtalks_scraper.extraction.issue import extract_issue, parse_html
from tomtalks_scraper.platforms import detect_platform
from tomtalks_scraper.platforms.linkedin import ADAPTER, AUTHOR_LIST, NEWSLETTER_PAGE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "linkedin"
NETFLIX = FIXTURES / "tomtalks-2023-netflix-900000-ai-job.html"
NETFLIX_URL = "https://www.linkedin.com/pulse/real-story-behind-netflixs-900000-ai-job-tom-popomaronis-8fj2e"
NEWSLETTER_URL = "https://www.linkedin.com/newsletters/tomtalks-7090548732146016256/"


# Specific pages -----------------------------------------------------------------------------------


def test_2023_edition_body_is_exactly_the_seed_article(shared: Path) -> None:
    """Every paragraph of the issue, in order, and nothing else (the seed's expected text)."""
    expected = (shared / "corpus" / "seed" / "expected.txt").read_text(encoding="utf-8")
    issue = extract_issue(NETFLIX.read_text(encoding="utf-8"), NETFLIX_URL)
    assert issue.body_text.splitlines() == [line for line in expected.splitlines() if line.strip()]
    assert issue.canonical_url == NETFLIX_URL
    assert not any("linkedin.com/redir" in link.url or "trk=" in link.url for link in issue.links)


def test_author_and_date_fall_back_to_the_author_card() -> None:
    """Without JSON-LD and Twitter data the card's <h3> is the author, never its headline or "+ Follow"."""
    page = NETFLIX.read_text(encoding="utf-8")
    page = re.sub(r'<script type="application/ld\+json">.*?</script>', "", page, flags=re.S)
    page = re.sub(r'<meta name="twitter:(?:label|data)\d"[^>]*>', "", page)
    issue = extract_issue(page, NETFLIX_URL)
    assert issue.authors == ["Tom Popomaronis"]
    assert issue.published_at == "2023-07-26"


def test_2019_page_without_article_json_falls_back_to_visible_markup(shared: Path) -> None:
    """The mini profile card holds the name and a "Follow" link; the header the visible date."""
    page = (shared / "corpus" / "real" / "linkedin" / "pulse-2019-inga-hoeltmann-wendland.de.html").read_text()
    page = re.sub(r'<code id="article".*?</code>', "", page, flags=re.S)
    issue = extract_issue(page, "https://de.linkedin.com/pulse/ich-war-am-wochenende-auf-einer-hochzeit-im-wendland")
    assert issue.authors == ["Inga Hoeltmann"]
    assert issue.published_at == "2019-08-19"


# Detection ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    NETFLIX_URL,
    "https://de.linkedin.com/pulse/ich-war-am-wochenende-auf-einer-hochzeit-im-wendland-inga-hoeltmann",
    NEWSLETTER_URL,
    "https://www.linkedin.com/newsletters/7090548732146016256/",
    "https://www.linkedin.com/today/author/tompopomaronis",
    "https://www.linkedin.com/feed/update/urn:li:activity:6341926280803471360",
])
def test_linkedin_urls_are_recognised(url: str) -> None:
    assert ADAPTER.matches_url(url)


@pytest.mark.parametrize("url", [
    "https://lnkd.in/bYVNNyE",
    "https://www.linkedin.com/redir/redirect?url=https%3A%2F%2Fexample%2Ecom",
    "https://notlinkedin.com/pulse/x",
    "https://example.com/pulse/some-article",
])
def test_other_urls_are_not_linkedin(url: str) -> None:
    assert not ADAPTER.matches_url(url)


def test_linkedin_pages_are_recognised_on_any_host(shared: Path) -> None:
    """The custom-domain case: head markers (pageKey, licdn.com assets) identify every layout."""
    pages = sorted((shared / "corpus" / "real" / "linkedin").glob("*.html")) + sorted(FIXTURES.glob("*.html"))
    for path in pages:
        tree = parse_html(path.read_text(encoding="utf-8"))
        assert detect_platform("http://127.0.0.1:8000/some/page/", tree).name == "linkedin", path.name


def test_copies_and_other_platforms_are_not_linkedin(shared: Path) -> None:
    """The content-farm copy carries "Recommended by LinkedIn", /pulse/ and /newsletters/ links: not LinkedIn."""
    pages = [shared / "corpus" / "seed" / "contentfarm.html"] + [
        path for path in sorted((shared / "corpus" / "real").rglob("*.html"))
        if "linkedin" not in path.parts and not path.name.endswith(".expected.html")
    ]
    assert len(pages) > 20
    for path in pages:
        tree = parse_html(path.read_text(encoding="utf-8", errors="replace"))
        assert not ADAPTER.matches_page(tree), path.name


def test_redirect_wrapper_is_unwrapped_and_shortlinks_are_left() -> None:
    wrapped = ("https://www.linkedin.com/redir/redirect?url=https%3A%2F%2Fforms%2Eexample%2Eorg%2Ftomtalks-guest"
               "&urlhash=Xr4v&trk=article-ssr-frontend-pulse_little-text-block")
    assert ADAPTER.unwrap_link(wrapped) == "https://forms.example.org/tomtalks-guest"
    assert ADAPTER.unwrap_link("https://lnkd.in/bYVNNyE") == "https://lnkd.in/bYVNNyE"


# Discovery ----------------------------------------------------------------------------------------


def test_newsletter_page_is_its_own_listing_plus_the_author_list() -> None:
    page = parse_html((FIXTURES / "tomtalks-newsletter-page.html").read_text(encoding="utf-8"))
    assert ADAPTER.listings(NEWSLETTER_URL, page) == [
        Listing(NEWSLETTER_URL, NEWSLETTER_PAGE),
        # the author card's link, not the "People also viewed" profile (it carries trk=)
        Listing("https://www.linkedin.com/today/author/tompopomaronis", AUTHOR_LIST),
    ]


def test_single_articles_and_posts_are_not_listings(shared: Path) -> None:
    edition = parse_html(NETFLIX.read_text(encoding="utf-8"))  # links to its newsletter, still one issue
    assert ADAPTER.listings(NETFLIX_URL, edition) == []
    post = shared / "corpus" / "real" / "linkedin" / "feed-public-post-6341926280803471360.html"
    assert ADAPTER.listings("https://www.linkedin.com/feed/update/urn:li:activity:6341926280803471360",
                            parse_html(post.read_text(encoding="utf-8"))) == []
    author = "https://www.linkedin.com/today/author/tompopomaronis"
    assert ADAPTER.listings(author, None) == [Listing(author, AUTHOR_LIST)]


def test_newsletter_page_lists_main_editions_then_the_right_rail() -> None:
    body = (FIXTURES / "tomtalks-newsletter-page.html").read_bytes()
    result = ADAPTER.parse_listing(Listing(NEWSLETTER_URL, NEWSLETTER_PAGE), body, NEWSLETTER_URL)
    pulse = "https://www.linkedin.com/pulse/"
    assert [found.url for found in result.issues] == [
        pulse + "ais-electricity-bill-tom-popomaronis-q2xvd",
        pulse + "real-story-behind-netflixs-900000-ai-job-tom-popomaronis-8fj2e",
        pulse + "synthetic-data-comes-asterisk-tom-popomaronis-hc7ba",  # a relative link
        pulse + "ai-healthcare-triage-tom-popomaronis-7bw1k",  # right rail, older
        pulse + "chip-crunch-tom-popomaronis-0dzvm",
    ]  # no /pulse/topics/ hubs, no duplicates, no trackingId/trk queries
    first = result.issues[0].hints
    assert (first.title, first.published_at) == ("AI's electricity bill", "2023-08-02")
    assert result.newsletter == "TomTalks"
    assert result.next == []


# A local LinkedIn newsletter ------------------------------------------------------------------------

EDITIONS = 35
WALLED = 35  # the newest edition is served behind the sign-in wall
NEWSLETTER_PATH = "/newsletters/tomtalks-7090548732146016256/"
AUTHOR_PATH = "/today/author/tompopomaronis"
FIRST_EDITION = datetime(2023, 1, 4, 13, tzinfo=UTC)
TOPICS = [
    "AI copilots in sales teams", "Open-source models get small", "The EU AI Act's fine print", "The chip crunch",
    "AI in healthcare triage", "Synthetic data comes with an asterisk", "Netflix's $900,000 AI job",
    "AI's electricity bill", "Warehouse robotics", "Prompt engineering is a skill, not a job",
    "AI for small businesses", "Deepfakes, ballots and trust", "Homework is dead",
]


def _title(n: int) -> str:
    return f"TomTalks #{n}: {TOPICS[n % len(TOPICS)]}"


def _path(n: int) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", TOPICS[n % len(TOPICS)].lower()).strip("-")
    return f"/pulse/tomtalks-{n}-{words}-tom-popomaronis-{hashlib.sha1(str(n).encode()).hexdigest()[:5]}"


def _published(n: int) -> str:
    """Weekly on Wednesdays from 4 January 2023."""
    return (FIRST_EDITION + timedelta(weeks=n - 1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _shown_date(n: int) -> str:
    """The date as LinkedIn prints it: "Jan 4, 2023"."""
    moment = FIRST_EDITION + timedelta(weeks=n - 1)
    return f"{moment:%b} {moment.day}, {moment.year}"


def _edition_page(base: str, n: int) -> Page:
    """One edition in the 2023+ guest layout (as the fixture page, trimmed to what the crawl needs)."""
    url, title, topic = base + _path(n), html.escape(_title(n)), html.escape(TOPICS[n % len(TOPICS)].lower())
    ld = json.dumps({"@context": "http://schema.org", "@type": "Article", "headline": _title(n), "url": url,
                     "author": {"@type": "Person", "name": "Tom Popomaronis"}, "datePublished": _published(n),
                     "publisher": {"@type": "Organization", "name": "LinkedIn"}})
    report = f"https%3A%2F%2Fresearch%2Eexample%2Eorg%2Ftomtalks%2F{n}"

    def block(inner: str) -> str:
        return (f'<div class="article-main__content" data-test-id="publishing-text-block">\n'
                f"  <p>\n    {inner}\n  </p>\n</div>")

    return Page(f"""<!DOCTYPE html><html lang="en"><head>
<meta name="pageKey" content="d_flagship2_pulse_read">
<link rel="canonical" href="{url}">
<link rel="icon" href="https://static.licdn.com/aero-v1/sc/h/al2o9zrvru7aqj8e1x2rzsrca">
<link rel="stylesheet" href="https://static.licdn.com/aero-v1/sc/h/3tbq4rwhzkmbx6s0xmxd0vpy3">
<title>{title}</title>
<meta property="og:title" content="{title}"><meta property="og:type" content="article">
<meta name="twitter:label1" content="Written by"><meta name="twitter:data1" content="Tom Popomaronis">
<script type="application/ld+json">{ld}</script>
</head><body>
<header class="header"><nav class="nav"><a class="nav__button-secondary"
  href="https://www.linkedin.com/uas/login?trk=article-ssr-frontend-pulse_nav-header-signin">Sign in</a></nav></header>
<main class="main" id="main-content"><section class="core-rail"><div class="details">
<article class="article-main"><header><h1 class="pulse-title">{title}</h1>
<div class="publisher-author-card">
<a href="{base}/in/tompopomaronis?trk=article-ssr-frontend-pulse_publisher-author-card"><h3>Tom Popomaronis</h3></a>
<h4>Innovation Expert | Host of TomTalks</h4><time>Published this week</time>
<a href="{base}/signup/cold-join?trk=article-ssr-frontend-pulse_publisher-author-card">+ Follow</a></div>
<div class="series-card"><a href="{base}{NEWSLETTER_PATH}?trk=article-ssr-frontend-pulse_series-card">TomTalks</a>
<a href="{base}/signup/cold-join?trk=article-ssr-frontend-pulse_series-card-subscribe">Subscribe</a></div>
</header>
<div data-test-id="article-content-blocks">
{block(f'<span class>Welcome to edition {n} of </span><span class><a href="{base}{NEWSLETTER_PATH}">TomTalks</a></span>'
       f'<span class>, where #AInews meets #innovationPOV. This week the thread to pull is {topic}.</span>')}
{block(f'<span class>Every week I try to separate what {topic} means for leaders from what the headlines say '
       'about it, and this edition is no different: the numbers are real, the framing usually is not.</span>')}
<div class="inline-articles"><h2>Recommended by LinkedIn</h2><ul>
<li><a href="{base}/pulse/someone-elses-article-jane-roe-1a2b3">Ten leadership lessons</a> <span>Jane Roe</span></li>
<li><a href="{base}/pulse/another-article-john-doe-4c5d6">Why culture eats strategy</a> <span>John Doe</span></li>
</ul></div>
{block(f'<span class>Edition {n} closes with a question for you: where has {topic} already changed how your team '
       f'works, and what did it cost? The background is in </span><span class><a href="https://www.linkedin.com/redir/'
       f'redirect?url={report}&amp;urlhash=Ab{n}&amp;trk=article-ssr-frontend-pulse_little-text-block">this report'
       '</a></span><span class>.</span>')}
{block('<span class>TomTalks is a weekly exploration of the benefits, risks, and costs of AI adoption, hosted by '
       'award-winning innovation expert Tom Popomaronis.</span>')}
</div></article>
<div class="social-details"><div class="social-action-bar"><a href="#">Like</a><a href="#">Comment</a></div></div>
<section class="more-articles"><h2>More articles by Tom Popomaronis</h2>
<a href="{base}{AUTHOR_PATH}?trk=article-ssr-frontend-pulse_more-articles">See all</a></section>
</div></section>
<section class="right-rail"><h2>Explore topics</h2><a href="{base}/pulse/topics/home/">See All</a></section>
</main></body></html>""".encode())


def _card(base: str, n: int) -> str:
    return (f'<li><div class="share-update-card"><div class="share-update-card-header"><h6>Published on '
            f'{_shown_date(n)}</h6></div><div class="share-article"><a class="share-article__title-link" '
            f'href="{base}{_path(n)}?trackingId=x{n}&amp;trk=newsletter_updates_share-article">'
            f'<h3 class="share-article__title">{html.escape(_title(n))}</h3></a></div></div></li>')


def _head(title: str, extra: str = "") -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta name="pageKey" content="d_newsletter_guest_frontend">'
            f'<link rel="stylesheet" href="https://static.licdn.com/aero-v1/sc/h/9kbqfn6tsrmpqbkx8s0cn2ab4">'
            f"<title>{title} | LinkedIn</title>{extra}</head>")


def _newsletter_page(base: str) -> Page:
    """Main list: the ten newest editions; right rail: twelve older ones; the rest only on the author list."""
    main = "".join(_card(base, n) for n in range(EDITIONS, EDITIONS - 10, -1))
    rail = "".join(f'<li><a href="{base}{_path(n)}?trk=newsletter_more-articles">{html.escape(_title(n))}</a></li>'
                   for n in range(EDITIONS - 10, EDITIONS - 22, -1))
    return Page(f"""{_head("TomTalks")}<body><main class="main">
<section class="top-card-layout"><h1 class="top-card-layout__title">TomTalks</h1>
<h2 class="top-card-layout__headline">Weekly exploration of the benefits, risks, and costs of AI adoption</h2></section>
<section class="newsletter__author-container"><div class="base-main-card">
<a class="base-card__full-link" href="{base}/in/tompopomaronis">
<h3 class="base-main-card__title">Tom Popomaronis</h3></a>
</div></section>
<section class="newsletter__editions-container"><ul class="newsletter__updates">{main}</ul></section>
<section class="right-rail"><h2>More articles by Tom Popomaronis</h2><ul>{rail}</ul>
<h2>Explore topics</h2><a href="{base}/pulse/topics/workplace-c9/">Workplace</a>
<a href="{base}/pulse/topics/home/">See All</a>
<h2>People also viewed</h2><a href="{base}/in/rita-example-ai?trk=newsletter_people-also-viewed">Rita Example</a>
</section></main></body></html>""".encode())


def _author_page(base: str, numbers: range, next_url: str | None) -> Page:
    """The author's article list; a rel=next link leads to older articles (paging modelled, not verified)."""
    items = "".join(f'<li class="article-card"><a href="{base}{_path(n)}?trk=author_articles">'
                    f"{html.escape(_title(n))}</a><time>{_shown_date(n)}</time></li>" for n in numbers)
    link = f'<link rel="next" href="{next_url}">' if next_url else ""
    return Page(f"""{_head("Tom Popomaronis's articles", link)}<body><main class="main">
<h1>Articles by Tom Popomaronis</h1><ul class="author-articles">{items}</ul></main></body></html>""".encode())


def _site(base: str) -> dict[str, Page]:
    pages = {_path(n): _edition_page(base, n) for n in range(1, EDITIONS + 1)}
    pages[_path(WALLED)] = Page((FIXTURES / "signin-wall-at-article-url.html").read_bytes())
    pages[NEWSLETTER_PATH] = _newsletter_page(base)
    pages[AUTHOR_PATH] = _author_page(base, range(EDITIONS, 17, -1), f"{base}{AUTHOR_PATH}?page=2")
    pages[f"{AUTHOR_PATH}?page=2"] = _author_page(base, range(17, 0, -1), None)
    return pages


def test_crawl_of_a_newsletter_page_stores_every_edition(crawl, database_url: str) -> None:
    with LocalSite(build=_site) as site:
        archive = crawl(site.url(NEWSLETTER_PATH))
        requests = dict(site.requests)
        base = site.base_url
    stored = [n for n in range(1, EDITIONS + 1) if n != WALLED]  # every listed edition but the walled one
    assert_stored(archive, {base + _path(n): {
        "title": _title(n), "published_at": _published(n), "access": "free", "author": "Tom Popomaronis",
        "newsletter": "TomTalks", "platform": "linkedin", "issue_number": n} for n in stored})
    assert all(requests[_path(n)] == 1 for n in range(1, EDITIONS + 1))
    assert requests[NEWSLETTER_PATH] == 1  # the start page is read as the listing, not fetched again
    assert requests[AUTHOR_PATH] == 1 and requests[f"{AUTHOR_PATH}?page=2"] == 1  # paged to the end
    assert not any("/topics/" in path or "/in/" in path or "someone-elses" in path for path in requests)
    one = archive.get(base + _path(7))
    assert "Recommended by LinkedIn" not in one["body_text"] and "Ten leadership lessons" not in one["body_text"]
    assert "https://research.example.org/tomtalks/7" in {link["url"] for link in one["links"]}
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
        rejected = [url for (url,) in db.execute("SELECT url FROM rejected_pages")]
    assert rejected == [base + _path(WALLED)]


def test_crawl_of_one_edition_stores_only_that_edition(crawl) -> None:
    with LocalSite(build=_site) as site:
        archive = crawl(site.url(_path(3)))
        requests = dict(site.requests)
    assert [issue["title"] for issue in archive.list()] == [_title(3)]
    assert {path: count for path, count in requests.items() if path != "/robots.txt"} == {_path(3): 1}
