"""trafilatura's comparison with readability, skipped for our calls when it cannot change the result.

Why: after its own extractor, trafilatura runs readability on the page (and sometimes jusText) and
keeps that output instead of its own when its own looks too short or badly shaped
(``trafilatura.external.compare_extraction``). That costs about 3.5 ms a page, a sixth of an
extraction worker's time, and on the benchmark and corpus pages, once the page is cut to its
prose (``content_root.py``), it changed the result on 4 calls of 176.

When trafilatura's own text is already at least half the text readability could return, the
comparison cannot change anything, by the rules of trafilatura 2.3's ``compare_extraction`` and
``_prefer_readability``:

- readability wins on length only with more than twice the own text: readability returns part of
  the page's text (it drops ``script``, ``style`` and ``fencedframe`` first), so the page's text
  without those, whitespace folded as trafilatura's ``trim`` folds it, bounds its length (checked
  here with a 10 % and 100-character margin);
- it wins on shape only when the own body has no paragraph text or more tables than paragraphs;
- jusText is tried only for an own text shorter than ``min_extracted_size``, or holding elements
  trafilatura sanitizes (``SANITIZED_XPATH``);
- recall mode has rules of its own; it is never skipped.

When all of that holds, the wrapper returns the own body and text, exactly what the comparison
would have returned; otherwise the comparison runs. Only calls made inside ``comparison_skipped``
(our ``body.trafilatura_document``) are affected: a bare ``trafilatura.extract`` in the same process
(the benchmarks' baseline) runs trafilatura unchanged. ``tests/test_extraction.py`` extracts the
benchmark and corpus pages with and without the skip and requires the same issues.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

from lxml import etree

logger = logging.getLogger(__name__)

#: Text nodes readability may return: all but those of the elements its ``summary`` drops.
_READABLE_TEXT = etree.XPath("//text()[not(parent::script or parent::style or parent::fencedframe)]",
                             smart_strings=False)
_PARAGRAPH_TEXT = etree.XPath(".//p//text()", smart_strings=False)
#: Margin on the bound of readability's text length: whitespace readability's serialisation may add.
_MARGIN_RATIO, _MARGIN_CHARS = 1.1, 100

_skipping: ContextVar[bool] = ContextVar("tomtalks_skip_readability_comparison", default=False)
_original: Callable[..., tuple[Any, str]] | None = None
skipped_calls = 0  # comparisons skipped in this process (for benchmarks and tests)


def readability_cannot_win(raw_tree: Any, body: Any, text: str, options: Any) -> bool:
    """Whether trafilatura 2.3's ``compare_extraction`` would return ``body`` and ``text`` unchanged."""
    from trafilatura.external import SANITIZED_XPATH

    length = len(text)
    if options.focus == "recall" or length < options.min_extracted_size or body.xpath(SANITIZED_XPATH):
        return False
    if not _PARAGRAPH_TEXT(body) or len(body.findall(".//table")) > len(body.findall(".//p")):
        return False
    readable = len(" ".join(" ".join(_READABLE_TEXT(raw_tree)).split()))
    return 2 * length >= _MARGIN_RATIO * readable + _MARGIN_CHARS


def _compare_extraction(cleaned_tree: Any, raw_tree: Any, body: Any, text: str, options: Any) -> tuple[Any, str]:
    global skipped_calls
    if _skipping.get() and readability_cannot_win(raw_tree, body, text, options):
        skipped_calls += 1
        return body, text
    assert _original is not None
    return _original(cleaned_tree, raw_tree, body, text, options)


@cache
def install() -> bool:
    """Put the wrapper in place of ``trafilatura.core.compare_extraction``, once per process (the answer
    is kept, so a trafilatura without the function is reported once, not on every page). False when
    this trafilatura has no such function: then the comparison always runs, as in trafilatura itself."""
    global _original
    import trafilatura.core

    current = getattr(trafilatura.core, "compare_extraction", None)
    if current is None or not callable(current):
        logger.warning("trafilatura.core.compare_extraction not found: readability comparisons are never skipped")
        return False
    _original = current
    trafilatura.core.compare_extraction = _compare_extraction
    return True


@contextmanager
def comparison_skipped() -> Iterator[None]:
    """trafilatura calls inside skip the comparison when it cannot change their result."""
    token = _skipping.set(install())
    try:
        yield
    finally:
        _skipping.reset(token)
