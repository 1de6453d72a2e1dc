"""Run trafilatura once per page and render its body as text, Markdown and sanitised HTML.

One ``bare_extraction`` call gives trafilatura's XML body; the three renderings are made from
that tree, so a page is parsed and scored once instead of once per output format. trafilatura's
own metadata pass is left out of that call: the three fields we use as fallbacks come from
``fallback_meta.py`` (same values, a third of the cost).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from copy import deepcopy
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import trafilatura
from lxml import etree
from lxml import html as lxml_html
from trafilatura.htmlprocessing import convert_to_html
from trafilatura.settings import Document
from trafilatura.xml import xmltotxt

from tomtalks_scraper.extraction.comparison import comparison_skipped
from tomtalks_scraper.extraction.fallback_meta import FallbackMetadata
from tomtalks_scraper.extraction.sanitize import sanitize_html, sanitize_markdown

_WORDS = re.compile(r"\w+")
#: Spaces left at the end of a line of the plain text (a folded line break before a closing tag).
_TRAILING_SPACES = re.compile(r"[ \t]+$", re.M)


@dataclass
class Body:
    text: str = ""
    markdown: str = ""
    html: str = ""
    title: str | None = None  # trafilatura's own metadata, used only as the last fallback
    author: str | None = None
    sitename: str | None = None
    #: Computes trafilatura's author on demand (it costs a pruned copy of the page; rarely needed).
    author_lookup: Callable[[], str | None] | None = field(default=None, repr=False, compare=False)

    def fallback_author(self) -> str | None:
        """trafilatura's guess at the author (``author``, or computed now when it was left for later)."""
        if self.author is None and self.author_lookup is not None:
            self.author, self.author_lookup = self.author_lookup(), None
        return self.author


class PageDocument(Document):
    """trafilatura's ``Document`` with our fallback metadata attached (its slots copied over)."""

    __slots__ = ("fallback",)


def run_trafilatura(tree: lxml_html.HtmlElement, url: str, embeds: Collection[str] = ()) -> Body:
    """Extract the main text of ``tree`` (already pre-cleaned by the platform adapter).

    Settings follow our benchmark: comments excluded (they cost precision), metadata on (used
    only as a fallback; its date is never taken), links, images, tables and formatting kept so
    the Markdown and HTML renderings stay faithful. ``embeds``: see ``render_body``.
    """
    return render_body(trafilatura_document(tree, url), embeds)


def trafilatura_document(tree: lxml_html.HtmlElement, url: str, favor_precision: bool = False) -> Document | None:
    """One ``bare_extraction`` call with our settings (``run_trafilatura``'s); ``None`` when nothing is found.

    trafilatura copies ``tree`` before cleaning it, so the caller's tree is left as it was. Its
    comparison with readability is skipped where it cannot change the result (``comparison.py``).
    """
    with comparison_skipped():
        document = trafilatura.bare_extraction(
            tree,
            url=url,
            with_metadata=False,  # the same body; fallback_meta gives the three fields we use
            include_comments=False,
            include_formatting=True,
            include_links=True,
            include_images=True,
            include_tables=True,
            favor_precision=favor_precision,
            # Not "python", the default: that one also renders the body as text (``document.text``, ~0.6 ms
            # a page), which nothing reads: render_body makes every rendering from the body, after our
            # trimming. The format changes nothing else in bare_extraction (trafilatura 2.3).
            output_format="txt",
        )
    if document is None or document.body is None:
        return None
    return _with_fallback(document, FallbackMetadata(tree, url))


def _with_fallback(document: Document, fallback: FallbackMetadata) -> PageDocument:
    page = PageDocument()
    for name in Document.__slots__:
        if hasattr(document, name):
            setattr(page, name, getattr(document, name))
    page.title, page.sitename, page.author = fallback.title, fallback.sitename, None
    page.fallback = fallback
    return page


