"""Allow-list HTML sanitising for every body we store or export (Ammonia through nh3).

Stored HTML is opened later in browsers (Datasette, exports): no script, style, iframe, event
attributes or ``javascript:`` URLs may survive, whatever the page contained. The same URL allow-list
holds for the Markdown body's links and images (``sanitize_markdown``) and for URL metadata.
"""

from __future__ import annotations

import html
import re

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details", "dfn", "div",
    "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
    "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "time": {"datetime"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def sanitize_html(fragment: str) -> str:
    """Return ``fragment`` with only allow-listed tags, attributes and URL schemes."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style", "iframe", "noscript", "object", "embed", "template"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


# Markdown ----------------------------------------------------------------------------------------

#: A Markdown link or image destination as trafilatura writes it: ``](url)`` or ``](<url with spaces>)``.
_DESTINATION = re.compile(r"\]\((<(?:\\.|[^\\<>\n])*>|[^\s()<>]*)\)")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.I)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")


def is_safe_url(url: str | None) -> bool:
    """Whether a link or image URL may be stored: relative, or one of ``URL_SCHEMES``.

    Read as a browser reads it: character references decoded, and tabs, newlines and control
    characters removed, so ``jav&#x09;ascript:`` and `` javascript:`` are what they are.
    """
    if not url:
        return True
    cleaned = _INVISIBLE.sub("", html.unescape(url))
    scheme = _SCHEME.match(cleaned)
    return scheme is None or scheme.group(1).lower() in URL_SCHEMES


def _destination_url(raw: str) -> str:
    if raw.startswith("<") and raw.endswith(">"):
        raw = raw[1:-1]
    return re.sub(r"\\(.)", r"\1", raw)


def _opening_bracket(markdown: str, closing: int) -> int | None:
    """Index of the ``[`` matching the ``]`` at ``closing`` (escaped brackets skipped), else None."""
    depth = 0
    for index in range(closing, -1, -1):
        char = markdown[index]
        if char not in "[]" or _escaped(markdown, index):
            continue
        depth += 1 if char == "]" else -1
        if depth == 0:
            return index
    return None


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index - backslashes - 1 >= 0 and text[index - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def sanitize_markdown(markdown: str) -> str:
    """``markdown`` with every link and image whose URL is not allowed (``javascript:``, ``data:``, …)
    turned into its plain text.

    The HTML body is cleaned by nh3, but the Markdown is rendered from the same extraction and would
    keep ``[click](javascript:…)`` for any Markdown renderer to turn into a live link.
    """
    for _ in range(markdown.count("](")):
        unsafe = next((m for m in _DESTINATION.finditer(markdown)
                       if not _escaped(markdown, m.start()) and not is_safe_url(_destination_url(m.group(1)))), None)
        if unsafe is None:
            break
        opening = _opening_bracket(markdown, unsafe.start())
        if opening is None:  # no link text to keep: drop the destination only
            markdown = markdown[:unsafe.start() + 1] + markdown[unsafe.end():]
            continue
        start = opening - 1 if opening > 0 and markdown[opening - 1] == "!" and not _escaped(markdown, opening - 1) \
            else opening
        markdown = markdown[:start] + markdown[opening + 1:unsafe.start()] + markdown[unsafe.end():]
    return markdown
