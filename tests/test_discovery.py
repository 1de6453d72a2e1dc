"""Discovery as pure functions: feeds, sitemaps and what an HTML page says about its links."""

from __future__ import annotations

import gzip
import time

import pytest
from parsel import Selector

from tomtalks_scraper.discovery.feeds import FeedError, looks_like_feed, parse_feed
from tomtalks_scraper.discovery.html_pages import feed_links, issue_links, looks_like_issue, pagination_links
from tomtalks_scraper.discovery.sitemaps import looks_like_sitemap, parse_sitemap

# Feeds ----------------------------------------------------------------------------------------------

WORDPRESS_RSS = b"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:wfw="http://wellformedweb.org/CommentAPI/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:atom="http://www.w3.org/2005/Atom"
  xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">
<channel>
  <title>TomTalks</title>
  <atom:link href="https://tomtalks.example/feed/" rel="self" type="application/rss+xml" />
  <link>https://tomtalks.example</link>
  <description>Notes on AI at work</description>
  <lastBuildDate>Wed, 06 Mar 2024 08:00:00 +0000</lastBuildDate>
  <language>en-GB</language>
  <sy:updatePeriod>hourly</sy:updatePeriod>
  <generator>https://wordpress.org/?v=6.4.3</generator>
  <item>
    <title>The chip crunch</title>
    <link>https://tomtalks.example/the-chip-crunch/</link>
    <comments>https://tomtalks.example/the-chip-crunch/#respond</comments>
    <dc:creator><![CDATA[Tom Example]]></dc:creator>
    <pubDate>Tue, 05 Mar 2024 10:00:00 +0100</pubDate>
    <category><![CDATA[Hardware]]></category>
    <guid isPermaLink="false">https://tomtalks.example/?p=42</guid>
    <description><![CDATA[<p>Chips are scarce &#8230;</p>]]></description>
    <content:encoded><![CDATA[<p>Chips are scarce. <a href="/x">More</a></p>]]></content:encoded>
  </item>
  <item>
    <title>AI&#8217;s electricity bill</title>
    <link>/ai-electricity-bill/</link>
    <dc:creator>Ann Lee</dc:creator>
    <pubDate>Tue, 20 Feb 2024 07:30:00 GMT</pubDate>
    <guid isPermaLink="false">https://tomtalks.example/?p=41</guid>
  </item>
</channel>
</rss>"""

GUID_RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
  <title>Links only by guid</title>
  <link>https://news.example/</link>
  <item><title>Permalink guid</title><guid>https://news.example/2024/03/permalink-guid</guid>
    <author>editor@news.example (Jo Writer)</author></item>
  <item><title>Explicit permalink guid</title><guid isPermaLink="true">/2024/03/relative-guid</guid></item>
  <item><title>Opaque guid</title><guid isPermaLink="false">tag:news.example,2024:post-7</guid></item>
  <item><title>No link at all</title><description>orphan</description></item>
</channel></rss>"""

ATOM_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title type="text">TomTalks</title>
  <subtitle>Notes on AI at work</subtitle>
  <link rel="self" type="application/atom+xml" href="https://tomtalks.example/atom.xml"/>
  <link rel="alternate" type="text/html" href="/"/>
  <link rel="next" href="/atom.xml?page=2"/>
  <updated>2024-03-06T08:00:00Z</updated>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <entry>
    <title>Open source models get small</title>
    <link rel="replies" type="text/html" href="/posts/open-source-models-get-small#comments"/>
    <link rel="alternate" type="text/html" href="/posts/open-source-models-get-small"/>
    <link rel="enclosure" type="audio/mpeg" length="1337" href="/audio/ep12.mp3"/>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <published>2024-03-05T10:00:00-05:00</published>
    <updated>2024-03-06T08:00:00Z</updated>
    <author><name>Tom Example</name><uri>https://tomtalks.example/about</uri></author>
    <content type="html">&lt;p&gt;Small models win.&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>Link without rel</title>
    <link href="https://tomtalks.example/posts/implicit-alternate"/>
    <id>urn:uuid:2</id>
    <updated>2024-02-01T00:00:00Z</updated>
  </entry>
  <entry>
    <title>Only a self link</title>
    <link rel="self" href="https://tomtalks.example/api/entries/3"/>
    <id>urn:uuid:3</id>
  </entry>
</feed>"""

RSS1_RDF = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://old.example/">
    <title>Old School Notes</title>
    <link>https://old.example/</link>
    <description>Since 2003</description>
    <items><rdf:Seq>
      <rdf:li rdf:resource="https://old.example/2024/03/first"/>
      <rdf:li rdf:resource="https://old.example/2024/03/second"/>
    </rdf:Seq></items>
  </channel>
  <item rdf:about="https://old.example/2024/03/first">
    <title>First post</title>
    <link>https://old.example/2024/03/first</link>
    <dc:creator>Ann Lee</dc:creator>
    <dc:date>2024-03-05T10:00:00+09:00</dc:date>
  </item>
  <item rdf:about="https://old.example/2024/03/second">
    <title>Second post</title>
    <link>https://old.example/2024/03/second</link>
    <dc:date>2024-03-07</dc:date>
  </item>
</rdf:RDF>"""


def test_parse_feed_reads_rss2_items_with_dc_creator_and_pubdate():
    feed = parse_feed(WORDPRESS_RSS, "https://tomtalks.example/feed/")
    assert feed.title == "TomTalks"
    first, second = feed.entries
    assert first.url == "https://tomtalks.example/the-chip-crunch/"
    assert first.hints.title == "The chip crunch"
    assert first.hints.author == "Tom Example"
    assert first.hints.published_at == "2024-03-05T09:00:00Z"
    assert first.hints.source == "feed"
    assert second.hints.title == "AI\u2019s electricity bill"
    assert second.hints.author == "Ann Lee"
    assert second.hints.published_at == "2024-02-20T07:30:00Z"


def test_parse_feed_resolves_relative_item_links_against_feed_url():
    feed = parse_feed(WORDPRESS_RSS, "https://tomtalks.example/feed/")
    assert feed.entries[1].url == "https://tomtalks.example/ai-electricity-bill/"


def test_parse_feed_ignores_non_permalink_guid_when_item_has_link():
    urls = [entry.url for entry in parse_feed(WORDPRESS_RSS, "https://tomtalks.example/feed/").entries]
    assert "https://tomtalks.example/?p=42" not in urls


def test_parse_feed_reads_home_url_when_atom_self_link_comes_first():
    assert parse_feed(WORDPRESS_RSS, "https://tomtalks.example/feed/").home_url == "https://tomtalks.example"


def test_parse_feed_reads_rss_home_url_from_channel_link():
    assert parse_feed(GUID_RSS, "https://news.example/rss").home_url == "https://news.example/"


def test_parse_feed_falls_back_to_permalink_guid():
    feed = parse_feed(GUID_RSS, "https://news.example/rss")
    assert [(e.hints.title, e.url) for e in feed.entries] == [
        ("Permalink guid", "https://news.example/2024/03/permalink-guid"),
        ("Explicit permalink guid", "https://news.example/2024/03/relative-guid"),
    ]
    assert feed.entries[0].hints.author == "editor@news.example (Jo Writer)"


def test_parse_feed_reads_atom_alternate_links_and_authors():
    feed = parse_feed(ATOM_FEED, "https://tomtalks.example/atom.xml")
    assert feed.title == "TomTalks"
    assert feed.home_url == "https://tomtalks.example/"
    assert [e.url for e in feed.entries] == [
        "https://tomtalks.example/posts/open-source-models-get-small",
        "https://tomtalks.example/posts/implicit-alternate",
    ]
    first = feed.entries[0].hints
    assert (first.title, first.author) == ("Open source models get small", "Tom Example")
    assert first.published_at == "2024-03-05T15:00:00Z"
    assert first.updated_at == "2024-03-06T08:00:00Z"
    assert feed.entries[1].hints.published_at is None
    assert feed.entries[1].hints.updated_at == "2024-02-01T00:00:00Z"


def test_parse_feed_follows_atom_rel_next_paging():
    assert parse_feed(ATOM_FEED, "https://tomtalks.example/atom.xml").next_url == "https://tomtalks.example/atom.xml?page=2"


def test_parse_feed_without_paging_has_no_next_url():
    assert parse_feed(WORDPRESS_RSS, "https://tomtalks.example/feed/").next_url is None


def test_parse_feed_reads_rss1_rdf():
    feed = parse_feed(RSS1_RDF, "https://old.example/index.rdf")
    assert feed.title == "Old School Notes"
    assert feed.home_url == "https://old.example/"
    assert [(e.url, e.hints.author, e.hints.published_at) for e in feed.entries] == [
        ("https://old.example/2024/03/first", "Ann Lee", "2024-03-05T01:00:00Z"),
        ("https://old.example/2024/03/second", None, "2024-03-07"),
    ]


@pytest.mark.parametrize(
    "document",
    [
        b"<!DOCTYPE html><html><head><title>Not a feed</title></head><body><p>Hello</p></body></html>",
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://tomtalks.example/</loc></url></urlset>",
        b'<?xml version="1.0"?><opml version="2.0"><body><outline text="x"/></body></opml>',
        b"",
        b"just some text, not XML",
    ],
)
def test_parse_feed_raises_feed_error_for_non_feed_documents(document):
    with pytest.raises(FeedError):
        parse_feed(document, "https://tomtalks.example/feed/")


def test_parse_feed_error_names_the_root_element():
    with pytest.raises(FeedError, match="<opml>"):
        parse_feed(b'<?xml version="1.0"?><opml version="2.0"><body/></opml>', "https://x.example/")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title><link>https://bomb.example/</link>
<item><title>&lol9;</title><link>https://bomb.example/post</link><description>&lol9;</description></item>
</channel></rss>"""

XXE_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE rss [
  <!ELEMENT rss ANY>
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<rss version="2.0"><channel>
  <title>Leaky &xxe;</title>
  <link>https://xxe.example/</link>
  <item><title>&xxe;</title><link>https://xxe.example/post-1</link><dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">&xxe;</dc:creator>
    <description>&xxe;</description></item>
</channel></rss>"""


def _all_fields(feed) -> str:
    parts = [feed.title or "", feed.home_url or "", feed.next_url or ""]
    for entry in feed.entries:
        hints = entry.hints
        parts += [entry.url, hints.title or "", hints.author or "", hints.published_at or "", hints.updated_at or ""]
    return "\n".join(parts)


def test_parse_feed_does_not_expand_billion_laughs_entities():
    start = time.perf_counter()
    feed = parse_feed(BILLION_LAUGHS, "https://bomb.example/feed")
    assert time.perf_counter() - start < 1.0
    assert "lollol" not in _all_fields(feed)
    assert len(_all_fields(feed)) < 1000


def test_parse_feed_does_not_read_external_entity_files():
    start = time.perf_counter()
    feed = parse_feed(XXE_FEED, "https://xxe.example/feed")
    assert time.perf_counter() - start < 1.0
    assert "root:" not in _all_fields(feed)
    assert [e.url for e in feed.entries] == ["https://xxe.example/post-1"]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (WORDPRESS_RSS[:300], True),
        (ATOM_FEED[:200], True),
        (RSS1_RDF[:200], True),
        (b"<!DOCTYPE html><html><head><title>Feed me</title>", False),
        (b'<?xml version="1.0"?><urlset>', False),
    ],
)
def test_looks_like_feed_sniffs_document_start(head, expected):
    assert looks_like_feed(head) is expected