def render_body(document: Document | None, embeds: Collection[str] = ()) -> Body:
    """Text, Markdown and sanitised HTML, all three from the one XML body of ``document``.

    The Markdown goes through ``sanitize_markdown`` like the HTML goes through nh3: a
    ``[link](javascript:…)`` must not reach any consumer of ``extract_issue``, whatever runs after.

    ``embeds`` are the texts of posts embedded from elsewhere (a quoted tweet), each as the adapter
    wrote it into a ``<blockquote>``: the quote stays in the Markdown and HTML (with its link), and
    is left out of the plain text, which holds the issue's own words (what is counted, searched and
    compared between copies), as an image caption stays with its image.
    """
    if document is None or document.body is None:
        return Body()
    body = document.body
    markdown = sanitize_markdown(xmltotxt(body, include_formatting=True))
    text = xmltotxt(_without_link_markup(body, embeds), include_formatting=False)
    html_fragment = etree.tostring(convert_to_html(deepcopy(body)), encoding="unicode")
    return Body(
        text=_TRAILING_SPACES.sub("", text).strip(),
        markdown=markdown.strip(),
        html=sanitize_html(html_fragment),
        title=document.title,
        author=document.author,
        sitename=document.sitename,
        author_lookup=_author_lookup(document),
    )


def _author_lookup(document: Document) -> Callable[[], str | None] | None:
    fallback = getattr(document, "fallback", None)
    return (lambda: fallback.author) if fallback is not None else None


def _without_link_markup(body: etree._Element, embeds: Collection[str] = ()) -> etree._Element:
    """A copy of trafilatura's body whose links are plain words, and whose images and embedded posts are gone.

    ``xmltotxt`` renders ``<ref>`` as Markdown links even without formatting; the plain-text
    body must read like the page reads.
    """
    plain = deepcopy(body)
    etree.strip_tags(plain, "ref")
    for image in list(plain.iter("graphic")):
        image.getparent().remove(image) if image.getparent() is not None else None
    wanted = {_norm(embed) for embed in embeds if _norm(embed)}
    if wanted:
        for quote in list(plain.iter("quote")):
            if _norm("".join(quote.itertext())) in wanted and quote.getparent() is not None:
                _remove_keeping_tail(quote)
    return plain


def _remove_keeping_tail(element: etree._Element) -> None:
    parent, previous = element.getparent(), element.getprevious()
    if element.tail and element.tail.strip():
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def drop_leading_title(body: Body, titles: list[str | None]) -> Body:
    """Remove the title when the body repeats it as its first line (the page's ``<h1>``).

    ``titles`` holds every spelling seen (cleaned, ``og:title``, ``<h1>``), since the heading
    may carry decorations the cleaned title lost. A cover image above the heading stays: in the
    Markdown and HTML the title is looked for after leading images (the plain text has none).
    """
    wanted_set = {_norm(t) for t in titles if t and _norm(t)}
    if not wanted_set:
        return body

    def strip_title_line(text: str, skip_images: bool) -> str:
        lines = text.split("\n")
        index = 0
        while skip_images and index < len(lines) and (not lines[index].strip() or _IMAGE_LINE.match(lines[index])):
            index += 1
        if index < len(lines) and _norm(lines[index].lstrip("# ")) in wanted_set:
            rest = "\n".join(lines[index + 1:]).lstrip("\n")
            head = "\n".join(lines[:index]).rstrip("\n")
            return f"{head}\n\n{rest}" if head and rest else head or rest
        return text

    body.text = strip_title_line(body.text, skip_images=False)
    body.markdown = strip_title_line(body.markdown, skip_images=True)
    body.html = _LEADING_HEADING.sub(
        lambda m: m.group(1) if _norm(re.sub("<[^>]+>", "", m.group(2))) in wanted_set else m.group(0),
        body.html,
        count=1,
    )
    return body


#: A Markdown line that is only an image, maybe linked: ``![alt](src)`` or ``[![alt](src)](href)``.
_IMAGE_LINE = re.compile(r"^\s*(?:\[\s*)?!\[[^\]]*\]\([^)]*\)(?:\s*\]\([^)]*\))?\s*$")
#: The first heading of the HTML body, after nothing or only image blocks (``<img>``, ``<figure>``, ``<p><img></p>``).
_LEADING_HEADING = re.compile(
    r"^((?:\s*(?:<img\b[^>]*>|<figure\b.*?</figure>|<p>\s*(?:<a\b[^>]*>\s*)?<img\b[^>]*>\s*(?:</a>\s*)?</p>))*\s*)"
    r"<h[1-6]>(.*?)</h[1-6]>",
    re.S,
)


