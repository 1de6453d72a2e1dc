"""Storage on a real database: identity, in-place updates, FTS sync, rejections, pragmas, migrations.

Runs on SQLite and PostgreSQL (``both_backends``, tests/conftest.py); ``sqlite_only`` tests check SQLite's
own machinery (FTS5 table, pragmas, its files).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage import Archive, DatabaseError, make_engine, resolve_database_url
from storage.db import alembic_config
from storage.queries import IssueFilter, QueryError


def values(body: str, **overrides: object) -> dict:
    base = {
        "canonical_url": None, "platform": "generic", "title": "An issue", "author": "Ann Author",
        "authors": ["Ann Author"], "published_at": "2024-06-12T14:00:00Z", "modified_at": None,
        "description": None, "tags": [], "image_url": None, "language": "en", "body_text": body,
        "body_markdown": body, "body_html": f"<p>{body}</p>", "word_count": len(body.split()),
        "content_hash": str(abs(hash(body))), "http_status": 200, "extractor": "test", "extractor_version": "1",
    }
    return {**base, **overrides}


pytestmark = pytest.mark.both_backends


@pytest.fixture
def archive(database_url: str, tmp_path: Path) -> Archive:
    # SQLite: in a folder that does not exist yet, which opening for writing creates.
    url = str(tmp_path / "nested" / "archive.db") if database_url.startswith("sqlite") else database_url
    opened = Archive.open(url, create=True)
    yield opened
    opened.close()


def save(archive: Archive, url: str, body: str, **overrides: object):
    return archive.save_issue(url=url, newsletter="Letters", newsletter_url="https://letters.example/",
                              raw_html=f"<html><body><p>{body}</p></body></html>", values=values(body, **overrides))


def fts_rows(archive: Archive, query: str) -> list[int]:
    with archive.engine.connect() as connection:
        return [r[0] for r in connection.execute(text("SELECT rowid FROM issues_fts WHERE issues_fts MATCH :q"),
                                                 {"q": query})]


def test_same_url_twice_is_one_row_updated_in_place(archive: Archive) -> None:
    first = save(archive, "https://letters.example/p/one", "original wording about lighthouses")
    again = save(archive, "https://letters.example/p/one", "original wording about lighthouses")
    edited = save(archive, "https://letters.example/p/one", "edited wording about harbours")
    assert (first.created, again.created, edited.created) == (True, False, False)
    assert (first.changed, again.changed, edited.changed) == (True, False, True)
    assert first.issue_id == again.issue_id == edited.issue_id
    assert [i["id"] for i in archive.list()] == [first.issue_id]
    assert archive.get(first.issue_id)["body_text"] == "edited wording about harbours"


@pytest.mark.sqlite_only
def test_fts_index_follows_updates_and_deletes(archive: Archive) -> None:
    issue = save(archive, "https://letters.example/p/one", "lighthouses at dusk").issue_id
    assert fts_rows(archive, "lighthouses") == [issue]
    save(archive, "https://letters.example/p/one", "harbours at dawn")
    assert fts_rows(archive, "lighthouses") == [] and fts_rows(archive, "harbours") == [issue]
    with archive.engine.begin() as connection:
        connection.execute(text("DELETE FROM issues WHERE id = :id"), {"id": issue})
    assert fts_rows(archive, "harbours") == []
    with archive.engine.connect() as connection:
        # FTS5's own consistency check against the issues table: raises if the index drifted.
        connection.execute(text("INSERT INTO issues_fts(issues_fts, rank) VALUES ('integrity-check', 1)"))


def test_same_host_canonical_url_identifies_the_issue(archive: Archive) -> None:
    first = save(archive, "https://letters.example/p/one?ref=feed", "same issue",
                 canonical_url="https://letters.example/p/one")
    second = save(archive, "https://letters.example/p/one", "same issue",
                  canonical_url="https://letters.example/p/one")
    assert first.issue_id == second.issue_id
    assert archive.get("https://letters.example/p/one")["id"] == first.issue_id


def test_canonical_url_on_another_host_never_merges_a_copy_into_the_original(archive: Archive) -> None:
    original = save(archive, "https://letters.example/p/one", "the original text")
    copy = save(archive, "https://farm.example/copied", "the original text",
                canonical_url="https://letters.example/p/one")
    assert copy.created and copy.issue_id != original.issue_id
    assert archive.get(original.issue_id)["url"] == "https://letters.example/p/one"


def test_rejections_count_attempts_and_clear_once_stored(archive: Archive) -> None:
    for _ in range(3):
        archive.record_rejection(url="https://letters.example/p/late", reason="http_503", detail="busy",
                                 http_status=503, newsletter="Letters")
    with archive.engine.connect() as connection:
        row = connection.execute(text("SELECT reason, attempts, http_status FROM rejected_pages")).one()
    assert tuple(row) == ("http_503", 3, 503)
    save(archive, "https://letters.example/p/late", "finally here")
    with archive.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM rejected_pages")).scalar() == 0


def test_search_filters_and_errors(archive: Archive) -> None:
    save(archive, "https://letters.example/p/a", "tides and lighthouses", published_at="2024-01-10T08:00:00Z")
    save(archive, "https://letters.example/p/b", "lighthouses only", published_at="2024-03-01")
    assert len(archive.search("lighthouses")) == 2
    assert [r["url"] for r in archive.search("lighthouses", IssueFilter(since="2024-02-01"))] == [
        "https://letters.example/p/b"]
    assert [r["url"] for r in archive.search("lighthouses", IssueFilter(until="2024-01-10"))] == [
        "https://letters.example/p/a"]
    assert [r["url"] for r in archive.search("lighthouse*")] != []
    with pytest.raises(QueryError, match="empty"):
        archive.search("   ")


@pytest.mark.sqlite_only
def test_fts5_syntax_errors_are_query_errors(archive: Archive) -> None:
    save(archive, "https://letters.example/p/a", "tides and lighthouses")
    with pytest.raises(QueryError, match="cannot search"):
        archive.search("AND OR")


def test_raw_html_is_kept_compressed(archive: Archive) -> None:
    issue = save(archive, "https://letters.example/p/raw", "keep the page").issue_id
    assert archive.get(issue, with_raw_html=True)["raw_html"] == "<html><body><p>keep the page</p></body></html>"
    with archive.engine.connect() as connection:
        blob = connection.execute(text("SELECT raw_html_gz FROM issues")).scalar()
    assert blob[:2] == b"\x1f\x8b"


def test_raw_pages_are_gzip_any_reader_opens_written_by_isa_l() -> None:
    """The stored page stays plain gzip (sqlite3 users pipe it to ``gunzip``), the same bytes every time,
    and is written by ISA-L, the declared dependency that makes it five times cheaper than zlib."""
    import gzip as standard_gzip

    from storage import writes

    page = "<html><body>" + "".join(f"<p>Paragraph {i}: caf\u00e9 \u2014 na\u00efve</p>" for i in range(3000))
    blob = writes.compress_html(page)
    assert standard_gzip.decompress(blob).decode("utf-8") == page == writes.decompress_html(blob)
    assert writes.compress_html(page) == blob == writes.compress_html(page.encode("utf-8"))  # the text or its UTF-8
    assert len(blob) < len(page.encode("utf-8")) / 10
    assert writes.gzip.__name__ == "isal.igzip"


@pytest.mark.sqlite_only
def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_the_latest_migration(archive: Archive,
                                                                             tmp_path: Path) -> None:
    with archive.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    head = ScriptDirectory.from_config(alembic_config(archive.engine)).get_current_head()
    with sqlite3.connect(tmp_path / "nested" / "archive.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]


@pytest.mark.sqlite_only
def test_connections_opening_a_new_file_at_once_all_get_wal(tmp_path: Path) -> None:
    """Two crawl workers started together on a new archive: switching a new file to WAL made one of them
    fail with "database is locked" (SQLite skips the busy timeout when two readers both want to write).
    Six connections at a barrier, 300 new files: before the fix about one file in ten failed."""
    failures: list[str] = []

    def open_one(url: str, barrier: threading.Barrier) -> None:
        barrier.wait()
        try:
            engine = make_engine(url, migrate=False)
            with engine.connect() as connection:
                assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            engine.dispose()
        except Exception as error:  # noqa: BLE001 - collected and reported below
            failures.append(f"{url}: {error}")

    for round_ in range(300):
        url, barrier = f"sqlite:///{tmp_path}/new-{round_}.db", threading.Barrier(6)
        threads = [threading.Thread(target=open_one, args=(url, barrier)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not failures, failures[:3]


@pytest.mark.sqlite_only
def test_an_archive_made_by_the_first_schema_is_upgraded_without_losing_issues(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url, migrate=False)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(text("INSERT INTO newsletters (name, platform, created_at) VALUES ('Old', 'generic', 'x')"))
        connection.execute(text(
            "INSERT INTO issues (newsletter_id, url, platform, authors, tags, body_text, body_markdown, body_html,"
            " word_count, content_hash, extractor, extractor_version, fetched_at, first_seen_at, title)"
            " VALUES (1, 'https://old.example/1', 'generic', '[]', '[]', 'kept words here', '', '', 3, 'h', 'e',"
            " 'v', 'x', 'x', 'Old issue')"))
    engine.dispose()
    archive = Archive.open(url)
    try:
        [issue] = archive.list()
        assert issue["title"] == "Old issue" and issue["access"] == "free"
        assert [r["url"] for r in archive.search("kept")] == ["https://old.example/1"]
    finally:
        archive.close()


def test_readers_do_not_create_missing_databases(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="no database at"):
        Archive.open(str(tmp_path / "absent.db"))
    assert not (tmp_path / "absent.db").exists()


def test_database_url_resolution_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOMTALKS_DATABASE_URL", raising=False)
    assert resolve_database_url() == "sqlite:///data/newsletters.db"
    monkeypatch.setenv("TOMTALKS_DATABASE_URL", "sqlite:////tmp/env.db")
    assert resolve_database_url() == "sqlite:////tmp/env.db"
    assert resolve_database_url(setting="sqlite:////tmp/setting.db") == "sqlite:////tmp/setting.db"
    assert resolve_database_url("my.db", setting="sqlite:////tmp/setting.db") == "sqlite:///my.db"


def test_unusable_database_url_is_a_clear_error() -> None:
    with pytest.raises(DatabaseError, match="cannot open database 'nosuchdialect"):
        Archive.open("nosuchdialect+driver://x")


def test_a_paywalled_preview_never_replaces_a_full_body(archive: Archive) -> None:
    full = "the whole issue " * 50
    issue = save(archive, "https://letters.example/p/paid", full, access="paid_full", title="Paid issue").issue_id
    preview = save(archive, "https://letters.example/p/paid", "the whole issue, cut short", access="paid_preview",
                   title="Paid issue (renamed)")
    stored = archive.get(issue)
    assert not preview.changed
    assert stored["body_text"] == full and stored["access"] == "paid_full"
    assert stored["title"] == "Paid issue (renamed)"  # metadata still follows the page


def test_body_links_are_stored_in_order_and_replaced_on_update(archive: Archive) -> None:
    url = "https://letters.example/p/links"
    archive.save_issue(url=url, newsletter="Letters", newsletter_url=None, raw_html=None,
                       values=values("two links"), links=[("https://a.example/", "A"), ("https://b.example/", "B")])
    assert [(x["position"], x["url"], x["text"]) for x in archive.get(url)["links"]] == [
        (0, "https://a.example/", "A"), (1, "https://b.example/", "B")]
    archive.save_issue(url=url, newsletter="Letters", newsletter_url=None, raw_html=None,
                       values=values("one link"), links=[("https://c.example/", "C")])
    assert [x["url"] for x in archive.get(url)["links"]] == ["https://c.example/"]


def test_crawl_state_keeps_validators_counts_failures_and_moves_the_change_time(archive: Archive) -> None:
    """A page's crawl state over the checks of several runs, as the crawl records them (one upsert each)."""
    from storage.recorder import CrawlRecorder, record_failure, record_unchanged, save_issue

    url = "https://letters.example/p/state"
    recorder = CrawlRecorder(archive.engine)

    def state() -> dict:
        with archive.engine.connect() as connection:
            return dict(connection.execute(text("SELECT * FROM crawl_state WHERE url = :url"), {"url": url})
                        .mappings().one())

    def store(body: str, **check: object) -> None:
        recorder.run(lambda session: save_issue(
            session, url=url, newsletter="Letters", newsletter_url=None, raw_html=None, values=values(body),
            links=None, check={"http_status": 200, **check}))

    store("first wording", etag='"v1"', last_modified="Mon, 01 Jan 2024 00:00:00 GMT", page_hash="h1",
          listed_date="2024-01-01T00:00:00Z", published_at="2024-01-01T00:00:00Z")
    first = state()
    assert (first["status"], first["etag"], first["failure_count"], first["last_error"]) == ("stored", '"v1"', 0, None)
    assert first["newsletter"] == "Letters" and first["issue_id"] is not None
    assert first["last_changed_at"] == first["first_seen_at"] == first["last_checked_at"]

    recorder.run(lambda session: record_unchanged(session, url=url, newsletter=None, check={"http_status": 304}))
    unchanged = state()
    assert (unchanged["status"], unchanged["http_status"], unchanged["etag"], unchanged["page_hash"]) == (
        "unchanged", 304, '"v1"', "h1")  # a 304 brings no validators: the stored ones stay
    assert unchanged["newsletter"] == "Letters" and unchanged["issue_id"] == first["issue_id"]
    assert unchanged["last_changed_at"] == first["last_changed_at"]

    for attempt in (1, 2):
        recorder.run(lambda session: record_failure(session, url=url, reason="http_503", detail="busy",
                                                    http_status=503, newsletter="Letters"))
        failed = state()
        assert (failed["status"], failed["failure_count"]) == ("failed", attempt)
        assert failed["last_error"] == "http_503: busy"
    assert failed["etag"] == '"v1"' and failed["first_seen_at"] == first["first_seen_at"]

    store("second wording", etag='"v2"')
    again = state()
    assert (again["status"], again["etag"], again["failure_count"], again["last_error"]) == ("stored", '"v2"', 0, None)
    assert again["last_changed_at"] == again["last_checked_at"] >= failed["last_checked_at"]
    assert again["page_hash"] == "h1" and again["listed_date"] == "2024-01-01T00:00:00Z"

    recorder.run(lambda session: record_failure(session, url=url, reason="http_404", detail="gone", http_status=404,
                                                newsletter="Letters"))
    gone = state()
    assert (gone["status"], gone["http_status"], gone["failure_count"], gone["etag"]) == ("gone", 404, 0, '"v2"')
    with archive.engine.connect() as connection:
        assert connection.execute(text("SELECT gone_at FROM issues WHERE url = :url"), {"url": url}).scalar()


