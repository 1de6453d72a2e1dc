"""Golden pages of every platform adapter, through one runner (``golden.py``, which documents the schema).

Each record of ``tests/fixtures/<platform>/golden.json`` is one test, with an id such as
``substack:corpus:substack/slowboring-elon-musks-business-ties.html``: the saved page is extracted with
``extract_issue`` and every expectation the record holds is compared; a record with ``xfail`` is a
strict xfail (a known gap that must be updated the day it closes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from golden import CORPUS, PLATFORMS, Record, all_records, check, load, read_page

from tomtalks_scraper.extraction.issue import extract_issue


def _param(record: Record) -> Any:
    marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason=record.xfail)] if record.xfail else []
    return pytest.param(record, id=record.id, marks=marks)


@pytest.mark.parametrize("record", [_param(record) for record in all_records()])
def test_golden_page(record: Record, request: pytest.FixtureRequest) -> None:
    check(record, extract_issue(read_page(record, request), record.url))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_corpus_page_has_a_golden_record(platform: str, shared: Path) -> None:
    root = shared.joinpath(*CORPUS)
    on_disk = {str(path.relative_to(root)) for path in root.joinpath(platform).rglob("*.html")
               if ".expected" not in path.name}
    assert on_disk == {record.name for record in load(platform) if record.in_corpus}
