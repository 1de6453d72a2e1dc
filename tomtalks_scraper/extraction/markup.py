"""Page text as lxml will parse it: shared by extraction's parse and the store's copy checks.

Why a module of its own: the copy checks (``storage.page_checks``) must read the raw page the way
extraction does, so that checks computed in an extraction worker and checks the store computes itself
agree; and the store's side must not import trafilatura, which ``extraction.issue`` does.
"""

from __future__ import annotations

import re
import threading

from lxml import etree
from lxml import html as lxml_html

#: An XML declaration: lxml refuses to parse text that starts with one naming an encoding.
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)

_parsers = threading.local()


def without_xml_declaration(text: str) -> str:
    """``text`` without a leading ``<?xml …?>`` (XHTML pages carry one; the text is already decoded)."""
    return _XML_DECLARATION.sub("", text, count=1)


def page_parser(utf8: bool = False) -> lxml_html.HTMLParser:
    """lxml's HTML parser, giving every element the ``HtmlElement`` class through a lookup done in C;
    ``utf8``: the parser for bytes known to be UTF-8 (told so, it ignores what the page declares).

    Why: ``lxml.html``'s own parser picks each element's class in Python (``HtmlElementClassLookup``,
    which only adds form classes that nothing here uses), once per element object lxml hands out: about
    a thousand calls, ~0.6 ms, a page. One parser per thread, since lxml parsers must not be shared
    between threads (the store's writer thread parses pages too).
    """
    name = "utf8_parser" if utf8 else "parser"
    parser = getattr(_parsers, name, None)
    if parser is None:
        parser = lxml_html.HTMLParser(encoding="utf-8") if utf8 else lxml_html.HTMLParser()
        parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
            element=lxml_html.HtmlElement, comment=lxml_html.HtmlComment,
            pi=lxml_html.HtmlProcessingInstruction, entity=lxml_html.HtmlEntity))
        setattr(_parsers, name, parser)
    return parser


def parse_page_text(text: str, utf8: bytes | None = None) -> lxml_html.HtmlElement:
    """The page's document tree (``lxml.html.document_fromstring`` with ``page_parser``); lxml's errors
    (``etree.ParserError``, ``ValueError``) reach the caller, who knows what the text was.

    ``utf8``: ``text`` encoded as UTF-8, when the caller has those bytes (a crawl's response body):
    libxml2 works in UTF-8, so it parses them as they are, while a ``str`` is first converted (~0.15
    ms on a 150 KB page). The tree is the same. A page opening with an XML declaration is parsed
    from its text, which drops the declaration.
    """
    if utf8 is not None and not _XML_DECLARATION.match(text):
        return lxml_html.document_fromstring(utf8, parser=page_parser(utf8=True))
    return lxml_html.document_fromstring(without_xml_declaration(text), parser=page_parser())
