"""The seed case: the TomTalks issue on a content-farm copy, served locally and crawled for real."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tomtalks_scraper.demo_site.server import LocalSite, Page


def _paragraphs(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def seed(shared: Path) -> dict:
    folder = shared / "corpus" / "seed"
    return {
        "html": (folder / "contentfarm.html").read_bytes(),
        "expected_text": (folder / "expected.txt").read_text(encoding="utf-8"),
        "expected": json.loads((folder / "expected.json").read_text(encoding="utf-8")),
    }


@pytest.fixture(scope="module")
def seed_issue(seed: dict, module_crawl) -> dict:
    pages = {"/2024/the-real-story-behind-netflixs-900000-ai-job": Page(seed["html"])}
    with LocalSite(pages) as site:
        archive = module_crawl(site.url("/2024/the-real-story-behind-netflixs-900000-ai-job"))
    issues = archive.list()
    assert len(issues) == 1
    return archive.get(issues[0]["id"])


def test_seed_body_equals_expected_paragraph_for_paragraph(seed_issue: dict, seed: dict) -> None:
    assert _paragraphs(seed_issue["body_text"]) == _paragraphs(seed["expected_text"])


def test_seed_keeps_spaces_around_inline_links(seed_issue: dict, seed: dict) -> None:
    first = seed_issue["body_text"].splitlines()[0]
    assert first == seed["expected"]["first_sentence"]
    assert "Welcome to TomTalks, where #AInews meets #innovationPOV." in seed_issue["body_text"]
    assert "[TomTalks](https://www.linkedin.com/newsletters/tomtalks), where" in seed_issue["body_markdown"]


def test_seed_drops_farm_chrome_from_text_and_markdown(seed_issue: dict, seed: dict) -> None:
    for junk in seed["expected"]["not_in_body"]:
        assert junk not in seed_issue["body_text"], junk
        assert junk not in seed_issue["body_markdown"], junk
        assert junk not in seed_issue["body_html"], junk


def test_seed_title_has_no_site_suffix_and_no_seo_year(seed_issue: dict, seed: dict) -> None:
    assert seed_issue["title"] == seed["expected"]["title"]


def test_seed_date_is_not_made_up(seed_issue: dict) -> None:
    # Bare trafilatura guesses 2018-01-01 from the text; the page declares no date.
    assert seed_issue["published_at"] is None


def test_seed_last_paragraph_and_sanitized_html(seed_issue: dict, seed: dict) -> None:
    assert seed_issue["body_text"].splitlines()[-1].startswith(seed["expected"]["last_sentence_starts"])
    assert not re.search(r"<(script|style|iframe)|\son\w+=|javascript:", seed_issue["body_html"], re.I)
