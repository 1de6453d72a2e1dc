"""The generic path's body: trafilatura's precision mode, prepared and trimmed by the page's structure.

Pages no platform adapter claims reach trafilatura whole. On the article-extraction benchmark
(``bench/extraction.py``) its precision mode beats the default, and what it still gets wrong
falls in a few recurring kinds, each fixed here by looking at the *shape* of the page or of a
block (tags, classes that name a role, share of link text, word count, position, a few phrases),
never at a site:

Before extraction, on the pre-cleaned page:

1. image captions (``figcaption``, ``.wp-caption-text``, ``.caption``) are folded into their image's
   ``title``: Markdown and HTML keep them with the image, the plain text (which has no images)
   no longer reads them as paragraphs of the article;
2. embedded social posts (``blockquote.twitter-tweet`` and the like) become plain quotes, out of
   the ``div.social-media-embed`` wrappers trafilatura discards them by;
3. a ``span`` that only wraps a link inside a paragraph is unwrapped: precision mode discards
   ``span.link`` whole, which cut words out of sentences;
4. newsletter sign-up widgets (a small block around a text or e-mail input, with no paragraph of
   prose: "Get our newsletter… Thanks for signing up! Sorry, there was an error") are removed.

After extraction, on trafilatura's XML body, before rendering (so the text, Markdown and HTML
renderings drop the same things):

5. a "Related" / "Don't miss" / "Most read" title and the links right under it, and lists whose
   every item is a link, with their short intro line;
6. labelled teaser lines anywhere: "Related: …", "READ MORE: …";
7. at the head: the standfirst (a heading repeating the page's declared description, which is
   stored as metadata anyway) and short dateline, byline or reading-time lines;
8. at the tail: a run of link-dense short lines, sign-up / follow calls to action, author-contact
   lines ("Email X at x@example.com or follow him @x"), "Comments" / "Tags" stubs, an intro line
   whose list is gone, and images among them.

Each rule is shown on a small page in ``tests/test_ensemble.py``. Cost: one trafilatura call per
page, as before (a second, default-mode call only when precision mode finds nothing at all).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from copy import deepcopy

from lxml import etree
from lxml import html as lxml_html

from tomtalks_scraper.extraction.body import Body, render_body, trafilatura_document
from tomtalks_scraper.platforms.base import text_of

_WORD = re.compile(r"\w+")

#: trafilatura's block-level output elements (``div`` wrappers from its fallbacks are walked into).
_BLOCKS = ("p", "head", "list", "quote", "table", "code", "graphic")
#: Elements never climbed past when looking for the wrapper of a widget or an embed.
_CONTAINERS = ("body", "html", "main", "article")
#: A sign-up widget is a container of at most this many words around an input.
_WIDGET_MAX_WORDS = 80
#: A paragraph this long is prose: a block holding one is never a widget.
_PROSE_WORDS = 25
#: A caption longer than this is not a caption (a class like "captioned-post" on a whole article).
_CAPTION_MAX_WORDS = 150
#: Lines longer than this are prose, never trimmed as chrome.
_CHROME_MAX_WORDS = 30
_HEAD_LINE_MAX_WORDS = 15
_HEAD_DATE_MAX_WORDS = 12
_BYLINE_MAX_WORDS = 8
#: A tail line this long is trimmed only when nearly all of it is links.
_TAIL_LINKS_MAX_WORDS = 60
#: An intro or label line ("Related stories", "From our archive:") has at most this many words.
_INTRO_MAX_WORDS = 8
#: Blocks at the head examined for datelines and bylines (after the title heading).
_HEAD_BLOCKS = 4

_CAPTION_CLASS = etree.XPath(
    "//*[contains(translate(@class, 'CAPTION', 'caption'), 'caption')][not(self::body or self::html)]"
)
#: Social posts quoted in the article: trafilatura discards them by class, but their text is what the
#: author quotes (the embed script, removed with all scripts, would only restyle them).
_EMBEDDED_POSTS = etree.XPath(
    "//blockquote[contains(@class, 'twitter-tweet') or contains(@class, 'instagram-media')"
    " or contains(@class, 'tiktok-embed') or contains(@class, 'bluesky-embed') or contains(@class, 'mastodon-embed')]"
)
_URLISH = re.compile(r"https?://|\bwww\.|\b[\w.+-]+@[\w-]+\.\w[\w.]*|(?<![\w@])@\w{2,}")
_CONTACT = re.compile(
    r"\b(?:follow|e-?mail|contact|reach|reached|write to|tweet|twitter|facebook|instagram|coverage|more)\b", re.I
)
_CALL_TO_ACTION = re.compile(
    r"\b(?:subscrib(?:e|ing)|sign(?:ing)?[ -]?up|newsletters?|inbox|follow (?:us|me|him|her|them)|share (?:this|on)"
    r"|click here|tap here|you (?:may|might) also like|related (?:posts?|articles?|stories)|read more|see more"
    r"|more from|don'?t miss|most read|recommended for you|advertisement)\b",
    re.I,
)
#: Titles of "more links" widgets: with the links under them, they are chrome wherever they are.
_NAV_LABEL = re.compile(
    r"^\W*(?:related(?: (?:posts?|articles?|stories|content|links?|reading))?|read (?:more|also|next)"
    r"|see (?:more|also)|also read|more (?:stories|articles|news|from .{1,40}|on this(?: topic| story)?)"
    r"|don'?t miss|most (?:read|popular)\b.*|you (?:may|might) also (?:like|enjoy)|recommended(?: for you| reading)?"
    r"|trending(?: now)?|popular (?:posts|stories)|leia também|lesen sie auch|lire aussi|leggi anche|lea también"
    r"|lees ook)\W*$",
    re.I,
)
_STUB = re.compile(r"^\W*(?:comments?|tags?|share|advertisement|print|email|sorry)\W*$", re.I)
_TEASER_LABEL = re.compile(
    r"^\W*(?:related|read more|see more|read also|also read|more on this|don'?t miss|recommended"
    r"|leia também|lesen sie auch|lire aussi|leggi anche|lea también|lees ook)\b[^:]{0,20}:",
    re.I,
)
#: A time of day, a numeric date, or a year with a day number next to it ("November 20, 2019").
_DATE = re.compile(
    r"\b\d{1,2}(?::|h)\d\d\b|\b\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)?\d\d\b|\b(?:19|20)\d\d[/.-]\d{1,2}[/.-]\d{1,2}\b"
    r"|\b(?:[1-9]|[12]\d|3[01])\b\D{1,20}\b(?:19|20)\d\d\b|\b(?:19|20)\d\d\b\D{1,20}\b(?:[1-9]|[12]\d|3[01])\b"
)
#: Words that make a short line at the head a dateline ("Updated at 1:23 p.m.", "5 min read").
_DATELINE = re.compile(
    r"\b(?:updated|published|posted|publicado|publié|veröffentlicht|aktualisiert|reading time|min(?:ute)?s? read"
    r"|tempo de leitura|temps de lecture|lesezeit)\b",
    re.I,
)
#: "By Jane Doe": a byline, when the line is that short and no sentence.
_BYLINE = re.compile(r"^\W*(?:by|von|par|por|di|door|av)\s+\w", re.I)


def extract_generic_body(tree: lxml_html.HtmlElement, url: str) -> Body:
    """The body of a page no platform adapter claims. Mutates ``tree`` (a fresh pre-cleaned page)."""
    description = _declared_description(tree)
    drop_captions_and_signup_widgets(tree)
    document = trafilatura_document(tree, url, favor_precision=True)
    if document is None:  # precision mode discards short pages outright; the default keeps them
        document = trafilatura_document(tree, url)
    if document is not None:
        document.body = trim_body(document.body, description)
    return render_body(document)


# Before extraction -------------------------------------------------------------------------------


def drop_captions_and_signup_widgets(tree: lxml_html.HtmlElement) -> None:
    """Fold image captions into their image, drop small blocks built around a text input.

    A caption is a ``figcaption`` or an element whose class names a caption (``wp-caption-text``,
    ``caption``, ``image-caption``) and that holds no image itself. Its text becomes the image's
    ``title``: Markdown and HTML keep it with the image, and the plain text, which leaves images
    out, does not read it as a paragraph of the article.
    """
    captions = list(tree.iter("figcaption")) + [
        element for element in _CAPTION_CLASS(tree) if not any(True for _ in element.iter("img", "picture", "video"))
    ]
    for caption in captions:
        if caption.getparent() is None or _words(caption.text_content()) > _CAPTION_MAX_WORDS:
            continue
        image = _captioned_image(caption)
        text = text_of(caption)
        if image is not None and text:
            image.set("title", _joined_title(image.get("title"), text))
        _remove(caption)
    for quote in _EMBEDDED_POSTS(tree):
        _unwrap_embedded_post(quote)
    for span in list(tree.iter("span")):
        if _is_link_wrapper(span):
            span.drop_tag()
    for field in list(tree.iter("input")):
        if field.getparent() is None or (field.get("type") or "text").lower() not in ("text", "email"):
            continue
        widget = None
        for ancestor in field.iterancestors():
            if ancestor.tag in _CONTAINERS or _words(ancestor.text_content()) > _WIDGET_MAX_WORDS:
                break
            if any(_words(p.text_content()) >= _PROSE_WORDS for p in ancestor.iter("p")):
                break  # a paragraph of prose: the article (a short one) holds the form, not a widget
            widget = ancestor
        if widget is not None and widget.getparent() is not None:
            _remove(widget)


def _joined_title(title: str | None, caption: str) -> str:
    """The image's title with the caption, without repeating what one already says."""
    title_words, caption_words = set(_norm(title).split()), set(_norm(caption).split())
    if title_words <= caption_words:
        return caption
    return title if caption_words <= title_words else f"{title} {caption}"


