"""The generic path's body extraction (``extraction/ensemble.py``): each rule on a small realistic page.

Every test builds a blog-like page around the same article, adds one kind of chrome, and checks
that the chrome is gone from the text, Markdown and HTML renderings while the article's own first
and last paragraphs stay.
"""

from __future__ import annotations

import pytest
from lxml import etree
from lxml import html as lxml_html

from tomtalks_scraper.extraction import ensemble
from tomtalks_scraper.extraction.body import run_trafilatura
from tomtalks_scraper.extraction.issue import ExtractedIssue, extract_issue
from tomtalks_scraper.platforms.generic import ADAPTER as GENERIC

URL = "https://blog.example.org/2024/warehouse-robots/"
DESCRIPTION = "Robots now move most parcels in the largest warehouses, and the jobs around them are changing."
PARAGRAPHS = [
    "Three years ago the warehouse outside Leeds employed four hundred pickers on two shifts. Today a fleet of "
    "small orange robots carries shelves to sixty people who never walk the aisles at all.",
    "The change did not happen overnight. The first robots arrived on a trial in a single hall, and the managers "
    "expected them to fail on the uneven concrete floor that the building had since the nineteen seventies.",
    "They did not fail. Within six months the trial hall shipped a third more parcels per hour than the others, "
    "and the company ordered enough machines to cover every hall before the next peak season.",
    "The people who stayed now work at stations where the shelves come to them. Their days are shorter on "
    "walking and longer on screens, and several told us the work is calmer but also more lonely than before.",
    "Unions have asked for rotation between stations and for training that leads somewhere. The company says it "
    "will publish a plan in the spring, after the last hall is converted and the numbers are in.",
    "What happens next depends less on the robots than on the people who decide how the saved hours are used.",
]
FIRST, LAST = PARAGRAPHS[0], PARAGRAPHS[-1]


