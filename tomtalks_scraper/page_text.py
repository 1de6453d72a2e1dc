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
import hashlib
import re
from collections.abc import Callable

from charset_normalizer import from_bytes
from scrapy.http import TextResponse
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

_UTF8 = {"utf-8", "utf-8-sig"}
_WIDE = ("utf-16", "utf-32")
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_UTF8_BOM = b"\xef\xbb\xbf"
#: The C0 controls ``xml_safe`` removes, as bytes.
_C0_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
#: Codecs (as ``codecs.lookup`` names them) whose bytes show every character ``xml_safe`` removes.
_BYTE_TRANSPARENT = frozenset({"utf-8", "utf-8-sig", "cp1252", "iso8859-1", "ascii"})


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name.lower()


def decode_page(body: bytes, content_type: str, used: str, decoded: Callable[[], str]) -> tuple[str, str]:
    """The page text and the codec that made it: ``decoded()`` (Scrapy's reading of ``body`` with the
    charset ``used``, which its meta-refresh middleware has already made) unless the bytes show that
    the declaration lies, or that Scrapy's guess for an undeclared page was a bad one."""
    encoding = _codec(used)
    if encoding.startswith(_WIDE):
        return decoded(), encoding
    declared = read_bom(body)[0] or http_content_type_encoding(content_type) or html_body_declared_encoding(body)
    if declared is None:
        return _undeclared(body, encoding, decoded)
    if encoding not in _UTF8:
        if body.isascii():
            return decoded(), encoding
        try:
            return body.removeprefix(_UTF8_BOM).decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            return decoded(), encoding
    text = decoded()
    if "\ufffd" not in text:  # Scrapy's reading replaced nothing: the bytes are valid UTF-8, no check needed
        return text, encoding
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return body.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            return text, encoding
    return text, encoding


def _undeclared(body: bytes, encoding: str, decoded: Callable[[], str]) -> tuple[str, str]:
    if encoding in _UTF8 or encoding == "cp1252" or body.isascii():
        return decoded(), encoding
    matches = from_bytes(body)
    best = matches.best()
    if best is None:
        return decoded(), encoding
    if any(_codec(m.encoding) == "cp1252" and (m.chaos, m.coherence) == (best.chaos, best.coherence)
           for m in matches):
        try:
            return body.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            return decoded(), encoding
    return decoded(), encoding


def xml_safe(text: str) -> str:
    """``text`` without the characters XML (and so lxml) cannot hold: C0 controls, U+FFFE/U+FFFF, lone surrogates."""
    return _XML_FORBIDDEN.sub("", text)


def _xml_safe_as_bytes_show(body: bytes, text: str, codec: str) -> bool:
    """Whether ``text``, decoded from ``body`` with ``codec``, holds no character ``xml_safe`` removes,
    read mostly from the bytes: about a quarter of the cost of the regular expression over a 150 KB
    page's text.

    Only for codecs where those characters can come from nothing else: in UTF-8 (strict or with
    replacement characters) a C0 control is its own byte and a lone surrogate is never decoded; in the
    single-byte Latin codecs a C0 control is its byte and the others cannot occur. U+FFFE and U+FFFF
    are looked for in the text, where a page without characters beyond U+00FF answers at once. Other
    codecs answer False, and the text is scanned.
    """
    return (codec in _BYTE_TRANSPARENT and len(body.translate(None, _C0_BYTES)) == len(body)
            and "\ufffe" not in text and "\uffff" not in text)


def looks_binary(body: bytes, declared: str) -> bool:
    """NUL bytes near the start of a page not declared UTF-16/32: an image or archive served as HTML."""
    return b"\x00" in body[:2048] and not _codec(declared).startswith(_WIDE)


def text_hash(text: str) -> str:
    """sha256 of page text as UTF-8: the page hash, by which an unchanged page is known and not extracted again."""
    return hashlib.sha256(text.encode("utf-8", errors="replace")).hexdigest()


def page_text_and_hash(response: TextResponse) -> tuple[str, str, bytes | None]:
    """What the extract stage gets for ``response`` (the right decoding, without forbidden characters),
    its ``text_hash``, and the body when the text is exactly its UTF-8 (valid UTF-8 without a BOM,
    nothing replaced or dropped: most pages), else ``None``. In that case the hash is taken from the
    body, without encoding the text again (~0.2 ms on a 150 KB page), and the bytes go to the
    extraction worker instead of the text (``IssuePage.html_utf8``)."""
    body = response.body
    content_type = response.headers.get("Content-Type", b"").decode("latin-1")
    text, codec = decode_page(body, content_type, response.encoding, lambda: response.text)
    if not _xml_safe_as_bytes_show(body, text, codec):
        text = xml_safe(text)
        return text, text_hash(text), None
    if codec in _UTF8 and not body.startswith(_UTF8_BOM) and "\ufffd" not in text:
        return text, hashlib.sha256(body).hexdigest(), body
    return text, text_hash(text), None
