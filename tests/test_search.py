"""``tomtalks search`` and the filters of ``list`` on a real archive: the demo newsletter crawled
through its feed, plus a second newsletter saved through ``Archive.save_issue``.

On SQLite (FTS5) and PostgreSQL (tsvector); FTS5-only syntax (prefix*, NEAR, column:, its syntax
errors) and accent folding in ``--author`` are ``sqlite_only``."""

from __future__ import annotations

import json

import pytest

from storage import Archive
from storage.queries import IssueFilter, QueryError, author_phrase
from tomtalks_scraper.cli import main
from tomtalks_scraper.demo_site.server import LocalSite
from tomtalks_scraper.demo_site.site import build_site, load_issues

WAREHOUSE = "The warehouse is AI's toughest proving ground"
MAIN_STREET = "Main Street doesn't need a moonshot, it needs a Tuesday win"
ELECTRICITY = "AI's electricity bill is coming due"
HARBOUR = "Harbour Notes"
pytestmark = pytest.mark.both_backends


def harbour_values(title: str, body: str, **overrides: object) -> dict:
    values = {
        "canonical_url": None, "platform": "ghost", "title": title, "author": "Ann Author, Zoë Ångström",
        "authors": ["Ann Author", "Zoë Ångström"], "published_at": "2023-03-01T09:00:00Z", "modified_at": None,
        "description": None, "tags": ["ports"], "image_url": None, "language": "en", "body_text": body,
        "body_markdown": body, "body_html": f"<p>{body}</p>", "word_count": len(body.split()),
        "content_hash": title, "http_status": 200, "extractor": "test", "extractor_version": "1",
        "access": "paid_preview",
    }
    return {**values, **overrides}


@pytest.fixture(scope="module")
def archive_db(module_crawl) -> str:
    with LocalSite(build=build_site) as site:
        archive: Archive = module_crawl(site.url("/feed.xml"))
    for n, (title, body, extra) in enumerate([
        ("Warehouse cranes at dawn", "Cranes lift containers while gulls circle the quay.", {}),
        ("Tides and tonnage", "The harbour master counts tonnage and tides every morning.",
         {"published_at": "2023-04-01T09:00:00Z", "access": "free", "author": "Ann Author", "authors": ["Ann Author"]}),
    ]):
        archive.save_issue(url=f"https://harbour.example/p/{n}", newsletter=HARBOUR,
                           newsletter_url="https://harbour.example/", raw_html=None,
                           values=harbour_values(title, body, **extra))
    return archive.url.removeprefix("sqlite:///")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def search(capsys: pytest.CaptureFixture[str], db: str, query: str, *options: str) -> list[dict]:
    code, out, err = run(capsys, "search", query, "--db", db, "--json", *options)
    assert code == 0, err
    return json.loads(out)


def titles(results: list[dict]) -> list[str]:
    return [r["title"] for r in results]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("warehouse", {WAREHOUSE, MAIN_STREET, "Warehouse cranes at dawn"}),
        ("warehouse AND cranes", {"Warehouse cranes at dawn"}),
        ("warehouse NOT cranes", {WAREHOUSE, MAIN_STREET}),
        ("warehouse OR electricity", {WAREHOUSE, MAIN_STREET, ELECTRICITY, "Warehouse cranes at dawn"}),
        ('"toughest proving ground"', {WAREHOUSE}),
        ('"proving toughest ground"', set()),
    ],
)
def test_search_syntax_phrases_and_booleans(capsys, archive_db: str, query: str, expected: set) -> None:
    assert set(titles(search(capsys, archive_db, query))) == expected


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tonnag*", {"Tides and tonnage"}),
        ("NEAR(gulls quay, 3)", {"Warehouse cranes at dawn"}),
        ("title:tides", {"Tides and tonnage"}),
    ],
)
def test_fts5_prefixes_near_and_columns(capsys, archive_db: str, query: str, expected: set) -> None:
    assert set(titles(search(capsys, archive_db, query))) == expected


def test_relevance_puts_title_matches_first_and_date_sort_is_newest_first(capsys, archive_db: str) -> None:
    by_rank = search(capsys, archive_db, "warehouse")
    assert by_rank[0]["title"] in {WAREHOUSE, "Warehouse cranes at dawn"}  # title matches weigh most
    assert [r["rank"] for r in by_rank] == sorted(r["rank"] for r in by_rank)
    by_date = search(capsys, archive_db, "warehouse", "--sort", "date")
    assert set(titles(by_date)) == set(titles(by_rank))
    dates = [r["published_at"] for r in by_date]
    assert dates == sorted(dates, reverse=True) and dates[-1].startswith("2023-03-01")
    assert all(r["rank"] is None and "**" in r["snippet"] for r in by_date)  # not scored: cheaper