def _norm(text: str) -> str:
    return " ".join(_WORDS.findall(text.lower()))


def word_count(text: str) -> int:
    return len(_WORDS.findall(text))


# Link lists trafilatura drops from a known body -------------------------------------------------

#: Share of a block's text in its links from which trafilatura's link-density filter discards it.
_LINK_SHARE = 0.8
_LIST_TAGS = {"ul": "ul", "ol": "ol"}
_FORMATTING = {"b": "#b", "strong": "#b", "i": "#i", "em": "#i", "u": "#u", "code": "#t"}


def restore_link_blocks(body: etree._Element, source: lxml_html.HtmlElement, url: str) -> int:
    """Put back into trafilatura's XML ``body`` the link lists and link-only paragraphs of ``source`` (the page
    at ``url``) that it discarded; returns how many.

    Only for a body an adapter cut out by its platform's selector: there a list of links to other sites is
    the issue's content (a newsletter's reading list, "Further reading", references), while trafilatura's
    link-density filter, made for whole pages, takes it for navigation and drops it in every mode. Blocks
    whose links stay on the page's own site are navigation (categories, tags, related posts) and stay out.
    A block goes back right after the output block holding the text that precedes it in the source.
    """
    site = _site(url)
    blocks = [block for block in _top_blocks(source) if _WORDS.search(block.text_content())]
    linked = [block.tag in ("p", "ul", "ol") and block.find(".//a") is not None
              and _is_link_block(block, _text(block), site) for block in blocks]
    if not any(linked) and not any(block.tag in _LIST_TAGS for block in blocks):
        return 0
    kept = _norm(" ".join(body.itertext()))
    restored = 0
    for index, block in enumerate(blocks):
        if not linked[index] or (block.tag == "p" and not _in_paragraph_run(blocks, linked, index)):
            continue
        text = _text(block)
        if _norm(text) in kept:
            continue
        previous = next((t for t in (_text(b) for b in reversed(blocks[:index])) if _norm(t)), "")
        converted = _as_trafilatura_xml(block)
        if converted is not None and _insert_after_text(body, converted, previous):
            kept = f"{kept} {_norm(text)}"
            restored += 1
    for block, is_linked in zip(blocks, linked, strict=True):
        if block.tag in _LIST_TAGS and not is_linked:
            restored += _restore_sublists(body, block, site, kept)
    return restored


def _restore_sublists(body: etree._Element, source_list: lxml_html.HtmlElement, site: str, kept: str) -> int:
    """Link sublists of a list trafilatura kept ("In progress:" over a list of bug links): each goes back into
    the output item that begins with its own item's words."""
    restored = 0
    for nested in source_list.iterdescendants("ul", "ol"):
        owner = nested.getparent()
        lead = _norm(owner.text or "") if owner is not None and owner.tag == "li" else ""
        text = _text(nested)
        if not lead or _norm(text) in kept or not _is_link_block(nested, text, site):
            continue
        item = next((i for i in body.iter("item") if _norm(" ".join(i.itertext())).startswith(lead)), None)
        converted = _as_trafilatura_xml(nested)
        if item is not None and converted is not None:
            item.append(converted)
            restored += 1
    return restored


