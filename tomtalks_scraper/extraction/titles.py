"""Issue titles without the decorations sites add to ``<title>`` ("… - Site Name", "… (2024)")."""

from __future__ import annotations

import re

from tomtalks_scraper.extraction.metadata import clean_text

_SEPARATORS = (" | ", " - ", " – ", " — ", " · ", " :: ", " » ")
_SEO_YEAR = re.compile(r"\s*\((?:19|20)\d{2}\)\s*$")
_MAX_SUFFIX_WORDS = 5


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def _site_like(part: str, site_names: list[str]) -> bool:
    """Whether ``part`` names the site: equal, letters and digits only, to a site name or host."""
    squashed = _squash(part)
    return bool(squashed) and any(squashed == _squash(name.removeprefix("www.")) for name in site_names)


def strip_site_suffix(title: str, site_names: list[str]) -> str:
    """Remove a trailing (or leading) "… | Site" part that names the site.

    Only parts matching a known site name or the host are removed, so a real title such as
    "Rust - the good parts" keeps its dash.
    """
    for sep in _SEPARATORS:
        if sep not in title:
            continue
        head, _, tail = title.rpartition(sep)
        if head and _site_like(tail, site_names):
            return head.strip()
        first, _, rest = title.partition(sep)
        if rest and _site_like(first, site_names):
            return rest.strip()
    return title


def strip_seo_year(title: str, body_text: str) -> str:
    """Drop a trailing "(2024)" when the body never mentions that year.

    Content farms append the current year to copied titles for search engines ("The real story
    behind Netflix's $900,000 AI job (2024)"); a year the article itself talks about is kept.
    """
    match = _SEO_YEAR.search(title)
    if match and match.group(0).strip(" ()") not in body_text.replace(title, ""):
        return title[: match.start()].rstrip()
    return title


def strip_suffix_beside_heading(title: str, headings: list[str]) -> str:
    """Remove a short "… | Suffix" when what precedes it is, word for word, the page's own heading.

    Sites whose name is declared nowhere ("The Paradox of Effort | The Curiosity Chronicle" over an
    ``<h1>`` "The Paradox of Effort") keep their suffix through ``strip_site_suffix``; the heading shows
    which part is the title. The suffix must read as a name (capitalised, a few words): "Rust - the good
    parts" over a heading "Rust" stays whole.
    """
    wanted = {_squash(h) for h in headings if h and _squash(h)}
    for sep in _SEPARATORS:
        head, _, tail = title.rpartition(sep)
        if head and tail[:1].isupper() and len(tail.split()) <= _MAX_SUFFIX_WORDS and _squash(head) in wanted:
            return head.strip()
    return title


def choose_title(candidates: list[str | None], site_names: list[str], body_text: str) -> str | None:
    """The first non-empty candidate, cleaned of site suffixes (named by the site, or beside the heading
    another candidate gives) and SEO years."""
    texts = [text for text in (clean_text(c) for c in candidates) if text]
    for text in texts:
        title = strip_site_suffix(text, [s for s in site_names if s])
        if title == text:
            title = strip_suffix_beside_heading(text, [other for other in texts if other != text])
        return strip_seo_year(title, body_text)
    return None