# Sitemaps -------------------------------------------------------------------------------------------

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="//tomtalks.example/main-sitemap.xsl"?>
<urlset xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"
        xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url>
    <loc>https://tomtalks.example/the-chip-crunch/</loc>
    <lastmod>2024-03-05T10:00:00+01:00</lastmod>
    <image:image><image:loc>https://tomtalks.example/wp-content/uploads/chips.jpg</image:loc></image:image>
  </url>
  <url><loc>
    https://tomtalks.example/ai-electricity-bill/
  </loc><lastmod>2024-02-20</lastmod><changefreq>weekly</changefreq><priority>0.8</priority></url>
  <url><loc>/warehouse-robotics/</loc></url>
  <url><loc>https://tomtalks.example/homework-is-dead/</loc><lastmod>last week</lastmod></url>
</urlset>"""

SITEMAP_INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://tomtalks.example/post-sitemap.xml</loc><lastmod>2024-03-05T10:00:00+00:00</lastmod></sitemap>
  <sitemap><loc>https://tomtalks.example/page-sitemap.xml</loc></sitemap>
</sitemapindex>"""

EXPECTED_URLSET = [
    ("https://tomtalks.example/the-chip-crunch/", "2024-03-05T09:00:00Z"),
    ("https://tomtalks.example/ai-electricity-bill/", "2024-02-20"),
    ("https://tomtalks.example/warehouse-robotics/", None),
    ("https://tomtalks.example/homework-is-dead/", None),
]


