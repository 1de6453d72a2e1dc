"""The ``tomtalks`` command on a crawled archive: human and JSON output, filters, and clear errors."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tomtalks_scraper.cli import main
from tomtalks_scraper.demo_site.server import LocalSite
from tomtalks_scraper.demo_site.site import build_site, load_issues

pytestmark = pytest.mark.both_backends  # the archive commands on SQLite and PostgreSQL (tests/conftest.py)


@pytest.fixture(scope="module")
def archive_db(module_crawl) -> str:
    """The demo newsletter crawled once through its feed (as a user would: scrapy crawl … feed.xml)."""
    with LocalSite(build=build_site) as site:
        archive = module_crawl(site.url("/feed.xml"))
        return archive.url.removeprefix("sqlite:///")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


SUMMARY_KEYS = {"id", "url", "title", "author", "published_at", "newsletter", "word_count"}


def test_list_json_is_newest_first_with_summary_fields(capsys, archive_db: str) -> None:
    issues = run_json(capsys, "list", "--db", archive_db)
    assert len(issues) == len(load_issues())
    assert SUMMARY_KEYS <= set(issues[0])
    assert issues[0]["title"] == load_issues()[0].title  # load_issues is newest first
    dates = [i["published_at"] for i in issues]
    assert dates == sorted(dates, reverse=True)


def test_list_filters_by_dates_newsletter_and_limit(capsys, archive_db: str) -> None:
    june = run_json(capsys, "list", "--db", archive_db, "--since", "2024-06-01", "--until", "2024-06-30")
    assert sorted(i["published_at"][:10] for i in june) == ["2024-06-05", "2024-06-12", "2024-06-19", "2024-06-26"]
    assert run_json(capsys, "list", "--db", archive_db, "--newsletter", "tomtalks", "--limit", "2").__len__() == 2
    assert run_json(capsys, "list", "--db", archive_db, "--newsletter", "Nope") == []


def test_list_table_shows_titles(capsys, archive_db: str) -> None:
    code, out, _ = run(capsys, "list", "--db", archive_db)
    assert code == 0
    assert "The real story behind Netflix's $900,000 AI job" in out and "Tom Popomaronis" in out


def test_show_by_id_and_url_in_each_format(capsys, archive_db: str) -> None:
    netflix = [i for i in run_json(capsys, "list", "--db", archive_db) if "Netflix" in i["title"]][0]
    by_id = run_json(capsys, "show", str(netflix["id"]), "--db", archive_db)
    by_url = run_json(capsys, "show", netflix["url"], "--db", archive_db)
    assert by_id == by_url
    assert by_id["body_text"].startswith("Welcome to TomTalks, where #AInews meets #innovationPOV.")
    assert "[TomTalks](https://www.linkedin.com/newsletters/tomtalks)" in by_id["body_markdown"]
    _, markdown, _ = run(capsys, "show", str(netflix["id"]), "--db", archive_db)
    _, text, _ = run(capsys, "show", str(netflix["id"]), "--db", archive_db, "--format", "text")
    _, html, _ = run(capsys, "show", str(netflix["id"]), "--db", archive_db, "--format", "html")
    assert "](https://www.linkedin.com/newsletters/tomtalks)" in markdown
    assert "Welcome to TomTalks, where #AInews" in text and "](" not in text
    assert '<a href="https://www.linkedin.com/newsletters/tomtalks"' in html


def test_search_ranks_and_highlights(capsys, archive_db: str) -> None:
    results = run_json(capsys, "search", "warehouse", "--db", archive_db)
    assert len(results) == 2
    assert results[0]["title"] == "The warehouse is AI's toughest proving ground"  # in the title: ranks first
    assert all("**warehouse" in r["snippet"].lower() for r in results)
    assert SUMMARY_KEYS <= set(results[0])
    assert [r["title"] for r in run_json(capsys, "search", "quantization", "--db", archive_db)] == [
        "Open-source models just got small enough to matter"
    ]
    phrase = run_json(capsys, "search", '"Every act of creation"', "--db", archive_db)
    assert [r["title"] for r in phrase] == ["The real story behind Netflix's $900,000 AI job"]
    assert run_json(capsys, "search", "warehouse", "--db", archive_db, "--until", "2024-06-30").__len__() == 1


@pytest.mark.sqlite_only  # FTS5 syntax; PostgreSQL's websearch syntax accepts any text
def test_search_syntax_error_is_one_clear_line(capsys, archive_db: str) -> None:
    code, out, err = run(capsys, "search", '"unbalanced', "--db", archive_db)
    assert code == 1 and out == ""
    assert err.startswith("tomtalks: error: cannot search for") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_stats_per_newsletter(capsys, archive_db: str) -> None:
    [stats] = run_json(capsys, "stats", "--db", archive_db)
    issues = run_json(capsys, "list", "--db", archive_db)
    assert stats["newsletter"] == "TomTalks" and stats["issues"] == len(issues)
    assert stats["words"] == sum(i["word_count"] for i in issues)
    assert stats["first_published"].startswith("2024-05-01") and stats["last_published"].startswith("2024-07-24")
    assert stats["last_crawl"] is not None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["list", "--db", "/nonexistent/archive.db"], "no database at /nonexistent/archive.db"),
        (["show", "424242"], "no issue '424242'"),
        (["show", "https://example.com/not-stored"], "no issue 'https://example.com/not-stored'"),
    ],
)
def test_errors_are_one_line_and_non_zero(capsys, archive_db: str, argv: list[str], message: str) -> None:
    if "--db" not in argv:
        argv = [*argv, "--db", archive_db]
    code, _, err = run(capsys, *argv)
    assert code == 1
    assert message in err and "Traceback" not in err


def test_bad_date_is_a_usage_error(capsys, archive_db: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["list", "--db", archive_db, "--since", "last tuesday"])
    assert exit_info.value.code == 2
    assert "bad date 'last tuesday'" in capsys.readouterr().err


def test_extract_saved_pages_without_a_database(capsys, tmp_path: Path) -> None:
    site = build_site("http://127.0.0.1:8000")
    first = tmp_path / "netflix.html"
    first.write_bytes(site["/issues/netflix-900000-ai-job/"].body)
    second = tmp_path / "homework.html.gz"
    second.write_bytes(gzip.compress(site["/issues/homework-is-dead/"].body))
    one = run_json(capsys, "extract", str(first), "--url", "http://127.0.0.1:8000/issues/netflix-900000-ai-job/")
    assert one["title"] == "The real story behind Netflix's $900,000 AI job"
    assert one["published_at"] == "2024-06-12T14:00:00Z"
    assert {"body_text", "body_markdown", "word_count", "content_hash"} <= set(one)
    code, out, _ = run(capsys, "extract", str(first), str(second), "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [line["title"] for line in lines] == [
        "The real story behind Netflix's $900,000 AI job", "Homework is dead, long live learning"]
    assert not (tmp_path / "data").exists()


def test_extract_missing_file_is_a_clear_error(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "extract", str(tmp_path / "missing.html"))
    assert code == 1 and "cannot read" in err and "missing.html" in err


def test_demo_crawls_the_bundled_newsletter_offline(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TOMTALKS_DATABASE_URL"}
    result = subprocess.run([sys.executable, "-m", "tomtalks_scraper.cli", "demo"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr
    assert f"{len(load_issues())} issues stored" in result.stdout
    assert "The real story behind Netflix's $900,000 AI job" in result.stdout
    assert str(tmp_path / "data" / "demo.db") in result.stdout
    assert (tmp_path / "data" / "demo.db").exists()
