"""The bundled example newsletter "TomTalks", built as a small website: home page, RSS feed,
paginated archive, sitemap, robots.txt and one page per issue (``issues/*.md``).

Issue pages carry the chrome real newsletter sites have (header, navigation, subscribe box,
"More from TomTalks" list, footer) so the demo exercises the real extraction path.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from importlib import resources

from tomtalks_scraper.demo_site.markdown import to_html
from tomtalks_scraper.demo_site.server import Page

NEWSLETTER = "TomTalks"
TAGLINE = "Where #AInews meets #innovationPOV: a weekly look at the benefits, risks and costs of AI."
ARCHIVE_PAGE_SIZE = 5


@dataclass(frozen=True)
class DemoIssue:
    slug: str
    title: str
    author: str
    date: str  # ISO 8601 UTC
    summary: str
    markdown: str

    @property
    def path(self) -> str:
        return f"/issues/{self.slug}/"

    @property
    def published(self) -> datetime:
        return datetime.fromisoformat(self.date.replace("Z", "+00:00"))


def parse_issue_file(name: str, text: str) -> DemoIssue:
    """Front matter is ``key: value`` lines between ``---`` lines (split on the first ": ")."""
    _, front, body = text.split("---\n", 2)
    fields = dict(line.split(": ", 1) for line in front.strip().splitlines())
    slug = name.removesuffix(".md").split("-", 1)[1]
    return DemoIssue(slug, fields["title"], fields["author"], fields["date"], fields["summary"], body.strip())


def load_issues() -> list[DemoIssue]:
    """The bundled issues, newest first."""
    folder = resources.files("tomtalks_scraper.demo_site") / "issues"
    issues = [parse_issue_file(f.name, f.read_text(encoding="utf-8"))
              for f in folder.iterdir() if f.name.endswith(".md")]
    return sorted(issues, key=lambda i: i.date, reverse=True)


def _layout(base: str, title: str, head: str, main: str) -> bytes:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<link rel="alternate" type="application/rss+xml" title="{NEWSLETTER}" href="{base}/feed.xml">
{head}
</head><body>
<header class="site-header"><a class="brand" href="{base}/">{NEWSLETTER}</a>
<nav><a href="{base}/">Home</a> <a href="{base}/archive/">Archive</a> <a href="{base}/about/">About</a></nav>
</header>
<main>
{main}
</main>
<footer class="site-footer"><p>&copy; 2024 {NEWSLETTER} · <a href="{base}/feed.xml">RSS</a></p></footer>
</body></html>""".encode()


def _card(base: str, issue: DemoIssue) -> str:
    return (f'<li class="issue-card"><a href="{base}{issue.path}">{html.escape(issue.title)}</a>'
            f' <time datetime="{issue.date}">{issue.published:%B %-d, %Y}</time>'
            f'<p>{html.escape(issue.summary)}</p></li>')


def issue_page(base: str, issue: DemoIssue, others: list[DemoIssue]) -> Page:
    url = base + issue.path
    head = f"""<link rel="canonical" href="{url}">
<meta name="description" content="{html.escape(issue.summary)}">
<meta property="og:type" content="article">
<meta property="og:title" content="{html.escape(issue.title)}">
<meta property="og:site_name" content="{NEWSLETTER}">
<meta property="og:url" content="{url}">
<meta name="author" content="{html.escape(issue.author)}">
<meta property="article:published_time" content="{issue.date}">"""
    more = "".join(_card(base, other) for other in others[:3])
    main = f"""<article class="post">
<h1 class="post-title">{html.escape(issue.title)} - {NEWSLETTER}</h1>
<p class="byline">By <span class="author">{html.escape(issue.author)}</span> ·
<time datetime="{issue.date}" class="published">{issue.published:%B %-d, %Y}</time></p>
<div class="post-body">
{to_html(issue.markdown)}
</div>
<div class="subscribe-box"><h3>Subscribe to {NEWSLETTER}</h3><p>Get every issue in your inbox.</p>
<form><input type="email" placeholder="you@example.com"><button>Subscribe</button></form></div>
</article>
<aside class="more-issues"><h2>More from {NEWSLETTER}</h2><ul>{more}</ul></aside>"""
    return Page(_layout(base, f"{issue.title} | {NEWSLETTER}", head, main))