def test_parse_sitemap_reads_urlset_locations_and_lastmod():
    page = parse_sitemap(URLSET, "https://tomtalks.example/post-sitemap.xml")
    assert page.kind == "urlset"
    assert page.urls == EXPECTED_URLSET


def test_parse_sitemap_reads_sitemap_index():
    page = parse_sitemap(SITEMAP_INDEX, "https://tomtalks.example/sitemap_index.xml")
    assert page.kind == "sitemapindex"
    assert page.urls == [
        ("https://tomtalks.example/post-sitemap.xml", "2024-03-05T10:00:00Z"),
        ("https://tomtalks.example/page-sitemap.xml", None),
    ]


def test_parse_sitemap_reads_gzipped_sitemap():
    page = parse_sitemap(gzip.compress(URLSET), "https://tomtalks.example/sitemap.xml.gz")
    assert page.kind == "urlset"
    assert page.urls == EXPECTED_URLSET


def test_parse_sitemap_does_not_read_external_entity_files():
    body = b"""<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
    <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://x.example/&xxe;</loc></url></urlset>"""
    page = parse_sitemap(body, "https://x.example/sitemap.xml")
    assert all("root:" not in loc for loc, _ in page.urls)


def test_looks_like_sitemap_sniffs_plain_gzipped_and_index():
    assert looks_like_sitemap(URLSET[:400])
    assert looks_like_sitemap(SITEMAP_INDEX[:200])
    assert looks_like_sitemap(gzip.compress(URLSET)[:10])
    assert not looks_like_sitemap(WORDPRESS_RSS[:400])
    assert not looks_like_sitemap(b"<!DOCTYPE html><html><body>sitemap</body></html>")


