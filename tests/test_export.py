"""``tomtalks export`` on real archives: Markdown, JSON Lines, CSV and EPUB; safe file names;
filters; and byte-identical output for the same archive."""

from __future__ import annotations

import csv
import hashlib
import html
import json
import re
import zipfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from storage import Archive
from storage.exports.common import slugify, yaml_scalar
from storage.exports.records import FIELDS
from tomtalks_scraper.cli import main
from tomtalks_scraper.demo_site.server import LocalSite
from tomtalks_scraper.demo_site.site import build_site, load_issues

DEMO_COUNT = len(load_issues())


pytestmark = pytest.mark.both_backends  # exports from SQLite and PostgreSQL archives (tests/conftest.py)


@pytest.fixture(scope="module")
def demo_db(module_crawl) -> str:
    """The demo newsletter crawled once through its feed."""
    with LocalSite(build=build_site) as site:
        archive = module_crawl(site.url("/feed.xml"))
        return archive.url.removeprefix("sqlite:///")


def values(title: str | None, body: str = "Some words here.", **overrides: object) -> dict:
    base = {
        "canonical_url": None, "platform": "generic", "title": title, "author": "Ann Author",
        "authors": ["Ann Author"], "published_at": "2024-06-12T14:00:00Z", "modified_at": None,
        "description": None, "tags": ["one", "two"], "image_url": None, "language": "en", "body_text": body,
        "body_markdown": body, "body_html": f"<p>{body}</p>", "word_count": len(body.split()),
        # A real hash's length: PostgreSQL enforces the column's 64 characters, SQLite does not.
        "content_hash": hashlib.sha256(str(title).encode()).hexdigest(),
        "http_status": 200, "extractor": "test", "extractor_version": "1",
    }
    return {**base, **overrides}


def save(archive: Archive, url: str, title: str | None, newsletter: str = "Letters", **overrides: object) -> int:
    return archive.save_issue(url=url, newsletter=newsletter, newsletter_url="https://letters.example/",
                              raw_html=None, values=values(title, **overrides)).issue_id