def _text(element: lxml_html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _in_paragraph_run(blocks: list[lxml_html.HtmlElement], linked: list[bool], index: int) -> bool:
    """Whether the link paragraph at ``index`` has a link paragraph beside it: a list written as paragraphs
    ("4. Building Microservices", "5. Event storming"). A lone one is as often a sign-off or a sponsor line."""
    return any(0 <= other < len(blocks) and linked[other] and blocks[other].tag == "p"
               for other in (index - 1, index + 1))


def _top_blocks(source: lxml_html.HtmlElement) -> list[lxml_html.HtmlElement]:
    """Paragraphs, lists and headings of ``source`` in document order, none inside another."""
    found: list[lxml_html.HtmlElement] = []
    taken: set[lxml_html.HtmlElement] = set()
    for element in source.iter("p", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table"):
        if not any(ancestor in taken for ancestor in element.iterancestors()):
            found.append(element)
            taken.add(element)
    return found


def _site(url: str) -> str:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _is_link_block(block: lxml_html.HtmlElement, text: str, site: str) -> bool:
    """A paragraph or list of at least two words, mostly link text, every link going to another site."""
    if block.tag not in ("p", "ul", "ol") or len(_WORDS.findall(text)) < 2:
        return False
    links = [a for a in block.iter("a") if (a.get("href") or "").startswith(("http://", "https://"))]
    if not links or any(_site(a.get("href", "")) in ("", site) for a in links):
        return False
    return sum(len(" ".join(a.text_content().split())) for a in links) >= _LINK_SHARE * len(text)


def _as_trafilatura_xml(block: lxml_html.HtmlElement) -> etree._Element | None:
    """``block`` in trafilatura's XML vocabulary (``list``/``item``, ``p``, ``ref``, ``hi``), whitespace folded."""
    if block.tag in _LIST_TAGS:
        converted = etree.Element("list", rend=_LIST_TAGS[block.tag])
        for item in block.iterchildren("li"):
            _copy_inline(item, etree.SubElement(converted, "item"))
        if not len(converted):
            return None
    else:
        converted = etree.Element("p")
        _copy_inline(block, converted)
    _fold_spaces(converted)
    return converted


def _copy_inline(source: lxml_html.HtmlElement, target: etree._Element) -> None:
    """Text, links, emphasis and nested lists of ``source`` appended to ``target``; other elements (a
    paragraph inside a list item, a span) are flattened into it."""
    def add_text(text: str | None) -> None:
        if not text:
            return
        if len(target):
            target[-1].tail = (target[-1].tail or "") + text
        else:
            target.text = (target.text or "") + text

    add_text(source.text)
    for child in source:
        if not isinstance(child.tag, str):
            add_text(child.tail)
            continue
        if child.tag in _LIST_TAGS:
            nested = _as_trafilatura_xml(child)
            if nested is not None:
                target.append(nested)
        elif child.tag == "a" and (child.get("href") or "").startswith(("http://", "https://")):
            words = child.text_content()
            if words[:1].isspace():  # a separating space carried into the link (collapse_whitespace)
                add_text(" ")
            ref = etree.SubElement(target, "ref", target=child.get("href"))
            ref.text = words.lstrip()
        elif child.tag in _FORMATTING:
            _copy_inline(child, etree.SubElement(target, "hi", rend=_FORMATTING[child.tag]))
        else:
            add_text(" " if child.tag in ("p", "div", "br") else "")
            _copy_inline(child, target)
        add_text(child.tail)


def _fold_spaces(root: etree._Element) -> None:
    """One space for every run of whitespace, none at the ends of the block."""
    nodes = list(root.iter())
    for node in nodes:
        node.text = re.sub(r"\s+", " ", node.text) if node.text else node.text
        node.tail = re.sub(r"\s+", " ", node.tail) if node.tail and node is not root else node.tail
    for item in [root, *root.iter("item")]:
        if item.text:
            item.text = item.text.lstrip()
        last = item
        while len(last):
            last = last[-1]
        if last is not item and last.tail:
            last.tail = last.tail.rstrip()
        elif last.text:
            last.text = last.text.rstrip()


def _insert_after_text(body: etree._Element, block: etree._Element, previous_text: str) -> bool:
    """Insert ``block`` after the last top-level block of ``body`` holding the last words of ``previous_text``
    (at the start when nothing precedes it in the source); False when that text is not in ``body`` (it was
    dropped too: the block's place is unknown, and it is left out)."""
    anchor = " ".join(_norm(previous_text).split()[-12:])
    if not anchor:
        body.insert(0, block)
        return True
    positions = [index for index, child in enumerate(body) if anchor in _norm(" ".join(child.itertext()))]
    if not positions:
        return False
    body.insert(positions[-1] + 1, block)
    return True