def test_search_json_shape_and_highlighted_snippets(capsys, archive_db: str) -> None:
    results = search(capsys, archive_db, "warehouse")
    expected_keys = {"id", "url", "title", "author", "published_at", "word_count", "platform", "access",
                     "issue_number", "fetched_at", "newsletter", "rank", "snippet"}
    assert all(set(r) == expected_keys for r in results)
    assert all("**" in r["snippet"] and "warehouse" in r["snippet"].lower() for r in results)
    body_match = next(r for r in results if r["title"] == WAREHOUSE)
    assert "**warehouse" in body_match["snippet"].lower()
    # The body of "Warehouse cranes at dawn" never says warehouse: the snippet comes from its title.
    title_only = next(r for r in results if r["title"] == "Warehouse cranes at dawn")
    assert title_only["snippet"] == "**Warehouse** cranes at dawn"


def test_search_filters_newsletter_author_access_and_dates(capsys, archive_db: str) -> None:
    assert titles(search(capsys, archive_db, "warehouse", "--newsletter", "harbour notes")) == [
        "Warehouse cranes at dawn"]
    assert set(titles(search(capsys, archive_db, "warehouse", "--newsletter", "TomTalks"))) == {WAREHOUSE, MAIN_STREET}
    assert titles(search(capsys, archive_db, "warehouse", "--author", "zoë ång")) == ["Warehouse cranes at dawn"]
    assert set(titles(search(capsys, archive_db, "warehouse", "--author", "Popomaronis"))) == {WAREHOUSE, MAIN_STREET}
    assert titles(search(capsys, archive_db, "warehouse", "--access", "paid_preview")) == ["Warehouse cranes at dawn"]
    assert titles(search(capsys, archive_db, "warehouse", "--until", "2023-12-31")) == ["Warehouse cranes at dawn"]
    assert set(titles(search(capsys, archive_db, "warehouse", "--since", "2024-01-01"))) == {WAREHOUSE, MAIN_STREET}
    assert len(search(capsys, archive_db, "warehouse", "--limit", "1")) == 1
    assert search(capsys, archive_db, "warehouse", "--author", "nobody") == []


def test_list_filters_by_author_and_access(capsys, archive_db: str) -> None:
    code, out, err = run(capsys, "list", "--db", archive_db, "--json", "--author", "ann author")
    assert code == 0, err
    assert titles(json.loads(out)) == ["Tides and tonnage", "Warehouse cranes at dawn"]  # newest first
    code, out, _ = run(capsys, "list", "--db", archive_db, "--json", "--author", "tom", "--limit", "100")
    assert len(json.loads(out)) == len(load_issues())
    code, out, _ = run(capsys, "list", "--db", archive_db, "--json", "--access", "paid_preview")
    assert titles(json.loads(out)) == ["Warehouse cranes at dawn"]
    code, out, _ = run(capsys, "list", "--db", archive_db, "--json", "--access", "free", "--newsletter", HARBOUR)
    assert titles(json.loads(out)) == ["Tides and tonnage"]


def test_bad_access_value_is_a_usage_error(capsys, archive_db: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["list", "--db", archive_db, "--access", "premium"])
    assert exit_info.value.code == 2 and "invalid choice: 'premium'" in capsys.readouterr().err


@pytest.mark.sqlite_only
def test_author_filter_ignores_accents(capsys, archive_db: str) -> None:
    assert titles(search(capsys, archive_db, "warehouse", "--author", "zoe angst")) == ["Warehouse cranes at dawn"]


@pytest.mark.sqlite_only
@pytest.mark.parametrize("query", ['"unbalanced', "AND OR", "nosuchcolumn: word", "NEAR(", "warehouse AND", "*"])
def test_unparsable_queries_give_one_clear_line(capsys, archive_db: str, query: str) -> None:
    code, out, err = run(capsys, "search", query, "--db", archive_db)
    assert code == 1 and out == ""
    assert err.startswith(f"tomtalks: error: cannot search for {query!r}")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_empty_query_is_refused(capsys, archive_db: str) -> None:
    code, _, err = run(capsys, "search", "   ", "--db", archive_db)
    assert code == 1 and "the search query is empty" in err


def test_table_output_shows_matches(capsys, archive_db: str) -> None:
    code, out, _ = run(capsys, "search", "warehouse", "--db", archive_db, "--sort", "date")
    assert code == 0
    assert "3 match(es) for 'warehouse'" in out and "Warehouse cranes at dawn" in out and "**" not in out


def test_python_api_search_and_list(archive_db: str) -> None:
    archive = Archive.open(archive_db)
    try:
        hits = archive.search("tides OR cranes", IssueFilter(newsletter=HARBOUR, limit=None), sort="date")
        assert titles(hits) == ["Tides and tonnage", "Warehouse cranes at dawn"]
        with pytest.raises(QueryError, match="unknown sort"):
            archive.search("tides", sort="alphabetical")  # type: ignore[arg-type]
        assert archive.count(IssueFilter(newsletter=HARBOUR, limit=None)) == 2
        assert archive.count() == len(load_issues()) + 2
    finally:
        archive.close()


def test_author_phrase_keeps_only_words() -> None:
    assert author_phrase("Tom Popo") == 'author : "Tom Popo"*'
    assert author_phrase('x" OR body_text:* ') == 'author : "x OR body text"*'
    assert author_phrase("!!!") is None
