"""Hostile XML in feeds and sitemaps: drop the document type declaration before parsing, and tell a
broken document from an empty one.

Our parsers never expand entities nor load DTDs, but libxml2 still counts the amplification of a
"billion laughs" internal subset and, in recovery mode, silently drops everything after it: the
feed then lists nothing and nobody learns why. Without the DOCTYPE, entity references are merely
undefined: nothing is expanded, no file is read, and the real entries are still read.
"""

from __future__ import annotations

import re

from lxml import etree

_PROLOG = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*)*", re.S)
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.I)


class XmlError(ValueError):
    """The document is not well-formed XML and nothing could be read from it; the message says why."""


def without_doctype(body: bytes) -> bytes:
    """``body`` without its ``<!DOCTYPE …>`` (internal subset and entity declarations included).

    Only a DOCTYPE in the prolog (before the root element) is removed; quoted strings and comments
    inside the internal subset may hold ``]`` and ``>``.
    """
    prolog = _PROLOG.match(body)
    start = prolog.end() if prolog else 0
    if not _DOCTYPE.match(body, start):
        return body
    end = _doctype_end(body, start + len(b"<!DOCTYPE"))
    return body[:start] + (body[end:] if end is not None else b"")


def _doctype_end(body: bytes, position: int) -> int | None:
    """Index just after the ``>`` closing the DOCTYPE that starts before ``position`` (None: never closed)."""
    quote: int | None = None
    depth = 0
    length = len(body)
    while position < length:
        byte = body[position]
        if quote is not None:
            if byte == quote:
                quote = None
        elif body.startswith(b"<!--", position):
            close = body.find(b"-->", position + 4)
            if close < 0:
                return None
            position = close + 3
            continue
        elif byte in b"'\"":
            quote = byte
        elif byte == ord("["):
            depth += 1
        elif byte == ord("]"):
            depth -= 1
        elif byte == ord(">") and depth <= 0:
            return position + 1
        position += 1
    return None


def strict_error(body: bytes) -> str | None:
    """Why ``body`` is not well-formed XML (the parser's first complaint), or None when it is.

    Used only when a forgiving parse read nothing: a well-formed empty feed is not an error, a
    broken one is.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             recover=False)
    try:
        etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as error:
        return str(error) or "not well-formed"
    return None