def export(capsys: pytest.CaptureFixture[str], db: str, fmt: str, out: Path | str,
           *options: str) -> tuple[int, str, str]:
    code = main(["export", "--format", fmt, "--out", str(out), "--db", db, *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def split_front_matter(text: str) -> tuple[dict, str]:
    assert text.startswith("---\n")
    _, front, body = text.split("---\n", 2)
    return yaml.safe_load(front), body


# Markdown ------------------------------------------------------------------------------------------

def test_markdown_one_file_per_issue_with_front_matter(capsys, demo_db: str, tmp_path: Path) -> None:
    code, out, err = export(capsys, demo_db, "markdown", tmp_path / "md")
    assert code == 0 and out == "" and f"exported {DEMO_COUNT} issue(s)" in err
    files = sorted((tmp_path / "md").rglob("*.md"))
    assert len(files) == DEMO_COUNT and {f.parent.name for f in files} == {"tomtalks"}
    netflix = tmp_path / "md" / "tomtalks" / "2024-06-12-the-real-story-behind-netflix-s-900-000-ai-job.md"
    front, body = split_front_matter(netflix.read_text(encoding="utf-8"))
    stored = Archive.open(demo_db)
    try:
        issue = stored.get(front["id"])
    finally:
        stored.close()
    assert front["title"] == "The real story behind Netflix's $900,000 AI job" == issue["title"]
    assert front["authors"] == ["Tom Popomaronis"] and front["newsletter"] == "TomTalks"
    assert front["date"] == "2024-06-12T14:00:00Z" and front["url"] == issue["url"]
    assert front["access"] == "free" and front["tags"] == issue["tags"]
    assert body.strip() == issue["body_markdown"].strip()


def test_markdown_export_is_byte_identical_run_to_run(capsys, demo_db: str, tmp_path: Path) -> None:
    assert export(capsys, demo_db, "markdown", tmp_path / "a")[0] == 0
    assert export(capsys, demo_db, "markdown", tmp_path / "b")[0] == 0
    first, second = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert len(first) == DEMO_COUNT and first == second


HOSTILE_TITLES = [
    "../../etc/passwd", "..", ".", "/etc/passwd", "C:\\Windows\\system32\\drivers", "~/.ssh/authorized_keys",
    "x" * 5000, "日本語のタイトル", "Café déjà vu — naïve façade", "CON", "nul", "   ", None, "a/b\\c\x00d\ne",
    "Same title", "Same title", "SAME TITLE",
]


def test_no_title_can_place_a_file_outside_the_target(capsys, archive: Archive, tmp_path: Path) -> None:
    for n, title in enumerate(HOSTILE_TITLES):
        save(archive, f"https://letters.example/p/{n}", title)
    save(archive, "https://evil.example/p/1", "fine", newsletter="../../outside")
    save(archive, "https://evil.example/p/2", "fine too", newsletter="/abs/path")
    out = tmp_path / "deep" / "out"
    out.parent.mkdir()
    before = {p for p in tmp_path.rglob("*") if out not in p.parents and p != out}
    code, _, err = export(capsys, archive.url.removeprefix("sqlite:///"), "markdown", out)
    assert code == 0, err
    after = {p for p in tmp_path.rglob("*") if out not in p.parents and p != out}
    assert after == before  # nothing written beside the target folder
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) == len(HOSTILE_TITLES) + 2  # duplicates got distinct names, none overwritten
    for path in files:
        assert path.resolve().is_relative_to(out.resolve())
        relative = path.relative_to(out).parts
        assert len(relative) == 2 and all(re.fullmatch(r"[a-z0-9][a-z0-9-]*(\.md)?", part) for part in relative)
        assert len(path.name.encode()) <= 120
    names = {p.name for p in (out / "letters").iterdir()}
    assert "2024-06-12-cafe-deja-vu-naive-facade.md" in names
    assert "2024-06-12-etc-passwd.md" in names and "2024-06-12-issue.md" in names
    assert {p.name for p in out.iterdir()} == {"letters", "outside", "abs-path"}
    assert len({p.name.lower() for p in files}) == len(files)  # distinct even on case-insensitive disks


def test_markdown_keeps_images_and_makes_relative_links_absolute(capsys, archive: Archive, tmp_path: Path) -> None:
    body = ("Intro.\n\n![A chart](/img/chart.png)\n\n![Remote](https://cdn.example/r.jpg)\n\n"
            "See [the archive](../archive/) or [top](#top).\n\n[ref]: /notes")
    save(archive, "https://letters.example/p/images/", "Pictures", body_markdown=body,
         image_url="https://letters.example/cover.jpg")
    assert export(capsys, archive.url.removeprefix("sqlite:///"), "markdown", tmp_path / "md")[0] == 0
    [path] = (tmp_path / "md" / "letters").iterdir()
    front, text = split_front_matter(path.read_text(encoding="utf-8"))
    assert "![A chart](https://letters.example/img/chart.png)" in text
    assert "![Remote](https://cdn.example/r.jpg)" in text
    assert "[the archive](https://letters.example/p/archive/)" in text and "[top](#top)" in text
    assert "[ref]: https://letters.example/notes" in text
    assert front["image"] == "https://letters.example/cover.jpg"


@pytest.mark.parametrize("value", [
    "plain", "with: colon", "- dash", "#hash", "quote \" and \\ backslash", "multi\nline\ttab", "yes", "null",
    "\u2028line sep", "\x85nel", "\ufeffbom", "\x7f\x9fcontrols", "emoji 🎉", "  spaces  ", "",
])
def test_yaml_scalars_read_back_unchanged(value: str) -> None:
    assert yaml.safe_load(f"k: {yaml_scalar(value)}") == {"k": value}
    assert yaml.safe_load(f"k: {yaml_scalar([value, 3, None])}") == {"k": [value, 3, None]}


@given(st.text())
def test_any_text_survives_front_matter(value: str) -> None:
    assert yaml.safe_load(f"k: {yaml_scalar(value)}") == {"k": value}


@given(st.text())
def test_any_title_gives_a_safe_slug(value: str) -> None:
    slug = slugify(value, "fallback")
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) and len(slug) <= 80


def test_slugify_is_safe_and_bounded() -> None:
    assert slugify("../../etc/passwd", "x") == "etc-passwd"
    assert slugify("..", "fallback") == "fallback" and slugify("CON", "fallback") == "fallback"
    assert slugify("Ünïcödé Straße", "x") == "unicode-strae"
    assert len(slugify("word " * 100, "x")) <= 80 and not slugify("word " * 100, "x").endswith("-")


