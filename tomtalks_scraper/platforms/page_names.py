"""The ids and class names a page carries, read once, so that detection skips selectors that cannot match.

Why: ``detect_platform`` tries every adapter's ``page_markers`` on every page no URL pattern claims.
Each CSS selector is one walk of the whole tree, and those naming an id or a class test every element
(about 0.3 ms each on a 150 KB news page); for a page no platform claims, all of them run. A selector
such as ``html:has(#templatePreheader):has(#templateFooter)`` can only match a page carrying both ids,
so one walk collecting the page's ids and classes answers most of them with a set lookup.

The test is one-sided: ``may_match`` is False only when a required id or class is absent, in which case
the selector cannot match; otherwise the selector itself decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from lxml import etree
from lxml import html as lxml_html

_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_ATTRIBUTE_TESTS = re.compile(r"\[[^\]]*\]")
_ID_OR_CLASS = re.compile(r"([#.])([\w-]+)")
_IDS = etree.XPath("//@id", smart_strings=False)
_CLASSES = etree.XPath("//@class", smart_strings=False)


@cache
def required_names(selector: str) -> tuple[frozenset[str], frozenset[str]]:
    """The ids and classes an element of the page must carry for ``selector`` to match.

    Nothing is required of a selector group (``a, b``) or of one with a negation: either could match
    without a given name. Quoted strings and attribute tests are removed first (``[href*=".licdn.com"]``
    names no class).
    """
    if "," in selector or ":not(" in selector:
        return frozenset(), frozenset()
    bare = _ATTRIBUTE_TESTS.sub("", _QUOTED.sub('""', selector))
    ids = frozenset(name for kind, name in _ID_OR_CLASS.findall(bare) if kind == "#")
    classes = frozenset(name for kind, name in _ID_OR_CLASS.findall(bare) if kind == ".")
    return ids, classes


@dataclass(frozen=True)
class PageNames:
    ids: frozenset[str]
    classes: frozenset[str]

    @classmethod
    def of(cls, tree: lxml_html.HtmlElement) -> PageNames:
        return cls(frozenset(_IDS(tree)), frozenset(name for value in _CLASSES(tree) for name in value.split()))

    def may_match(self, selector: str) -> bool:
        ids, classes = required_names(selector)
        return ids <= self.ids and classes <= self.classes