def test_one_batch_storing_a_url_twice_after_its_failure_keeps_one_row_with_the_last_links(archive: Archive) -> None:
    """The crawl's writer commits several writes in one transaction: a failure, then the page, then the page
    again with other links (a re-crawl in the same batch) must leave what three transactions would."""
    from storage.recorder import CrawlRecorder, record_failure, save_issue

    url = "https://letters.example/p/twice"
    recorder = CrawlRecorder(archive.engine)

    def store(body: str, links: list[tuple[str, str]]):
        return lambda session: save_issue(
            session, url=url, newsletter="Letters", newsletter_url="https://letters.example/",
            raw_html=f"<html><body><p>{body}</p></body></html>", values=values(body), links=links,
            check={"http_status": 200})

    results = recorder.run_batch([
        lambda session: record_failure(session, url=url, reason="http_503", detail="busy", http_status=503,
                                       newsletter="Letters"),
        store("first wording of the issue", [("https://a.example/", "A"), ("https://b.example/", "B")]),
        store("second wording of the issue", [("https://c.example/", "C")]),
    ])
    assert not any(isinstance(result, Exception) for result in results), results
    first, second = results[1], results[2]
    assert first.created and not second.created and second.changed and first.issue_id == second.issue_id
    stored = archive.get(url)
    assert [x["url"] for x in stored["links"]] == ["https://c.example/"]
    assert stored["body_text"] == "second wording of the issue"
    with archive.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM rejected_pages")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM issue_revisions")).scalar() == 1
        assert connection.execute(text("SELECT status, failure_count FROM crawl_state")).one() == ("stored", 0)


