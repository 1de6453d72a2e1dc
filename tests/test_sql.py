"""``tomtalks sql``: read-only SQL on a real archive file, as a table, JSON or CSV; writes refused.

SQLite only (its read-only file URI, ``query_only`` and authorizer); on PostgreSQL the command refuses
with a clear error pointing to ``psql`` (last test)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import sqlite3
from pathlib import Path

import pytest

from storage import Archive
from tomtalks_scraper.cli import main

pytestmark = pytest.mark.sqlite_only


def values(title: str, body: str) -> dict:
    return {
        "canonical_url": None, "platform": "generic", "title": title, "author": "Ann Author",
        "authors": ["Ann Author"], "published_at": "2024-06-12T14:00:00Z", "modified_at": None,
        "description": None, "tags": [], "image_url": None, "language": "en", "body_text": body,
        "body_markdown": body, "body_html": f"<p>{body}</p>", "word_count": len(body.split()),
        "content_hash": title, "http_status": 200, "extractor": "test", "extractor_version": "1",
    }


@pytest.fixture
def db(tmp_path: Path) -> str:
    archive = Archive.open(str(tmp_path / "archive.db"), create=True)
    for n, title in enumerate(["First, with a comma", "Second\nwith a newline", "Third"]):
        archive.save_issue(url=f"https://letters.example/p/{n}", newsletter="Letters",
                           newsletter_url="https://letters.example/", raw_html=f"<p>{title}</p>",
                           values=values(title, f"body {n}"))
    archive.close()
    return str(tmp_path / "archive.db")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_json_output_is_a_list_of_objects(capsys, db: str) -> None:
    code, out, err = run(capsys, "sql", "SELECT id, title, word_count FROM issues ORDER BY id", "--db", db, "--json")
    assert code == 0, err
    assert json.loads(out) == [
        {"id": 1, "title": "First, with a comma", "word_count": 2},
        {"id": 2, "title": "Second\nwith a newline", "word_count": 2},
        {"id": 3, "title": "Third", "word_count": 2},
    ]


def test_csv_output_quotes_commas_and_newlines_and_encodes_blobs(capsys, db: str) -> None:
    code, out, _ = run(capsys, "sql", "SELECT title, raw_html_gz, NULL AS empty FROM issues ORDER BY id",
                       "--db", db, "--csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["title", "raw_html_gz", "empty"]
    assert [r[0] for r in rows[1:]] == ["First, with a comma", "Second\nwith a newline", "Third"]
    assert base64.b64decode(rows[1][1])[:2] == b"\x1f\x8b" and rows[1][2] == ""


def test_table_output(capsys, db: str) -> None:
    code, out, _ = run(capsys, "sql", "SELECT count(*) AS n, max(title) AS last FROM issues", "--db", db)
    assert code == 0 and "1 row(s)" in out and " 3 " in out and "Third" in out


def test_full_text_search_works_in_sql(capsys, db: str) -> None:
    code, out, _ = run(capsys, "sql", "SELECT rowid FROM issues_fts WHERE issues_fts MATCH 'third'", "--db", db,
                       "--json")
    assert code == 0 and json.loads(out) == [{"rowid": 3}]


@pytest.mark.parametrize("statement", [
    "DELETE FROM issues",
    "UPDATE issues SET title = 'pwned'",
    "INSERT INTO newsletters (name, platform, created_at) VALUES ('x', 'generic', 'now')",
    "DROP TABLE issues",
    "CREATE TABLE scratch (x)",
    "VACUUM",
])
def test_writes_are_refused_and_the_file_is_unchanged(capsys, db: str, statement: str) -> None:
    before = digest(db)
    code, out, err = run(capsys, "sql", statement, "--db", db)
    assert code == 1 and out == ""
    assert err.startswith("tomtalks: error: the archive is opened read-only") and len(err.splitlines()) == 1
    assert digest(db) == before
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT count(*), min(title) FROM issues").fetchone() == (3, "First, with a comma")


def test_changing_the_journal_mode_fails_and_changes_nothing(capsys, db: str) -> None:
    before = digest(db)
    code, _, err = run(capsys, "sql", "PRAGMA journal_mode = DELETE", "--db", db)
    assert code == 1 and err.startswith("tomtalks: error: ") and digest(db) == before
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


@pytest.mark.parametrize("statement", ["PRAGMA query_only = OFF", "ATTACH DATABASE 'other.db' AS other"])
def test_escapes_from_read_only_are_refused(capsys, db: str, tmp_path: Path, statement: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "sql", statement, "--db", db)
    assert code == 1 and "ATTACH, DETACH and PRAGMA query_only are refused" in err
    assert not (tmp_path / "other.db").exists()


@pytest.mark.parametrize(("statement", "message"), [
    ("SELEKT 1", 'SQL error: near "SELEKT": syntax error'),
    ("SELECT * FROM nowhere", "SQL error: no such table: nowhere"),
    ("SELECT 1; SELECT 2", "SQL error: You can only execute one statement at a time."),
])
def test_sql_errors_are_one_line(capsys, db: str, statement: str, message: str) -> None:
    code, _, err = run(capsys, "sql", statement, "--db", db)
    assert code == 1 and err.strip() == f"tomtalks: error: {message}"


def test_missing_database_is_an_error_and_is_not_created(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "sql", "SELECT 1", "--db", str(tmp_path / "none.db"))
    assert code == 1 and "no database at" in err and not (tmp_path / "none.db").exists()


def test_reads_what_a_live_writer_committed(capsys, db: str) -> None:
    """The crawl may be writing (WAL mode): the read-only connection sees committed rows."""
    writer = Archive.open(db)
    try:
        writer.save_issue(url="https://letters.example/p/live", newsletter="Letters", newsletter_url=None,
                          raw_html=None, values=values("Live one", "fresh body"))
        code, out, err = run(capsys, "sql", "SELECT count(*) AS n FROM issues", "--db", db, "--json")
        assert code == 0, err
        assert json.loads(out) == [{"n": 4}]
    finally:
        writer.close()


def test_on_postgresql_it_is_a_clear_error_not_a_crash(capsys, postgres_url: str) -> None:
    Archive.open(postgres_url, create=True).close()
    code, out, err = run(capsys, "sql", "SELECT count(*) FROM issues", "--db", postgres_url)
    assert code == 1 and out == ""
    assert err.strip() == ("tomtalks: error: tomtalks sql works on SQLite archives; "
                           "use your database's own client for others")