# HTML pages -----------------------------------------------------------------------------------------

BASE = "https://tomtalks.example/blog/"

LISTING = """<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8"><title>Blog – TomTalks</title>
<meta property="og:type" content="website">
<link rel="alternate" type="application/rss+xml" title="TomTalks &raquo; Feed" href="/feed/">
<link rel="alternate" type="application/atom+xml; charset=utf-8" title="Atom" href="https://tomtalks.example/atom.xml">
<link rel="alternate" type="application/rss+xml" title="TomTalks &raquo; Comments Feed" href="/comments/feed/">
<link rel="alternate" hreflang="de" href="https://tomtalks.example/de/blog/">
<link rel="stylesheet" href="/style.css">
<link rel="next" href="https://tomtalks.example/blog/page/2/">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"CollectionPage","name":"Blog"}</script>
</head>
<body>
<header><a href="/" class="logo">TomTalks</a>
  <nav><a href="/blog/">Blog</a><a href="/about/">About</a>
    <a href="/the-chip-crunch/">Featured: the chip crunch</a></nav>
</header>
<main>
  <article class="card"><h2><a href="/the-chip-crunch/">The chip crunch</a></h2><p>Chips are scarce.</p>
    <p><a href="/the-chip-crunch/#comments">3 comments</a> · <a href="/tag/hardware/">hardware</a> ·
    <a href="/category/ai/">AI</a> · by <a href="/author/tom/">Tom</a></p></article>
  <article class="card"><h2>
    <a href="https://tomtalks.example/ai-electricity-bill/?utm_source=blog">AI's electricity bill</a></h2>
    <p>Data centres are hungry.</p></article>
  <article class="card"><h2><a href="2024/03/warehouse-robotics/">Warehouse robotics</a></h2>
    <p>Robots arrive.</p></article>
  <article class="card"><h2><a href="https://twitter.com/tomexample/status/123">A thread</a></h2></article>
  <p><a href="https://tomtalks.example/">Back home</a> <a href="/blog/#top">Top</a>
     <a href="/wp-content/uploads/2024/ai-report.pdf">Download the report</a>
     <a href="mailto:tom@tomtalks.example">Email me</a> <a href="/about/">About this blog</a>
     <a href="/feed/">RSS</a> <a href="/archive/">Archive</a></p>
  <div class="pagination"><a class="prev page-numbers" href="/blog/">1</a>
    <a class="page-numbers" href="/blog/page/2/">2</a>
    <a class="page-numbers" href="/blog/?page=3">3</a>
    <a class="next page-numbers" href="/blog/page/2/">Older posts</a></div>
</main>
<aside class="widget"><h3>Popular</h3><a href="/homework-is-dead/">Homework is dead</a></aside>
<footer><a href="/privacy/">Privacy</a><a href="/ai-for-small-businesses/">AI for small businesses</a></footer>
</body></html>"""


