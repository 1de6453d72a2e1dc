"""The text of a fetched page, as the pipelines receive it: decoded right, and safe to parse.

Scrapy decodes with the declared charset (BOM, header, ``<meta>``), but declarations lie: servers
default to ``ISO-8859-1`` for UTF-8 pages and templates say ``utf-8`` over ``cp1252`` text, which
would store "cafÃ©" or "caf�" for ever. Bytes are better evidence than labels: text that is valid
UTF-8 and not plain ASCII is UTF-8; text declared UTF-8 that is not valid UTF-8 but is valid
``cp1252`` is ``cp1252``. With no declaration at all Scrapy asks charset_normalizer, which finds
Shift-JIS or cp1251 well but often calls Western text ``cp1250`` ("crčme"): when ``cp1252`` is among
its equally good candidates, the web's default wins the tie.

Control characters that XML forbids are dropped: lxml refuses to set them as element text, so one
stray ``\\x01`` in a page would make extraction fail (browsers do not show them either).
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes
from scrapy.http import TextResponse
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

_UTF8 = {"utf-8", "utf-8-sig"}
_WIDE = ("utf-16", "utf-32")
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_UTF8_BOM = b"\xef\xbb\xbf"


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name.lower()


def decode_page(body: bytes, content_type: str, used: str, decoded: str) -> str:
    """The page text: ``decoded`` (Scrapy's reading of ``body`` with the charset ``used``) unless the
    bytes show that the declaration lies, or that Scrapy's guess for an undeclared page was a bad one."""
    encoding = _codec(used)
    if encoding.startswith(_WIDE):
        return decoded
    declared = read_bom(body)[0] or http_content_type_encoding(content_type) or html_body_declared_encoding(body)
    if declared is None:
        return _undeclared(body, encoding, decoded)
    if encoding not in _UTF8:
        if body.isascii():
            return decoded
        try:
            return body.removeprefix(_UTF8_BOM).decode("utf-8")
        except UnicodeDecodeError:
            return decoded
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return body.decode("cp1252")
        except UnicodeDecodeError:
            return decoded
    return decoded


def _undeclared(body: bytes, encoding: str, decoded: str) -> str:
    if encoding in _UTF8 or encoding == "cp1252" or body.isascii():
        return decoded
    matches = from_bytes(body)
    best = matches.best()
    if best is None:
        return decoded
    if any(_codec(m.encoding) == "cp1252" and (m.chaos, m.coherence) == (best.chaos, best.coherence)
           for m in matches):
        try:
            return body.decode("cp1252")
        except UnicodeDecodeError:
            return decoded
    return decoded


def xml_safe(text: str) -> str:
    """``text`` without the characters XML (and so lxml) cannot hold: C0 controls, U+FFFE/U+FFFF, lone surrogates."""
    return _XML_FORBIDDEN.sub("", text)


def looks_binary(body: bytes, declared: str) -> bool:
    """NUL bytes near the start of a page not declared UTF-16/32: an image or archive served as HTML."""
    return b"\x00" in body[:2048] and not _codec(declared).startswith(_WIDE)


def page_text(response: TextResponse) -> str:
    """What the extract stage gets for ``response``: the right decoding, without forbidden characters."""
    content_type = response.headers.get("Content-Type", b"").decode("latin-1")
    return xml_safe(decode_page(response.body, content_type, response.encoding, response.text))
