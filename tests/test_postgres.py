"""The PostgreSQL backend: schema through the same migrations, its own full-text index, concurrent writers.

Runs against a private PostgreSQL cluster started by ``tests/conftest.py`` (or ``$TOMTALKS_TEST_POSTGRES_URL``);
skipped with the reason when neither is available. Tests that hold for both backends use ``database_url``
and run on each (this module is ``both_backends``).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from test_storage import values as storage_values

from storage import Archive
from storage.db import alembic_config
from storage.migrations import HEAD_REVISION
from storage.queries import IssueFilter

pytestmark = pytest.mark.both_backends
REPO = Path(__file__).resolve().parents[1]


def values(title: str, body: str, **overrides: object) -> dict:
    return storage_values(body, title=title, **overrides)


def test_head_revision_constant_is_the_head_of_the_migration_scripts(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert ScriptDirectory.from_config(alembic_config(engine)).get_current_head() == HEAD_REVISION


def test_opening_a_current_archive_does_not_import_alembic(database_url: str) -> None:
    Archive.open(database_url, create=True).close()  # migrated here
    probe = ("import sys; from storage.recorder import CrawlRecorder; CrawlRecorder.open(sys.argv[1]).close(); "
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))")
    done = subprocess.run([sys.executable, "-c", probe, database_url], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_new_database_is_migrated_by_whoever_opens_it_first(database_url: str) -> None:
    archive = Archive.open(database_url, create=True)
    try:
        with archive.engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION
    finally:
        archive.close()


def test_pages_that_all_declare_the_home_page_canonical_stay_separate_issues(archive: Archive) -> None:
    """A site whose every page says ``<link rel=canonical href="/">`` (or the listing): one row per page."""
    home = "https://letters.example/"
    bodies = ["Cranes lift containers at dawn while gulls circle over the quay and the night shift ends.",
              "The harbour master counts tonnage and tides every morning before the pilots board.",
              "A lighthouse keeper writes about fog, foghorns and the ships that never arrived."]
    for n, canonical in enumerate([home, "https://letters.example", "https://letters.example/archive/"]):
        archive.save_issue(
            url=f"https://letters.example/p/issue-{n}", newsletter="Letters",
            newsletter_url="https://letters.example/archive", raw_html=None,
            values=values(f"Issue {n}", bodies[n], canonical_url=canonical),
        )
    rows = archive.list(IssueFilter(limit=None))
    assert sorted(row["url"] for row in rows) == [f"https://letters.example/p/issue-{n}" for n in range(3)]
    # The home page crawled as a page of its own is a fourth row, not an overwrite of the first issue.
    archive.save_issue(url=home, newsletter="Letters", newsletter_url=None, raw_html=None,
                       values=values("Home", "Welcome to Letters, a newsletter about harbours.", canonical_url=home))
    assert len(archive.list(IssueFilter(limit=None))) == 4
    assert archive.get("https://letters.example/p/issue-0")["title"] == "Issue 0"


def test_a_same_host_canonical_permalink_still_identifies_the_issue(archive: Archive) -> None:
    first = archive.save_issue(url="https://letters.example/feed/item/7", newsletter="Letters",
                               newsletter_url="https://letters.example/", raw_html=None,
                               values=values("Seven", "Body seven.", canonical_url="https://letters.example/p/seven"))
    again = archive.save_issue(url="https://letters.example/p/seven", newsletter="Letters",
                               newsletter_url="https://letters.example/", raw_html=None,
                               values=values("Seven", "Body seven.", canonical_url="https://letters.example/p/seven"))
    assert again.issue_id == first.issue_id and not again.created


def test_postgres_schema_has_the_search_vector_and_64_bit_hashes(postgres_url: str) -> None:
    Archive.open(postgres_url, create=True).close()
    engine = create_engine(postgres_url)
    try:
        schema = inspect(engine)
        columns = {column["name"]: str(column["type"]) for column in schema.get_columns("issues")}
        assert columns["search_vector"] == "TSVECTOR"
        assert "ix_issues_search_vector" in {index["name"] for index in schema.get_indexes("issues")}
        with engine.connect() as connection:
            method = connection.execute(text(
                "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam "
                "WHERE c.relname = 'ix_issues_search_vector'")).scalar()
        assert method == "gin"
        assert {c["name"]: str(c["type"]) for c in schema.get_columns("issue_lines")}["line_hash"] == "BIGINT"
        assert {c["name"]: str(c["type"]) for c in schema.get_columns("fingerprint_bands")}["band_key"] == "BIGINT"
    finally:
        engine.dispose()


def test_postgres_search_uses_websearch_syntax_ranks_title_first_and_highlights(postgres_url: str) -> None:
    archive = Archive.open(postgres_url, create=True)
    try:
        for n, (title, body, day) in enumerate([
            ("Lighthouse keepers", "Notes from the coast about fog and ships.", "2024-01-01"),
            ("Harbour cranes", "The lighthouse blinks while cranes lift containers off the ships.", "2024-03-01"),
            ("Tonnage", "Counting tonnage and tides each morning at the quay.", "2024-02-01"),
        ]):
            archive.save_issue(url=f"https://letters.example/p/{n}", newsletter="Letters",
                               newsletter_url="https://letters.example/", raw_html=None,
                               values=values(title, body, published_at=day))
        hits = archive.search("lighthouses")  # stemmed: lighthouses ~ lighthouse
        assert [hit["title"] for hit in hits] == ["Lighthouse keepers", "Harbour cranes"]  # title match first
        assert hits[0]["rank"] < hits[1]["rank"] < 0  # as on SQLite: lower is better
        assert "**lighthouse**" in hits[1]["snippet"]
        assert "**Lighthouse**" in hits[0]["snippet"]  # no body match: the title's extract
        assert [h["title"] for h in archive.search("ships -cranes")] == ["Lighthouse keepers"]
        assert [h["title"] for h in archive.search('"lift containers"')] == ["Harbour cranes"]
        by_date = archive.search("ships or tides", sort="date")
        assert [h["title"] for h in by_date] == ["Harbour cranes", "Tonnage", "Lighthouse keepers"]
        assert {h["rank"] for h in by_date} == {None}
        assert archive.search("(unbalanced AND") == []  # websearch syntax never fails
        assert [h["title"] for h in archive.search("ships", IssueFilter(since="2024-02-01"))] == ["Harbour cranes"]
    finally:
        archive.close()


CONCURRENT_WRITER = """
import sys, time
from storage.recorder import CrawlRecorder
url, worker, start_at = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
recorder = CrawlRecorder.open(url)
time.sleep(max(0.0, start_at - time.time()))  # both writers start together, whatever their import times
for n in range(40):
    body = f"Issue {n}: the harbour log for day {n}, cranes {n * 3} and tides {n * 5}. " * 4
    values = {"canonical_url": None, "platform": "generic", "title": f"Issue {n}", "author": "Ann Author",
              "authors": ["Ann Author"], "published_at": "2024-06-12T14:00:00Z", "modified_at": None,
              "description": None, "tags": [], "image_url": None, "language": "en", "body_text": body,
              "body_markdown": body, "body_html": "<p>" + body + "</p>", "word_count": 60,
              "content_hash": f"hash-{n}-{worker}", "http_status": 200, "extractor": "test", "extractor_version": "1"}
    recorder.save_issue(url=f"https://letters.example/p/{n}", newsletter="Letters",
                        newsletter_url="https://letters.example/", raw_html="<p>" + body + "</p>", values=values,
                        links=[("https://example.org/a", "a"), ("https://example.org/b", "b")],
                        check={"etag": f"w{worker}"})
    recorder.record_failure(url=f"https://letters.example/broken/{n}", reason="http_error", detail="HTTP 500",
                            http_status=500, newsletter="Letters")