def page(article: str, *, before: str = "", after: str = "", description: str = DESCRIPTION) -> str:
    """A blog page: header, navigation, the article (with ``before``/``after`` inside it), sidebar, footer."""
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Warehouse robots change the job | Example Blog</title>
<meta property="og:title" content="Warehouse robots change the job">
<meta property="og:description" content="{description}">
</head><body>
<header class="site-header"><a href="/">Example Blog</a><nav><a href="/about/">About</a>
<a href="/archive/">Archive</a></nav></header>
<main><article class="post">
<h1>Warehouse robots change the job</h1>
{before}
<div class="post-content">{article}</div>
{after}
</article></main>
<aside class="sidebar"><h3>Popular posts</h3><ul><li><a href="/a/">A post</a></li><li><a href="/b/">B post</a></li></ul>
</aside>
<footer class="site-footer"><p>© 2024 Example Blog</p></footer>
</body></html>"""


def paragraphs(items: list[str] = PARAGRAPHS) -> str:
    return "".join(f"<p>{p}</p>" for p in items)


def extract(markup: str) -> ExtractedIssue:
    return extract_issue(markup, URL, platform="generic")


def assert_article_intact(issue: ExtractedIssue) -> None:
    assert issue.body_text.splitlines()[0] == FIRST
    assert issue.body_text.splitlines()[-1] == LAST


def assert_gone(issue: ExtractedIssue, *chrome: str) -> None:
    for text in chrome:
        assert text not in issue.body_text, text
        assert text not in issue.body_markdown, text
        assert text not in issue.body_html, text


# The page without chrome ------------------------------------------------------------------------------


def test_plain_article_is_kept_whole_in_every_rendering():
    issue = extract(page(paragraphs()))
    assert issue.body_text.splitlines() == PARAGRAPHS
    assert issue.body_markdown.split("\n\n") == PARAGRAPHS
    assert issue.body_html.count("<p>") == len(PARAGRAPHS)


def test_generic_adapter_uses_the_ensemble_and_platform_adapters_keep_the_default_extraction():
    caption = "The converted hall in March, seen from the loading bay."
    markup = page(paragraphs(PARAGRAPHS[:2]) + f'<div class="wp-caption"><img src="/hall.jpg" alt="hall">'
                  f'<p class="wp-caption-text">{caption}</p></div>' + paragraphs(PARAGRAPHS[2:]))
    generic_body = GENERIC.extract_body(GENERIC.preclean(lxml_html.document_fromstring(markup)), URL)
    default_body = run_trafilatura(lxml_html.document_fromstring(markup), URL)  # what platform adapters run
    assert caption not in generic_body.text
    assert caption in default_body.text


# Tail ------------------------------------------------------------------------------------------------


def test_trailing_share_line_is_dropped_and_the_real_last_paragraph_kept():
    issue = extract(page(paragraphs() + '<p>Share this: <a href="https://twitter.com/share">Twitter</a> '
                         '<a href="https://facebook.com/sharer">Facebook</a></p>'))
    assert_article_intact(issue)
    assert_gone(issue, "Share this", "Facebook")


def test_trailing_author_contact_and_newsletter_call_to_action_are_dropped():
    issue = extract(page(paragraphs() + (
        "<p>Email Jane Doe at jane@example.org or follow her on Twitter @janedoe.</p>"
        "<p>Get the best stories in your inbox every Friday. Subscribe to our newsletter.</p>"
        "<p><em>Comments</em></p>"
    )))
    assert_article_intact(issue)
    assert_gone(issue, "jane@example.org", "Subscribe to our newsletter", "Comments")


def test_last_paragraph_mentioning_subscribers_or_a_link_is_article_text():
    closing = ("P.S. Here is a photo from the hall with a friend (and long-time subscriber) who ran the night shift "
               "for twelve years; the full report is at https://example.org/report.")
    issue = extract(page(paragraphs() + f"<p>{closing}</p>"))
    assert issue.body_text.splitlines()[-1] == closing


def test_trailing_list_of_tags_as_links_is_dropped():
    tags = " ".join(f'<a href="/tag/{t}/">{t}</a>,' for t in ("robots", "warehouses", "logistics", "jobs", "unions"))
    issue = extract(page(paragraphs() + f"<p>Tags: {tags}</p>"))
    assert_article_intact(issue)
    assert_gone(issue, "logistics")


# Links in the middle -----------------------------------------------------------------------------------


def test_related_link_list_with_its_intro_is_dropped_where_it_stands():
    related = ('<p>You may also like:</p><ul><li><a href="/r1/">Ten facts about parcel sorting</a></li>'
               '<li><a href="/r2/">Why forklifts still matter</a></li><li><a href="/r3/">Night shifts, explained</a>'
               "</li></ul>")
    issue = extract(page(paragraphs(PARAGRAPHS[:3]) + related + paragraphs(PARAGRAPHS[3:])))
    assert issue.body_text.splitlines() == PARAGRAPHS
    assert_gone(issue, "You may also like", "parcel sorting", "forklifts")


def test_list_of_bare_links_is_dropped_with_its_intro_line():
    # trafilatura's precision mode usually drops such a list itself; when it keeps one (as on several
    # benchmark pages), the list and the line introducing it go. The body is trafilatura's XML.
    body = etree.fromstring(
        f"<body><p>{FIRST}</p><p>From our archive:</p><list rend='ul'>"
        "<item><ref target='/a1/'><hi rend='#u'>The first robot trial, in pictures</hi></ref></item>"
        "<item><ref target='/a2/'><hi rend='#u'>Peak season, hour by hour</hi></ref></item></list>"
        f"<p>{LAST}</p></body>"
    )
    assert [ensemble._text(block) for block in ensemble.trim_body(body)] == [FIRST, LAST]


def test_intro_line_left_at_the_end_without_what_it_introduced_is_dropped():
    archive = ('<p>From our archive:</p><ul><li><a href="/a1/">The first robot trial, in pictures</a></li>'
               '<li><a href="/a2/">Peak season, hour by hour</a></li></ul>')
    issue = extract(page(paragraphs() + archive))
    assert_article_intact(issue)
    assert_gone(issue, "From our archive", "Peak season")


def test_list_of_items_with_their_own_words_is_kept():
    items = ('<ul><li><a href="/r1/">Rotation</a> between stations every two hours, as the union asked.</li>'
             '<li><a href="/r2/">Training</a> that leads to maintenance and control-room jobs.</li></ul>')
    issue = extract(page(paragraphs(PARAGRAPHS[:3]) + items + paragraphs(PARAGRAPHS[3:])))
    assert "Rotation between stations every two hours, as the union asked." in issue.body_text
    assert "[Rotation](https://blog.example.org/r1/)" in issue.body_markdown


def test_dont_miss_title_and_the_links_under_it_are_dropped():
    block = ("<p><strong>DON'T MISS</strong></p>"
             '<p><a href="/x1/">Robots that sort letters by hand writing</a> [INSIGHT]</p>'
             '<p><a href="/x2/">The town where every job is a warehouse job</a> [VIDEO]</p>')
    issue = extract(page(paragraphs(PARAGRAPHS[:2]) + block + paragraphs(PARAGRAPHS[2:])))
    assert issue.body_text.splitlines() == PARAGRAPHS
    assert_gone(issue, "DON'T MISS", "sort letters", "every job is a warehouse job")


def test_labelled_teaser_line_is_dropped():
    teaser = '<p><strong>Related:</strong> <a href="/robots-in-pictures/">Warehouse robots in pictures</a></p>'
    issue = extract(page(paragraphs(PARAGRAPHS[:2]) + teaser + paragraphs(PARAGRAPHS[2:])))
    assert issue.body_text.splitlines() == PARAGRAPHS
    assert_gone(issue, "Warehouse robots in pictures")


def test_link_wrapped_in_a_link_classed_span_keeps_its_words():
    sentence = ("Our reporter found that <span class=\"link\"><a href=\"/fines/\">the regulator fined the company"
                "</a></span> for missing safety reports, a first for the sector.")
    issue = extract(page(paragraphs(PARAGRAPHS[:2]) + f"<p>{sentence}</p>" + paragraphs(PARAGRAPHS[2:])))
    assert ("Our reporter found that the regulator fined the company for missing safety reports, a first for the "
            "sector.") in issue.body_text


# Head -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("line", [
    "November 20, 2019 - 11:28 AMT",
    "By Jane Doe",
    "Updated at 1:23 p.m.",
    "5 min read",
])
def test_dateline_or_byline_at_the_head_is_dropped(line):
    issue = extract(page(paragraphs(), before=f"<p>{line}</p>"))
    assert_article_intact(issue)
    assert_gone(issue, line)


def test_first_paragraph_that_is_a_sentence_with_a_date_is_kept():
    opening = "On May 5, 2023 we shipped the first robot."
    issue = extract(page(paragraphs([opening, *PARAGRAPHS])))
    assert issue.body_text.splitlines()[0] == opening


def test_standfirst_repeating_the_declared_description_is_dropped():
    issue = extract(page(paragraphs(), before=f"<h2>{DESCRIPTION}</h2>"))
    assert_article_intact(issue)
    assert_gone(issue, "Robots now move most parcels")


def test_heading_that_is_not_the_description_is_kept():
    issue = extract(page(paragraphs(PARAGRAPHS[:3]) + "<h2>What the workers say</h2>" + paragraphs(PARAGRAPHS[3:])))
    assert "What the workers say" in issue.body_text
    assert "## What the workers say" in issue.body_markdown


# Before extraction ---------------------------------------------------------------------------------------


def test_caption_leaves_the_text_and_stays_with_its_image():
    figure = ('<figure><img src="https://blog.example.org/img/hall.jpg" alt="A warehouse hall">'
              "<figcaption>The converted hall in March. Photo: Jane Doe</figcaption></figure>")
    issue = extract(page(paragraphs(PARAGRAPHS[:2]) + figure + paragraphs(PARAGRAPHS[2:])))
    assert issue.body_text.splitlines() == PARAGRAPHS
    assert "The converted hall in March" not in issue.body_text
    assert "![The converted hall in March. Photo: Jane Doe A warehouse hall](" in issue.body_markdown
    assert 'title="The converted hall in March. Photo: Jane Doe"' in issue.body_html
    assert "<p>The converted hall in March" not in issue.body_html


def test_caption_by_class_is_folded_into_its_image():
    figure = ('<div class="wp-caption"><img src="https://blog.example.org/img/robot.jpg" alt="robot">'
              '<p class="wp-caption-text">An orange robot lifts a shelf.</p></div>')
    issue = extract(page(paragraphs(PARAGRAPHS[:2]) + figure + paragraphs(PARAGRAPHS[2:])))
    assert issue.body_text.splitlines() == PARAGRAPHS
    assert "An orange robot lifts a shelf." in issue.body_markdown


def test_caption_repeating_the_image_title_is_not_doubled():
    figure = ('<figure><img src="https://blog.example.org/img/bay.jpg" alt="bay" title="The loading bay at dawn.">'
              "<figcaption>The loading bay at dawn.</figcaption></figure>")
    issue = extract(page(paragraphs(PARAGRAPHS[:2]) + figure + paragraphs(PARAGRAPHS[2:])))
    assert issue.body_html.count("The loading bay at dawn.") == 1


def test_newsletter_signup_widget_is_dropped():
    widget = ('<section class="promo"><h3>The Friday Letter</h3><p>Get the week in logistics, free.</p>'
              '<form action="/subscribe"><input type="email" name="email" placeholder="Your e-mail">'
              "<button>Sign me up</button></form><div class=\"state\">Thanks for signing up!</div>"
              "<div class=\"state\">Sorry! There was an error.</div></section>")
    issue = extract(page(paragraphs(PARAGRAPHS[:3]) + widget + paragraphs(PARAGRAPHS[3:])))
    assert issue.body_text.splitlines() == PARAGRAPHS
    assert_gone(issue, "The Friday Letter", "week in logistics", "Thanks for signing up", "There was an error")


def test_short_article_holding_a_form_is_not_taken_for_a_widget():
    tree = lxml_html.document_fromstring(
        "<html><body><div class='post'><p>" + PARAGRAPHS[1] + "</p>"
        "<form><input type='email'><button>Join</button></form></div></body></html>"
    )
    ensemble.drop_captions_and_signup_widgets(tree)
    assert PARAGRAPHS[1] in tree.text_content()


def test_embedded_tweet_is_kept_as_a_quote():
    tweet = ('<div class="social-media-embed"><blockquote class="twitter-tweet"><p lang="en">The robots in hall 3 '
             'just beat the night shift record again <a href="https://t.co/abc">pic.twitter.com/abc</a></p>'
             '— Hall Three (@hallthree) <a href="https://twitter.com/hallthree/status/1">May 5, 2023</a>'
             "</blockquote></div>")
    issue = extract(page(paragraphs(PARAGRAPHS[:3]) + tweet + paragraphs(PARAGRAPHS[3:])))
    assert "The robots in hall 3 just beat the night shift record again" in issue.body_text
    assert "<blockquote><p>The robots in hall 3" in issue.body_html


# trim_body on trafilatura's XML -------------------------------------------------------------------------


def test_trim_body_keeps_the_body_when_every_block_looks_like_chrome():
    body = etree.fromstring("<body><p>Comments</p><p>Share</p></body>")
    assert ensemble.trim_body(body) is body


def test_trim_body_reads_blocks_inside_fallback_div_wrappers():
    body = etree.fromstring(
        f"<body><div><p>November 20, 2019 - 11:28 AMT</p><p>{FIRST}</p><p>{LAST}</p>"
        "<p>Tags</p></div></body>"
    )
    trimmed = ensemble.trim_body(body)
    assert [p.text for p in trimmed.iter("p")] == [FIRST, LAST]


def test_default_mode_is_the_fallback_when_precision_mode_finds_nothing(monkeypatch):
    calls = []
    real = ensemble.trafilatura_document

    def precision_finds_nothing(tree, url, favor_precision=False):
        calls.append(favor_precision)
        return None if favor_precision else real(tree, url)

    monkeypatch.setattr(ensemble, "trafilatura_document", precision_finds_nothing)
    issue = extract(page(paragraphs()))
    assert calls == [True, False]
    assert_article_intact(issue)