# JSON Lines and CSV ----------------------------------------------------------------------------------

def test_jsonl_one_record_per_issue_with_metadata_and_body(capsys, demo_db: str, tmp_path: Path) -> None:
    target = tmp_path / "issues.jsonl"
    assert export(capsys, demo_db, "jsonl", target)[0] == 0
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert len(records) == DEMO_COUNT and all(tuple(r) == FIELDS for r in records)
    dates = [r["published_at"] for r in records]
    assert dates == sorted(dates)  # oldest first
    netflix = next(r for r in records if "Netflix" in r["title"])
    assert netflix["body_text"].startswith("Welcome to TomTalks") and netflix["authors"] == ["Tom Popomaronis"]
    assert netflix["links"] and {"url", "text"} == set(netflix["links"][0])
    assert "raw_html_gz" not in netflix
    copy = tmp_path / "again.jsonl"
    assert export(capsys, demo_db, "jsonl", copy)[0] == 0
    assert copy.read_bytes() == target.read_bytes()


def test_jsonl_to_standard_output(capsys, demo_db: str) -> None:
    code, out, err = export(capsys, demo_db, "jsonl", "-", "--since", "2024-06-01", "--until", "2024-06-30")
    assert code == 0 and "to standard output" in err
    assert [json.loads(line)["published_at"][:10] for line in out.splitlines()] == [
        "2024-06-05", "2024-06-12", "2024-06-19", "2024-06-26"]


def test_csv_round_trips_bodies_and_lists(capsys, demo_db: str, tmp_path: Path) -> None:
    target = tmp_path / "issues.csv"
    assert export(capsys, demo_db, "csv", target)[0] == 0
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == DEMO_COUNT and tuple(rows[0]) == FIELDS
    jsonl = tmp_path / "issues.jsonl"
    export(capsys, demo_db, "jsonl", jsonl)
    records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    for row, record in zip(rows, records, strict=True):
        assert row["body_text"] == record["body_text"] and "\n" in row["body_text"]
        assert json.loads(row["authors"]) == record["authors"] and json.loads(row["links"]) == record["links"]
        assert row["subtitle"] == (record["subtitle"] or "")
    again = tmp_path / "again.csv"
    export(capsys, demo_db, "csv", again)
    assert again.read_bytes() == target.read_bytes()


def test_export_filters(capsys, archive: Archive, tmp_path: Path) -> None:
    save(archive, "https://letters.example/p/1", "Old", published_at="2023-01-01")
    save(archive, "https://letters.example/p/2", "New", published_at="2024-05-01")
    save(archive, "https://other.example/p/1", "Other", newsletter="Other Letters", published_at="2024-05-02")
    db = archive.url.removeprefix("sqlite:///")

    def exported(*options: str) -> list[str]:
        code, out, err = export(capsys, db, "jsonl", "-", *options)
        assert code == 0, err
        return [json.loads(line)["title"] for line in out.splitlines()]

    assert exported() == ["Old", "New", "Other"]  # by newsletter, then oldest first
    assert exported("--newsletter", "other letters") == ["Other"]
    assert exported("--since", "2024-01-01") == ["New", "Other"]
    assert exported("--until", "2023-12-31") == ["Old"]


# EPUB ----------------------------------------------------------------------------------------------

def read_epub_entries(path: Path) -> tuple[list[zipfile.ZipInfo], dict[str, bytes]]:
    with zipfile.ZipFile(path) as book:
        return book.infolist(), {info.filename: book.read(info) for info in book.infolist()}


