"""The cut to the page's prose before trafilatura (tomtalks_scraper/extraction/content_root.py).

Small pages of the usual shapes (a news page with menus, sidebar and footer; an article split over two
blocks; a ``<br>``-separated post with ``<p>`` comments; a short page), and the 92 real pages of the
article-extraction benchmark: the cut must keep the words of every page's ground truth.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from tomtalks_scraper.extraction.content_root import cut_to_content
from tomtalks_scraper.extraction.issue import extract_issue, parse_html

BENCHMARK = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "article-extraction"
SENTENCE = ("The committee met on Tuesday to weigh the harbour plan, and its members asked for the costs of "
            "dredging, the new quay and the ferry link to be set out line by line before any vote. ")


def paragraphs(count: int, tag: str = "p") -> str:
    return "".join(f"<{tag}>{SENTENCE} Paragraph {n}.</{tag}>" for n in range(count))


NAV = "<nav><ul>" + "".join(f"<li><a href='/s{n}'>Section {n}</a></li>" for n in range(40)) + "</ul></nav>"
SIDEBAR = ("<aside class='sidebar'><h3>Most read</h3><ul>"
           + "".join(f"<li><a href='/a{n}'>A headline about something else entirely, number {n}</a></li>"
                     for n in range(15)) + "</ul></aside>")
FOOTER = ("<footer><p>Copyright 2024 The Harbour Gazette. All rights reserved. Registered office: 1 Quay Street, "
          "Port Town. Our journalism is funded by readers like you; read our editorial code and privacy notice.</p>"
          "</footer>")


def news_page(article: str) -> str:
    return (f"<html lang='en'><head><title>Harbour plan - The Harbour Gazette</title>"
            f"<meta property='og:title' content='Harbour plan'></head><body>"
            f"<header><div class='logo'>The Harbour Gazette</div>{NAV}</header>"
            f"<div class='layout'><div class='main-column'><article><h1>Harbour plan</h1>{article}</article></div>"
            f"{SIDEBAR}</div>{FOOTER}</body></html>")


def test_menus_sidebar_and_footer_go_and_every_paragraph_stays() -> None:
    tree = parse_html(news_page(paragraphs(8)))
    assert cut_to_content(tree) is True
    text = tree.text_content()
    assert text.count("Paragraph ") == 8
    for chrome in ("Section 12", "Most read", "Copyright 2024", "The Harbour Gazette</div>"):
        assert chrome not in text
    assert tree.find("head/title") is not None  # metadata stays readable
    assert tree.xpath("//div[@class='main-column']/article/h1")  # the path down keeps its classes


def test_an_article_split_over_two_blocks_keeps_both() -> None:
    lede = "<div class='standfirst'>" + paragraphs(1) + "</div>"
    page = news_page(paragraphs(9)).replace("<div class='layout'>", f"<div class='layout'>{lede}")
    tree = parse_html(page)
    cut_to_content(tree)
    assert tree.text_content().count("Paragraph ") == 10
    assert tree.xpath("//div[@class='standfirst']")


def test_a_post_written_with_line_breaks_is_not_lost_to_its_comments() -> None:
    post = "<div class='post-text'>" + "<br><br>".join(SENTENCE for _ in range(12)) + "</div>"
    comments = "<section class='comments'>" + paragraphs(4) + "</section>"
    page = f"<html><head><title>Post</title></head><body>{NAV}<div class='wrap'>{post}{comments}</div></body></html>"
    tree = parse_html(page)
    cut_to_content(tree)
    assert tree.text_content().count("harbour plan") >= 12


def test_a_short_page_is_left_whole() -> None:
    page = f"<html><head><title>Note</title></head><body>{NAV}<p>Back on Monday.</p>{FOOTER}</body></html>"
    tree = parse_html(page)
    assert cut_to_content(tree) is False
    assert "Section 12" in tree.text_content()


def test_prose_spread_over_the_page_is_left_whole() -> None:
    columns = "".join(f"<div class='col'>{paragraphs(2)}</div>" for _ in range(3))
    tree = parse_html(f"<html><body>{NAV}<div class='grid'>{columns}</div>{FOOTER}</body></html>")
    cut_to_content(tree)
    assert tree.text_content().count("Paragraph ") == 6


def test_extract_issue_stores_the_same_body_with_and_without_the_chrome() -> None:
    article = paragraphs(8)
    bare = (f"<html><head><title>Harbour plan</title></head>"
            f"<body><article><h1>Harbour plan</h1>{article}</article></body></html>")
    with_chrome = extract_issue(news_page(article), "https://gazette.example/harbour-plan")
    without = extract_issue(bare, "https://gazette.example/harbour-plan")
    assert with_chrome.body_text == without.body_text
    assert with_chrome.body_text.count("Paragraph ") == 8


@pytest.mark.skipif(not BENCHMARK.is_dir(), reason=f"the shared benchmark pages are not at {BENCHMARK}")
def test_on_the_benchmark_pages_the_cut_keeps_the_ground_truth_and_drops_most_nodes() -> None:
    truth = json.loads((BENCHMARK / "ground-truth.json").read_text("utf-8"))
    words = re.compile(r"\w+")
    nodes_before = nodes_after = 0
    worst = (1.0, "")
    for page_id, record in sorted(truth.items()):
        html = gzip.decompress((BENCHMARK / "html" / f"{page_id}.html.gz").read_bytes()).decode("utf-8", "replace")
        tree = parse_html(html)
        for script in tree.xpath("//script|//style"):
            script.drop_tree()
        expected = Counter(words.findall(record["articleBody"].lower()))
        before = Counter(words.findall(tree.text_content().lower()))
        nodes_before += sum(1 for _ in tree.iter())
        cut_to_content(tree)
        nodes_after += sum(1 for _ in tree.iter())
        after = Counter(words.findall(tree.text_content().lower()))
        found_before = sum(min(n, before[w]) for w, n in expected.items())
        found_after = sum(min(n, after[w]) for w, n in expected.items())
        worst = min(worst, (found_after / max(found_before, 1), page_id))
    assert worst[0] >= 0.98, f"page {worst[1]} lost {1 - worst[0]:.1%} of its ground-truth words to the cut"
    assert nodes_after < 0.5 * nodes_before, (nodes_before, nodes_after)
