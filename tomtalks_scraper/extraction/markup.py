"""Page text as lxml will parse it: shared by extraction's parse and the store's copy checks.

Why a module of its own: the copy checks (``storage.page_checks``) must read the raw page the way
extraction does, so that checks computed in an extraction worker and checks the store computes itself
agree; and the store's side must not import trafilatura, which ``extraction.issue`` does.
"""

from __future__ import annotations

import re

#: An XML declaration: lxml refuses to parse text that starts with one naming an encoding.
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


def without_xml_declaration(text: str) -> str:
    """``text`` without a leading ``<?xml …?>`` (XHTML pages carry one; the text is already decoded)."""
    return _XML_DECLARATION.sub("", text, count=1)