def test_a_new_issue_row_holds_the_column_defaults_its_orm_object_reports(archive: Archive) -> None:
    """``insert_or_get`` makes the ORM object from the values it wrote (no read back): the defaults it fills in
    must be the ones stored."""
    from sqlalchemy.orm import Session

    from storage.models import Issue, Newsletter
    from storage.upsert import insert_or_get

    with Session(archive.engine) as session, session.begin():
        newsletter, created = insert_or_get(session, Newsletter, {"name": "Defaults"}, {"home_url": None})
        assert created and newsletter.id is not None
        issue, created = insert_or_get(session, Issue, {"url": "https://letters.example/p/defaults"}, {
            "newsletter_id": newsletter.id, "content_hash": "h", "extractor": "test", "extractor_version": "1"})
        assert created
        reported = {column.key: getattr(issue, column.key) for column in Issue.__table__.columns}
        again, created = insert_or_get(session, Issue, {"url": "https://letters.example/p/defaults"}, {
            "newsletter_id": newsletter.id, "content_hash": "other", "extractor": "x", "extractor_version": "2"})
        assert again is issue and not created
        issue_id = issue.id
    with Session(archive.engine) as session:
        stored = session.get(Issue, issue_id)
        assert {column.key: getattr(stored, column.key) for column in Issue.__table__.columns} == reported
    assert reported["platform"] == "generic" and reported["authors"] == [] and reported["access"] == "free"
    assert reported["word_count"] == 0 and reported["body_text"] == "" and reported["first_seen_at"]


def test_without_isal_raw_pages_are_gzipped_by_the_standard_library() -> None:
    """Where python-isal has no wheel it is not installed (pyproject's marker): the store still writes gzip."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['isal'] = None\n"
            "import gzip\nfrom storage import writes\n"
            "blob = writes.compress_html('<p>caf\\u00e9</p>' * 1000)\n"
            "assert writes.gzip is gzip and gzip.decompress(blob).decode() == '<p>caf\\u00e9</p>' * 1000\n"
            "assert writes.decompress_html(blob) == '<p>caf\\u00e9</p>' * 1000\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
