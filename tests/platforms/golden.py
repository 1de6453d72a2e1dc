"""The one golden-page harness of the platform adapters (one declarative adapter per platform, saved pages,
hand-written expectations, and this single runner, as fundus does it).

Every ``tests/fixtures/<platform>/golden.json`` is ``{"about": "...", "pages": [record, ...]}``. A record:

* ``page``: ``"corpus:<path under ../shared/corpus/real/>"`` or ``"fixture:<path under tests/fixtures/>"``;
* ``url``: the URL given to ``extract_issue`` with the page;
* expectations, each checked only when present:

  - equal to the extracted field: ``platform``, ``title``, ``subtitle``, ``authors``, ``published_at``,
    ``updated_at``, ``access``, ``newsletter``, ``tags``, ``issue_number``, ``canonical_url``, and
    ``body_text`` (the whole body text, compared as it is);
  - ``not_platform``: the page must not be claimed by that platform's adapter;
  - ``first`` / ``last``: ``body_text`` starts / ends with it; ``near_end``: it is within the last
    ``NEAR_END`` characters of ``body_text`` (for pages whose real end is a list the extractor drops);
    ``contains``: each string is in ``body_text`` (all whitespace-folded);
  - ``absent``: each string is in neither ``body_text`` nor ``body_markdown`` (raw or whitespace-folded);
  - ``links_include``: each URL is among the extracted body links;
  - ``markdown_contains``: each string is in ``body_markdown`` as it is;

* ``note``: free text (what the page is, where each expectation comes from);
* ``xfail``: the reason of a known gap: the record is a strict xfail. Such a record holds only the
  failing expectations; the page's other expectations stay hard in a record of their own.

Corpus pages are skipped with the ``shared`` fixture's reason when ``../shared`` is not beside the clone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tomtalks_scraper.extraction.issue import ExtractedIssue

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CORPUS = ("corpus", "real")
PLATFORMS = ("beehiiv", "buttondown", "ghost", "linkedin", "mailchimp", "medium", "substack", "wordpress")
NEAR_END = 400

#: Keys compared with the extracted issue's attribute of the same name, as they are.
EQUAL = ("platform", "title", "subtitle", "authors", "published_at", "updated_at", "access", "newsletter", "tags",
         "issue_number", "canonical_url", "body_text")
#: Keys checked against the body.
BODY = ("first", "last", "near_end", "contains", "absent", "links_include", "markdown_contains")
LISTS = ("contains", "absent", "links_include", "markdown_contains")
KEYS = frozenset(("page", "url", "not_platform", "note", "xfail", *EQUAL, *BODY))


def fold(text: str | None) -> str:
    """``text`` with every run of whitespace made one space, ends trimmed."""
    return " ".join((text or "").split())


@dataclass(frozen=True)
class Record:
    platform: str
    data: dict[str, Any]

    @property
    def page(self) -> str:
        return self.data["page"]

    @property
    def url(self) -> str:
        return self.data["url"]

    @property
    def in_corpus(self) -> bool:
        return self.page.startswith("corpus:")

    @property
    def name(self) -> str:
        """The page's path below its root (``../shared/corpus/real/`` or ``tests/fixtures/``)."""
        return self.page.split(":", 1)[1]

    @property
    def xfail(self) -> str | None:
        return self.data.get("xfail")

    @property
    def id(self) -> str:
        return f"{self.platform}:{self.page}" + (":xfail" if self.xfail else "")

    def path(self, shared: Path | None) -> Path:
        if not self.in_corpus:
            return FIXTURES / self.name
        if shared is None:
            raise ValueError(f"{self.id} is a corpus page: pass the shared folder")
        return shared.joinpath(*CORPUS, self.name)

    def read(self, shared: Path | None) -> str:
        return self.path(shared).read_text(encoding="utf-8", errors="replace")