def test_epub_book_has_issues_in_date_order_toc_and_metadata(capsys, demo_db: str, tmp_path: Path) -> None:
    target = tmp_path / "tomtalks.epub"
    code, _, err = export(capsys, demo_db, "epub", target, "--newsletter", "TomTalks")
    assert code == 0, err
    infos, files = read_epub_entries(target)
    assert infos[0].filename == "mimetype" and infos[0].compress_type == zipfile.ZIP_STORED
    assert files["mimetype"] == b"application/epub+zip"
    opf = files["EPUB/content.opf"].decode()
    assert "<dc:title>TomTalks</dc:title>" in opf and "<dc:creator" in opf and "Tom Popomaronis" in opf
    assert "<dc:language>en</dc:language>" in opf
    assert re.search(r"<dc:identifier[^>]*>urn:uuid:[0-9a-f-]{36}</dc:identifier>", opf)
    assert '<meta property="dcterms:modified">2024-07-24T14:00:00Z</meta>' in opf  # newest issue, not now
    nav = files["EPUB/nav.xhtml"].decode()
    expected = [issue.title for issue in reversed(load_issues())]  # oldest first
    toc = [html.unescape(t) for t in re.findall(r'<a href="issue-\d{5}\.xhtml">([^<]*)</a>', nav)]
    assert toc == expected
    first = files["EPUB/issue-00001.xhtml"].decode()
    assert expected[0] in html.unescape(first) and "Welcome to TomTalks" in first


def test_epub_is_reproducible_no_timestamps_or_random_ids(capsys, demo_db: str, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert export(capsys, demo_db, "epub", first)[0] == 0
    assert export(capsys, demo_db, "epub", second)[0] == 0
    [book] = list(first.iterdir())
    assert book.name == "tomtalks.epub"
    infos, _ = read_epub_entries(book)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert book.read_bytes() == (second / "tomtalks.epub").read_bytes()


def test_epub_replaces_remote_images_by_links(capsys, archive: Archive, tmp_path: Path) -> None:
    save(archive, "https://letters.example/p/pics/", "Pictures",
         body_html='<p>Look:</p><p><img src="/img/chart.png" alt="A chart"> after</p>')
    assert export(capsys, archive.url.removeprefix("sqlite:///"), "epub", tmp_path / "letters.epub")[0] == 0
    _, files = read_epub_entries(tmp_path / "letters.epub")
    chapter = files["EPUB/issue-00001.xhtml"].decode()
    assert "<img" not in chapter
    assert '<a href="https://letters.example/img/chart.png">[A chart]</a> after' in chapter


def test_epub_one_file_for_several_newsletters_is_refused(capsys, archive: Archive, tmp_path: Path) -> None:
    save(archive, "https://letters.example/p/1", "One")
    save(archive, "https://other.example/p/1", "Two", newsletter="Other")
    code, _, err = export(capsys, archive.url.removeprefix("sqlite:///"), "epub", tmp_path / "all.epub")
    assert code == 1 and "2 newsletters selected" in err and not (tmp_path / "all.epub").exists()
    code, _, err = export(capsys, archive.url.removeprefix("sqlite:///"), "epub", tmp_path / "books")
    assert code == 0 and sorted(p.name for p in (tmp_path / "books").iterdir()) == ["letters.epub", "other.epub"]


# Errors and progress ---------------------------------------------------------------------------------

def test_export_errors_are_one_line(capsys, demo_db: str, tmp_path: Path) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    code, _, err = export(capsys, demo_db, "markdown", a_file)
    assert code == 1 and "is a file" in err and "Traceback" not in err
    code, _, err = export(capsys, demo_db, "csv", tmp_path)
    assert code == 1 and "is a folder" in err
    code, _, err = export(capsys, demo_db, "markdown", "-")
    assert code == 2 and "--out - (standard output) works for jsonl and csv" in err


def test_progress_bar_on_request_and_json_summary(capsys, demo_db: str, tmp_path: Path) -> None:
    code, out, err = export(capsys, demo_db, "jsonl", tmp_path / "x.jsonl", "--progress", "--json")
    assert code == 0
    assert f"{DEMO_COUNT}/{DEMO_COUNT}" in err and "export jsonl" in err  # the bar, drawn on stderr
    summary = json.loads(out)
    assert summary == {"format": "jsonl", "issues": DEMO_COUNT, "files": [str((tmp_path / "x.jsonl").resolve())]}
    code, _, err = export(capsys, demo_db, "jsonl", tmp_path / "y.jsonl")
    assert code == 0 and "/" + str(DEMO_COUNT) not in err  # stderr is not a terminal: no bar


def test_python_api_export_returns_files(demo_db: str, tmp_path: Path) -> None:
    archive = Archive.open(demo_db)
    try:
        ticks: list[int] = []
        files = archive.export("markdown", tmp_path / "md", progress=ticks.append)
    finally:
        archive.close()
    assert len(files) == DEMO_COUNT == sum(ticks) and all(f.suffix == ".md" for f in files)