def _captioned_image(caption: lxml_html.HtmlElement) -> lxml_html.HtmlElement | None:
    """The image a caption describes: the one in its ``figure``, else the one in its parent block."""
    figure = next((a for a in caption.iterancestors("figure")), None)
    for container in (figure, caption.getparent()):
        if container is not None:
            image = next(container.iter("img"), None)
            if image is not None:
                return image
    return None


def _unwrap_embedded_post(quote: lxml_html.HtmlElement) -> None:
    """Make an embedded social post a plain quote, out of wrappers that hold nothing else.

    Its class and its wrapper (``div.social-media-embed``) are what trafilatura discards it by.
    """
    quote.attrib.clear()
    wrapper = quote
    size = len(quote.text_content().strip())
    while (parent := wrapper.getparent()) is not None and parent.tag not in _CONTAINERS:
        if len(parent.text_content().strip()) != size:
            break
        wrapper = parent
    if wrapper is not quote:
        quote.tail = wrapper.tail
        wrapper.getparent().replace(wrapper, quote)


def _is_link_wrapper(span: lxml_html.HtmlElement) -> bool:
    """A ``span`` inside a paragraph that only wraps one link (``<span class="link"><a>…</a></span>``).

    trafilatura's precision mode discards elements classed ``link`` or ``bottom`` whole, which is
    right for blocks but cuts words out of a sentence when the element is an inline wrapper.
    """
    children = list(span)
    return (
        len(children) == 1
        and children[0].tag == "a"
        and not (span.text or "").strip()
        and not (children[0].tail or "").strip()
        and any(ancestor.tag == "p" for ancestor in span.iterancestors())
    )