def home_page(base: str, issues: list[DemoIssue]) -> Page:
    cards = "".join(_card(base, i) for i in issues[:ARCHIVE_PAGE_SIZE])
    head = f'<meta property="og:site_name" content="{NEWSLETTER}"><meta property="og:type" content="website">'
    main = (f"<section class='intro'><h1>{NEWSLETTER}</h1><p>{html.escape(TAGLINE)}</p></section>"
            f"<section class='latest'><h2>Latest issues</h2><ul>{cards}</ul>"
            f"<p><a href='{base}/archive/'>All issues</a></p></section>")
    return Page(_layout(base, NEWSLETTER, head, main))


def archive_pages(base: str, issues: list[DemoIssue]) -> dict[str, Page]:
    """``/archive/``, ``/archive/page/2/``, … with "Older issues" links between them."""
    chunks = [issues[i:i + ARCHIVE_PAGE_SIZE] for i in range(0, len(issues), ARCHIVE_PAGE_SIZE)]
    pages = {}
    for number, chunk in enumerate(chunks, start=1):
        path = "/archive/" if number == 1 else f"/archive/page/{number}/"
        older = (f'<a class="older" rel="next" href="{base}/archive/page/{number + 1}/">Older issues</a>'
                 if number < len(chunks) else "")
        newer_path = "/archive/" if number == 2 else f"/archive/page/{number - 1}/"
        newer = f'<a class="newer" href="{base}{newer_path}">Newer issues</a>' if number > 1 else ""
        cards = "".join(_card(base, i) for i in chunk)
        main = f"<h1>Archive</h1><ul class='archive'>{cards}</ul><div class='pager'>{newer} {older}</div>"
        head = f'<meta property="og:site_name" content="{NEWSLETTER}">'
        pages[path] = Page(_layout(base, f"Archive, page {number} | {NEWSLETTER}", head, main))
    return pages


def rss_feed(base: str, issues: list[DemoIssue]) -> Page:
    items = "".join(
        f"<item><title>{html.escape(i.title)}</title><link>{base}{i.path}</link>"
        f"<guid isPermaLink='true'>{base}{i.path}</guid><pubDate>{format_datetime(i.published)}</pubDate>"
        f"<dc:creator>{html.escape(i.author)}</dc:creator><description>{html.escape(i.summary)}</description></item>"
        for i in issues
    )
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>{NEWSLETTER}</title>'
            f"<link>{base}/</link><description>{html.escape(TAGLINE)}</description>{items}</channel></rss>")
    return Page(body.encode(), "application/rss+xml; charset=utf-8")


def sitemap(base: str, issues: list[DemoIssue]) -> Page:
    urls = "".join(f"<url><loc>{base}{i.path}</loc><lastmod>{i.date}</lastmod></url>" for i in issues)
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>')
    return Page(body.encode(), "application/xml")


def build_site(base: str) -> dict[str, Page]:
    """Every page of the demo site, with absolute links on ``base`` (``http://127.0.0.1:PORT``)."""
    issues = load_issues()
    pages = {
        "/": home_page(base, issues),
        "/feed.xml": rss_feed(base, issues),
        "/sitemap.xml": sitemap(base, issues),
        "/robots.txt": Page(f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n".encode(), "text/plain"),
        "/about/": Page(_layout(base, f"About | {NEWSLETTER}", "", f"<h1>About</h1><p>{html.escape(TAGLINE)}</p>")),
    }
    pages.update(archive_pages(base, issues))
    for issue in issues:
        pages[issue.path] = issue_page(base, issue, [o for o in issues if o is not issue])
    return pages
