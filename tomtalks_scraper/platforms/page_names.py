"""The ids and class names a page carries, read once, so that detection skips selectors that cannot match.

Why: ``detect_platform`` tries every adapter's ``page_markers`` on every page no URL pattern claims.
Each CSS selector is one walk of the whole tree, and those naming an id or a class test every element
(about 0.3 ms each on a 150 KB news page); for a page no platform claims, all of them run. A selector
such as ``html:has(#templatePreheader):has(#templateFooter)`` can only match a page carrying both ids,
so one walk collecting the page's ids and classes answers most of them with a set lookup.

Platform markers are mostly attribute tests on the few ``<link>``, ``<meta>``, ``<script>`` and ``<img>``
elements of a page (``link[href*="substackcdn.com/bundle/"]``, ``meta[name="generator"][content^="Ghost"]``),
each again one walk of the whole tree in libxml2: ~25 of them on a page no URL pattern claims.
``may_match_marker`` also answers those from the attribute values of those elements, read in one walk
the first time it is asked.

The tests are one-sided: they say False only when something the selector requires is absent (an id, a
class, an attribute value of its subject element), in which case the selector cannot match; otherwise
the selector itself decides.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache, cached_property

import cssselect
from cssselect.parser import Attrib, CombinedSelector, Element, Tree
from lxml import etree
from lxml import html as lxml_html

_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_ATTRIBUTE_TESTS = re.compile(r"\[[^\]]*\]")
_ID_OR_CLASS = re.compile(r"([#.])([\w-]+)")
_IDS = etree.XPath("//@id", smart_strings=False)
_CLASSES = etree.XPath("//@class", smart_strings=False)
#: Elements few enough on a page to read all their attributes in Python: where platforms leave their marks.
MARKER_TAGS = ("link", "meta", "script", "img")
#: Attribute operators whose value must occur in the attribute (``!=`` requires nothing).
_CONTAINED = frozenset({"=", "~=", "|=", "^=", "$=", "*="})
#: One selector alternative's subject: its tag, and the (attribute, value that must occur in it or None).
SubjectTests = tuple[str, tuple[tuple[str, str | None], ...]]


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


@cache
def subject_tests(selector: str) -> tuple[SubjectTests, ...] | None:
    """For each alternative of ``selector``, the tag of the element it selects and the attribute tests on
    that element; None when an alternative selects elements of any tag or a tag outside ``MARKER_TAGS``,
    or when the selector is not one cssselect reads (then nothing is known)."""
    try:
        alternatives = cssselect.parse(selector)
    except cssselect.SelectorError:
        return None
    found = []
    for alternative in alternatives:
        tests: list[tuple[str, str | None]] = []
        node: Tree | None = alternative.parsed_tree
        while node is not None and not isinstance(node, Element):
            if isinstance(node, Attrib):
                if node.namespace is not None:
                    return None
                if node.operator == "exists":
                    tests.append((node.attrib.lower(), None))
                elif node.operator in _CONTAINED and node.value is not None:
                    tests.append((node.attrib.lower(), node.value.value))
            # towards the subject: the right side of a combinator; else the element the class, id, pseudo-class,
            # :not() or :has() applies to (never into the negated or related selector)
            node = node.subselector if isinstance(node, CombinedSelector) else getattr(node, "selector", None)
        if node is None or (node.element or "*").lower() not in MARKER_TAGS:
            return None
        found.append(((node.element or "").lower(), tuple(reversed(tests))))  # as the selector writes them
    return tuple(found)


@dataclass(frozen=True)
class PageNames:
    ids: frozenset[str]
    classes: frozenset[str]
    #: The page as parsed, for the attribute values ``may_match_marker`` reads on first use.
    tree: lxml_html.HtmlElement | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, tree: lxml_html.HtmlElement) -> PageNames:
        # one join and split in C: the same names as splitting each class attribute, at a fraction of the cost
        return cls(frozenset(_IDS(tree)), frozenset(" ".join(_CLASSES(tree)).split()), tree)

    def may_match(self, selector: str) -> bool:
        ids, classes = required_names(selector)
        return ids <= self.ids and classes <= self.classes

    def may_match_marker(self, selector: str) -> bool:
        """``may_match``, and for a selector of ``<link>``, ``<meta>``, ``<script>`` or ``<img>`` elements,
        whether the page has one of those with every attribute, and every attribute value, the selector
        tests (each possibly on another element: the test stays one-sided). Only for the page as parsed:
        pre-cleaning may change attributes (lazy images get their ``src``)."""
        if not self.may_match(selector):
            return False
        alternatives = subject_tests(selector)
        if alternatives is None or self.tree is None:
            return True
        values = self.marker_attributes
        return any(all(name in values[tag] and (needle is None or needle in values[tag][name])
                       for name, needle in tests) for tag, tests in alternatives)

    @cached_property
    def marker_attributes(self) -> dict[str, dict[str, str]]:
        """tag → attribute → the values that attribute has on the page's elements of that tag, joined by NUL
        (which no attribute value holds, so a value a selector looks for is found only inside one)."""
        values: dict[str, dict[str, list[str]]] = {tag: defaultdict(list) for tag in MARKER_TAGS}
        for element in self.tree.iter(*MARKER_TAGS) if self.tree is not None else ():
            by_name = values[element.tag]
            for name, value in element.items():
                by_name[name].append(value)
        return {tag: {name: "\0".join(found) for name, found in by_name.items()} for tag, by_name in values.items()}