# After extraction --------------------------------------------------------------------------------


def trim_body(body: etree._Element, description: str | None = None) -> etree._Element:
    """A copy of trafilatura's XML body without chrome blocks (rules 2-5 of the module doc).

    When every block looks like chrome, the body is returned as it was: an empty issue is worse.
    """
    trimmed = deepcopy(body)
    _drop_labelled_link_blocks(trimmed)
    _drop_link_lists(trimmed)
    _drop_teasers(trimmed)
    _trim_head(trimmed, description)
    _trim_tail(trimmed)
    return trimmed if _text(trimmed) or not _text(body) else body


def _drop_labelled_link_blocks(body: etree._Element) -> None:
    """A "Related" / "Don't miss" / "Most read" title and the links right under it."""
    blocks = list(_iter_blocks(body))
    index = 0
    while index < len(blocks):
        block = blocks[index]
        index += 1
        text = _text(block)
        if block.tag not in ("p", "head") or _words(text) > _INTRO_MAX_WORDS or not _NAV_LABEL.match(text):
            continue
        _remove(block, keep_tail=False)
        while index < len(blocks) and _is_link_or_fragment(blocks[index]):
            _remove(blocks[index], keep_tail=False)
            index += 1


def _is_link_or_fragment(block: etree._Element) -> bool:
    text = _text(block)
    if block.tag == "list":
        return _is_link_list(block)
    return block.tag == "graphic" or _words(text) <= 2 or (_link_share(block) >= 0.5 and _words(text) <= 25)


def _drop_link_lists(body: etree._Element) -> None:
    for block in list(_iter_blocks(body)):
        if block.tag != "list" or not _is_link_list(block):
            continue
        intro = _previous_block(block)
        _remove(block)
        if intro is not None and _is_intro_line(intro):
            _remove(intro)


def _is_link_list(block: etree._Element) -> bool:
    items = [item for item in block.iter("item") if _text(item)]
    return len(items) >= 2 and all(_link_share(item) >= 0.8 for item in items)


def _is_intro_line(block: etree._Element) -> bool:
    text = _text(block)
    if block.tag not in ("p", "head") or not text or _words(text) > _INTRO_MAX_WORDS:
        return False
    return (
        block.tag == "head"
        or text.endswith((":", "…", "..."))
        or bool(_TEASER_LABEL.match(text) or _CALL_TO_ACTION.search(text))
    )


def _drop_teasers(body: etree._Element) -> None:
    for block in list(_iter_blocks(body)):
        if block.tag in ("p", "head") and _TEASER_LABEL.match(_text(block)) and _words(_text(block)) <= 20:
            _remove(block)