def _article_page(paragraphs: int, head: str = "") -> str:
    text = " ".join(["Warehouse robots arrived in spring and nobody on the floor was asked about the layout."] * 3)
    body = "".join(f"<p>{text}</p>" for _ in range(paragraphs))
    return f"""<html><head><title>Warehouse robotics</title>{head}</head><body>
    <header><nav><a href="/">Home</a></nav></header>
    <main><article><h1>Warehouse robotics</h1>{body}</article></main>
    <footer><p>© TomTalks</p></footer></body></html>"""


def test_feed_links_finds_rss_and_atom_alternates_as_absolute_urls():
    assert feed_links(Selector(text=LISTING), BASE) == [
        "https://tomtalks.example/feed/",
        "https://tomtalks.example/atom.xml",
    ]


def test_feed_links_accepts_multi_valued_rel():
    page = Selector(
        text='<html><head><link rel="feed alternate" type="application/rss+xml" href="rss.xml"></head></html>'
    )
    assert feed_links(page, "https://news.example/section/") == ["https://news.example/section/rss.xml"]


def test_feed_links_is_empty_without_feed_alternates():
    assert feed_links(Selector(text=_article_page(1)), BASE) == []


def test_looks_like_issue_true_for_og_type_article():
    assert looks_like_issue(Selector(text=_article_page(1, '<meta property="og:type" content="article">')))


def test_looks_like_issue_true_for_json_ld_blog_posting():
    head = '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "BlogPosting"}</script>'
    assert looks_like_issue(Selector(text=_article_page(1, head)))


def test_looks_like_issue_true_for_single_long_article():
    assert looks_like_issue(Selector(text=_article_page(10)))


def test_looks_like_issue_false_for_single_short_article():
    assert not looks_like_issue(Selector(text=_article_page(1)))


def test_looks_like_issue_false_for_listing_page():
    assert not looks_like_issue(Selector(text=LISTING))