def _validate(platform: str, document: Any) -> list[Record]:
    where = f"tests/fixtures/{platform}/golden.json"
    if not isinstance(document, dict) or set(document) != {"about", "pages"}:
        raise ValueError(f"{where}: expected {{'about': ..., 'pages': [...]}}")
    records = []
    for index, data in enumerate(document["pages"]):
        unknown = set(data) - KEYS
        if unknown:
            raise ValueError(f"{where} record {index}: unknown keys {sorted(unknown)}")
        if not {"page", "url"} <= set(data):
            raise ValueError(f"{where} record {index}: 'page' and 'url' are required")
        if not data["page"].startswith(("corpus:", "fixture:")):
            raise ValueError(f"{where} record {index}: page {data['page']!r} is neither corpus: nor fixture:")
        for key in LISTS:
            if key in data and not isinstance(data[key], list):
                raise ValueError(f"{where} record {index}: {key!r} must be a list")
        if not set(data) & (set(EQUAL) | set(BODY) | {"not_platform"}):
            raise ValueError(f"{where} record {index}: no expectation")
        records.append(Record(platform, data))
    ids = [record.id for record in records]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{where}: two records for one page (a known gap goes in a record with 'xfail')")
    return records


@cache
def load(platform: str) -> tuple[Record, ...]:
    """The golden records of one platform, checked against the schema."""
    document = json.loads((FIXTURES / platform / "golden.json").read_text(encoding="utf-8"))
    return tuple(_validate(platform, document))


def all_records() -> list[Record]:
    return [record for platform in PLATFORMS for record in load(platform)]


def find(platform: str, name: str) -> Record:
    """The record (not a known-gap one) of the page whose path ends with ``name``."""
    [record] = [r for r in load(platform) if r.name.endswith(name) and not r.xfail]
    return record


def read_page(record: Record, request: pytest.FixtureRequest) -> str:
    """The saved page; a corpus page asks for the ``shared`` fixture, which skips without ``../shared``."""
    return record.read(request.getfixturevalue("shared") if record.in_corpus else None)


def _short(text: str, limit: int = 300) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _tail(text: str, limit: int = 300) -> str:
    return repr(text if len(text) <= limit else "…" + text[-limit:])


def mismatches(record: Record, issue: ExtractedIssue) -> list[str]:
    """Every expectation of ``record`` that ``issue`` does not meet, one readable line each."""
    data, problems = record.data, []
    for key in EQUAL:
        if key in data and getattr(issue, key) != data[key]:
            problems.append(f"{key}: expected {data[key]!r}, got {getattr(issue, key)!r}")
    if "not_platform" in data and issue.platform == data["not_platform"]:
        problems.append(f"platform: the page must not be claimed by {data['not_platform']!r}")
    text, markdown = fold(issue.body_text), fold(issue.body_markdown)
    if "first" in data and not text.startswith(fold(data["first"])):
        problems.append(f"first: body_text should start with {_short(fold(data['first']))}, starts {_short(text)}")
    if "last" in data and not text.endswith(fold(data["last"])):
        problems.append(f"last: body_text should end with {_tail(fold(data['last']))}, ends {_tail(text)}")
    if "near_end" in data and fold(data["near_end"]) not in text[-NEAR_END:]:
        problems.append(f"near_end: {_short(fold(data['near_end']))} is not in the last {NEAR_END} characters "
                        f"of body_text: {_tail(text, NEAR_END)}")
    missing = [passage for passage in data.get("contains", []) if fold(passage) not in text]
    if missing:
        problems.append(f"contains: not in body_text: {missing}")
    leaked = [chrome for chrome in data.get("absent", [])
              if chrome in issue.body_text or chrome in issue.body_markdown
              or fold(chrome) in text or fold(chrome) in markdown]
    if leaked:
        problems.append(f"absent: found in body_text or body_markdown: {leaked}")
    links = {link.url for link in issue.links}
    missing = [url for url in data.get("links_include", []) if url not in links]
    if missing:
        problems.append(f"links_include: not among the {len(links)} body links: {missing}")
    missing = [passage for passage in data.get("markdown_contains", []) if passage not in issue.body_markdown]
    if missing:
        problems.append(f"markdown_contains: not in body_markdown: {missing}")
    return problems


def check(record: Record, issue: ExtractedIssue) -> None:
    """Raise one ``AssertionError`` naming every unmet expectation of ``record``."""
    problems = mismatches(record, issue)
    if problems:
        raise AssertionError(f"{record.id} ({record.url}):\n  " + "\n  ".join(problems))