def _trim_head(body: etree._Element, description: str | None) -> None:
    wanted = _norm(description) if description else ""
    seen_title = False
    for block in list(_iter_blocks(body))[: _HEAD_BLOCKS + 1]:
        text = _text(block)
        if block.tag == "head" and _is_standfirst(text, wanted):
            _remove(block, keep_tail=False)
        elif block.tag == "graphic" or (block.tag == "head" and not seen_title):
            seen_title = seen_title or block.tag == "head"  # the title: the caller drops it, or keeps it
            _trim_head_tail_text(block)
        elif not text or (block.tag == "p" and _is_head_line(text)):
            _remove(block)
        else:
            break


def _is_standfirst(text: str, description: str) -> bool:
    """A heading that repeats the page's declared description (its standfirst / subtitle)."""
    heading = _norm(text)
    return bool(description and _words(heading) >= 5 and (heading in description or description in heading))


def _is_head_line(text: str) -> bool:
    """A dateline, byline or reading-time line: short, and not a sentence unless a dateline word says so."""
    words = _words(text)
    if _STUB.match(text) or (words <= _HEAD_LINE_MAX_WORDS and _DATELINE.search(text)):
        return True
    sentence = text.rstrip().endswith((".", "!", "?", ":"))
    return not sentence and (
        (words <= _HEAD_DATE_MAX_WORDS and bool(_DATE.search(text)))
        or (words <= _BYLINE_MAX_WORDS and bool(_BYLINE.match(text)))
    )


def _trim_head_tail_text(block: etree._Element) -> None:
    """Text right after the title heading outside any block: keep it unless it is a dateline."""
    if block.tail and block.tail.strip() and _is_head_line(" ".join(block.tail.split())):
        block.tail = None


def _trim_tail(body: etree._Element) -> None:
    cut: etree._Element | None = None
    scanned = []
    for block in reversed(list(_iter_blocks(body))):
        text = _text(block)
        if _is_tail_chrome(block, text):
            cut = block
        elif not (block.tag == "graphic" or not text or (_words(text) <= 3 and not text.endswith((".", "!", "?")))):
            break
        scanned.append(block)
    if cut is None:
        return
    for block in scanned[: scanned.index(cut) + 1]:
        _remove(block, keep_tail=False)


def _is_tail_chrome(block: etree._Element, text: str) -> bool:
    words = _words(text)
    if not text or words > _TAIL_LINKS_MAX_WORDS or block.tag == "graphic":
        return False
    if _STUB.match(text) or (words <= _INTRO_MAX_WORDS and text.endswith(":")):
        return True  # a stub, or the intro of something that is no longer there ("From our archive:")
    if words <= _CHROME_MAX_WORDS and (_link_share(block) >= 0.5 or _CALL_TO_ACTION.search(text)):
        return True
    if _link_share(block) >= 0.8:  # a whole promo or tag list as one link-dense line
        return True
    if words <= 40 and _URLISH.search(text) and _CONTACT.search(text):
        return True
    return words <= 12 and bool(_DATE.search(text) and _DATELINE.search(text))


# Helpers -----------------------------------------------------------------------------------------


def _iter_blocks(container: etree._Element) -> Iterator[etree._Element]:
    """Block-level elements in document order, looking inside trafilatura's ``div`` wrappers."""
    for child in container:
        if child.tag in _BLOCKS:
            yield child
        elif child.tag == "div":
            yield from _iter_blocks(child)


def _previous_block(block: etree._Element) -> etree._Element | None:
    previous = block.getprevious()
    while previous is not None and previous.tag not in _BLOCKS:
        previous = previous.getprevious()
    return previous


def _remove(element: etree._Element, keep_tail: bool = True) -> None:
    """Remove ``element``; its tail text (which is not part of it) stays unless told otherwise."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail if keep_tail and element.tail and element.tail.strip() else None
    if tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def _text(element: etree._Element) -> str:
    """The element's text, whitespace folded (``str.split`` splits on exactly what ``\\s`` matches, in C)."""
    return " ".join("".join(element.itertext()).split())


def _link_share(element: etree._Element) -> float:
    """Share of the element's visible characters inside links (``<ref>`` in trafilatura's XML)."""
    total = _visible_length("".join(element.itertext()))
    if not total:
        return 0.0
    linked = sum(_visible_length("".join(ref.itertext())) for ref in element.iter("ref"))
    return linked / total


def _visible_length(text: str) -> int:
    """Characters other than whitespace."""
    return sum(map(len, text.split()))


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _norm(text: str | None) -> str:
    return " ".join(_WORD.findall((text or "").lower()))


def _declared_description(tree: lxml_html.HtmlElement) -> str | None:
    for xpath in (
        '//meta[@property="og:description"]/@content',
        '//meta[@name="description"]/@content',
        '//meta[@name="twitter:description"]/@content',
    ):
        values = tree.xpath(xpath)
        if values and _norm(values[0]):
            return _norm(values[0])
    return None