def test_issue_links_keeps_post_links_from_content():
    assert issue_links(Selector(text=LISTING), BASE) == [
        "https://tomtalks.example/the-chip-crunch/",
        "https://tomtalks.example/ai-electricity-bill/?utm_source=blog",
        "https://tomtalks.example/blog/2024/03/warehouse-robotics/",
    ]


def test_issue_links_excludes_chrome_other_hosts_listings_pagination_and_home():
    links = issue_links(Selector(text=LISTING), BASE)
    joined = " ".join(links)
    for excluded in ("homework-is-dead", "ai-for-small-businesses", "privacy", "twitter.com", "/tag/", "/category/",
                     "/author/", "/about/", "/page/", "?page=", "ai-report.pdf", "/feed/", "/archive/", "mailto:"):
        assert excluded not in joined
    assert "https://tomtalks.example/" not in links
    assert BASE not in links


def test_issue_links_lists_each_post_once_despite_fragments():
    links = issue_links(Selector(text=LISTING), BASE)
    assert links.count("https://tomtalks.example/the-chip-crunch/") == 1
    assert not any("#" in link for link in links)


def test_issue_links_keeps_post_whose_title_starts_with_next():
    page = Selector(text="""<html><body><main>
      <article><h2><a href="/next-gen-chips-are-coming/">Next-gen chips are coming</a></h2></article>
      <article><h2><a href="/older-workers-and-ai/">Older workers and AI</a></h2></article>
    </main></body></html>""")
    assert issue_links(page, BASE) == [
        "https://tomtalks.example/next-gen-chips-are-coming/",
        "https://tomtalks.example/older-workers-and-ai/",
    ]


def test_issue_links_keeps_wordpress_plain_permalinks():
    page = Selector(text="""<html><body><main>
      <article><h2><a href="https://wp.example/?p=123">Hello AI</a></h2></article>
      <article><h2><a href="https://wp.example/?p=124">Second post</a></h2></article>
      <a href="https://wp.example/?paged=2">2</a>
    </main></body></html>""")
    assert issue_links(page, "https://wp.example/") == ["https://wp.example/?p=123", "https://wp.example/?p=124"]


def test_pagination_links_finds_rel_next_older_posts_and_page_numbers():
    links = pagination_links(Selector(text=LISTING), BASE)
    assert links == ["https://tomtalks.example/blog/page/2/", "https://tomtalks.example/blog/?page=3"]


def test_pagination_links_finds_older_entries_text_link_even_in_nav():
    page = Selector(text="""<html><body><main><h2><a href="/2024/03/post/">A post</a></h2>
      <nav class="nav-links"><a href="/archive/?before=2024-03-01">Older Entries</a></nav></main></body></html>""")
    assert pagination_links(page, BASE) == ["https://tomtalks.example/archive/?before=2024-03-01"]


def test_pagination_links_finds_older_posts_link_with_leading_arrow():
    page = Selector(text="""<html><body><div id="content">
      <article><h1><a href="/2024/03/post/">A post</a></h1></article>
      <nav id="nav-below" class="navigation">
        <div class="nav-previous"><a href="https://tomtalks.example/blog/page/2/"><span class="meta-nav">&larr;</span>
          Older posts</a></div>
      </nav></div></body></html>""")
    assert pagination_links(page, BASE) == ["https://tomtalks.example/blog/page/2/"]


def test_pagination_links_finds_anchor_with_rel_next():
    page = Selector(text='<html><body><a rel="next" href="/blog/cursor/abc123">→ continue</a></body></html>')
    assert pagination_links(page, BASE) == ["https://tomtalks.example/blog/cursor/abc123"]


def test_pagination_links_ignores_other_hosts():
    page = Selector(text='<html><body><a href="https://other.example/page/2/">Next page</a></body></html>')
    assert pagination_links(page, BASE) == []


def test_pagination_links_is_empty_for_an_issue_page():
    assert pagination_links(Selector(text=_article_page(10)), BASE) == []