recorder.close()
print("done")
"""


def _run_together(script: str, url: str, count: int = 2) -> None:
    """``script`` in ``count`` processes that start its work at the same instant; each must print "done"."""
    start_at = str(time.time() + 8)
    workers = [subprocess.Popen([sys.executable, "-c", script, url, str(n), start_at], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(1, count + 1)]
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0 and out.strip() == "done", err[-2000:]


CONCURRENT_OPEN = """
import sys, time
from storage.db import make_engine
url, start_at = sys.argv[1], float(sys.argv[3])
time.sleep(max(0.0, start_at - time.time()))
make_engine(url).dispose()
print("done")
"""


def test_workers_opening_a_new_database_together_migrate_it_once(postgres_url: str) -> None:
    _run_together(CONCURRENT_OPEN, postgres_url, count=3)
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == [(HEAD_REVISION,)]
    finally:
        engine.dispose()


def test_two_processes_upserting_the_same_issues_leave_one_row_each(postgres_url: str) -> None:
    Archive.open(postgres_url, create=True).close()  # migrated once, as `tomtalks crawl` does before its workers
    _run_together(CONCURRENT_WRITER, postgres_url)
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            def count(sql: str) -> list:
                return connection.execute(text(sql)).all()

            assert count("SELECT count(*), count(DISTINCT url) FROM issues") == [(40, 40)]
            assert count("SELECT count(*) FROM newsletters") == [(1,)]
            assert count("SELECT count(*), count(DISTINCT url) FROM crawl_state") == [(80, 80)]
            assert count("SELECT count(*), sum(attempts) FROM rejected_pages") == [(40, 80)]
            assert count("SELECT count(*) FROM issue_links") == [(80,)]
            assert count("SELECT count(DISTINCT url) = count(*) FROM issue_aliases") == [(True,)]
    finally:
        engine.dispose()
