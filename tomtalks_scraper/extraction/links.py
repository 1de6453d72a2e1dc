"""Every hyperlink of a stored body, as data: position, real target (redirect wrappers unwrapped,
tracking parameters dropped) and anchor text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lxml import html as lxml_html

from tomtalks_scraper.urls import clean_link


@dataclass(frozen=True)
class BodyLink:
    position: int  # 0-based order in the body
    url: str
    text: str


def body_links(body_html: str, unwrap: Callable[[str], str]) -> list[BodyLink]:
    """Links of ``body_html`` in document order; ``unwrap`` maps a wrapped link to its target."""
    if not body_html.strip():
        return []
    fragment = lxml_html.fragment_fromstring(body_html, create_parent="div")
    links = []
    for anchor in fragment.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href.startswith(("http://", "https://", "mailto:")):
            continue
        text = " ".join(anchor.text_content().split())
        links.append(BodyLink(len(links), clean_link(unwrap(href)), text))
    return links
