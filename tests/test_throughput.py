"""Throughput machinery: the extraction pool, batched writes, memory figures, per-site concurrency,
and the extraction shortcuts that must give exactly what the long way gives.

Real crawls (``scrapy crawl`` subprocesses against local sites), no mocks. The crash test uses the
worker's test hook (``pipelines/worker.py``: an environment variable naming a URL on which a worker
process exits with ``os._exit``, as a segfault would end it).
"""

from __future__ import annotations

import gzip
import os
import re
import sqlite3
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest
import trafilatura
from lxml import html as lxml_html
from trafilatura.metadata import extract_metadata

from pipelines.memory import descendants
from pipelines.worker import EXIT_ALWAYS_ENV, EXIT_ONCE_ENV
from tomtalks_scraper.crawl import LOOPBACK_SETTINGS, crawl_command, run_crawl
from tomtalks_scraper.demo_site.editable import EditableNewsletter
from tomtalks_scraper.demo_site.server import LocalSite, Page
from tomtalks_scraper.demo_site.site import build_site
from tomtalks_scraper.extraction import metadata as metadata_module
from tomtalks_scraper.extraction.fallback_meta import FallbackMetadata
from tomtalks_scraper.extraction.issue import _absolute_links, parse_html
from tomtalks_scraper.page_text import xml_safe

FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: Columns that record when, not what: they differ between any two crawls.
WHEN = {"id", "newsletter_id", "fetched_at", "first_seen_at", "copy_of", "work_id"}


def _crawl(url: str, database: Path, **settings: str):
    return run_crawl([url], f"sqlite:///{database}", settings={**LOOPBACK_SETTINGS, "LOG_LEVEL": "INFO", **settings},
                     timeout=180)


def _stats(log: str) -> dict[str, str]:
    """The crawl's final stats dump (``'name': value,`` lines)."""
    return dict(re.findall(r"'([^']+)': ([^,\n}]+)", log.split("Dumping Scrapy stats:")[-1]))


def _rows(database: Path, table: str, order: str) -> list[dict]:
    with sqlite3.connect(database) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()  # noqa: S608 - test tables
    return [{k: row[k] for k in row.keys() if k not in WHEN} for row in rows]


def test_the_pool_stores_exactly_what_in_process_extraction_stores(demo_site: LocalSite, tmp_path: Path) -> None:
    pooled, alone = tmp_path / "pool.db", tmp_path / "alone.db"
    pool_log = _crawl(demo_site.url("/"), pooled, EXTRACT_WORKERS="2").stderr
    _crawl(demo_site.url("/"), alone, EXTRACT_WORKERS="0")
    issues = _rows(pooled, "issues", "url")
    assert len(issues) == 13
    assert issues == _rows(alone, "issues", "url")  # every stored field, issue by issue
    with sqlite3.connect(pooled) as a, sqlite3.connect(alone) as b:
        links = ("SELECT i.url, l.position, l.url, l.text FROM issue_links l JOIN issues i ON i.id = l.issue_id "
                 "ORDER BY 1, 2")
        assert a.execute(links).fetchall() == b.execute(links).fetchall()
        states = "SELECT url, status, page_hash, published_at FROM crawl_state ORDER BY url"
        assert a.execute(states).fetchall() == b.execute(states).fetchall()
    assert _stats(pool_log)["tomtalks/extract/workers"] == "2"
    # The stored page (gzipped from the response body's bytes) is the page as served, in both crawls.
    for database in (pooled, alone):
        with sqlite3.connect(database) as db:
            stored = dict(db.execute("SELECT url, raw_html_gz FROM issues").fetchall())
        served = {url: demo_site.pages[url.removeprefix(demo_site.base_url)].body for url in stored}
        assert {url: gzip.decompress(blob) for url, blob in stored.items()} == served


def test_a_worker_killed_mid_crawl_loses_no_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    letter = EditableNewsletter(16, listing="feed")
    monkeypatch.setenv(EXIT_ONCE_ENV, "/issues/issue-0005/")  # its worker dies, the retry succeeds
    monkeypatch.setenv(EXIT_ALWAYS_ENV, "/issues/issue-0011/")  # kills every worker it meets
    database = tmp_path / "archive.db"
    with LocalSite(build=letter.build) as site:
        log = _crawl(site.url("/feed.xml"), database, EXTRACT_WORKERS="2").stderr
    with sqlite3.connect(database) as db:
        stored = {url.rsplit("/", 2)[1] for (url,) in db.execute("SELECT url FROM issues")}
        rejected = db.execute("SELECT url, reason FROM rejected_pages").fetchall()
    assert stored == {f"issue-{n:04d}" for n in range(1, 17)} - {"issue-0011"}
    assert [(url.rsplit("/", 2)[1], reason) for url, reason in rejected] == [("issue-0011", "extraction_error")]
    stats = _stats(log)
    assert int(stats["tomtalks/extract/worker_crashes"]) >= 2  # issue-0005 once, issue-0011 in the pool
    assert stats["tomtalks/extract/failed_twice"] == "1"
    assert int(stats["tomtalks/extract/retried_alone"]) >= 2


def test_batched_writes_are_all_committed_when_the_crawl_ends(tmp_path: Path) -> None:
    """With batches too large and a timer too long to ever fire, the writes still all land: a batch is
    written once every item waits for it, and whatever is left at close."""
    letter = EditableNewsletter(12, listing="feed")
    database, export = tmp_path / "archive.db", tmp_path / "issues.jsonl"
    with LocalSite(build=letter.build) as site:
        log = _crawl(site.url("/feed.xml"), database, STORE_BATCH_SIZE="1000", STORE_BATCH_SECONDS="3600",
                     FEEDS=f'{{"{export}": {{"format": "jsonlines"}}}}').stderr
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM issues").fetchone() == (12,)
        assert db.execute("SELECT count(*) FROM crawl_state WHERE status = 'stored'").fetchone() == (12,)
    assert len(export.read_text().splitlines()) == 12  # each item was reported once its batch had committed
    stats = _stats(log)
    assert stats["tomtalks/store/writes"] == "12"
    assert int(stats["tomtalks/store/batches"]) < 12


def test_memory_figures_are_in_the_crawl_stats(demo_site: LocalSite, tmp_path: Path) -> None:
    stats = _stats(_crawl(demo_site.url("/feed.xml"), tmp_path / "archive.db", EXTRACT_WORKERS="2").stderr)
    for name in ("crawl_peak_rss_mb", "workers_peak_rss_mb", "workers_peak_rss_mb_sum", "tree_peak_rss_mb"):
        assert float(stats[f"tomtalks/memory/{name}"]) > 10, name
    assert 1 <= int(stats["tomtalks/memory/workers"]) <= 2  # workers start on demand, up to EXTRACT_WORKERS
    assert float(stats["tomtalks/memory/tree_peak_rss_mb"]) >= float(stats["tomtalks/memory/crawl_peak_rss_mb"]) - 1


@pytest.mark.parametrize("downloader", [{}, pytest.param({"DOWNLOADER": "scrapy.core.downloader.Downloader"},
                                                         marks=pytest.mark.xfail(strict=True, reason="Scrapy's own"))],
                         ids=["ours", "scrapy"])
def test_requests_from_a_listing_keep_the_per_site_limit(tmp_path: Path, downloader: dict[str, str]) -> None:
    """A feed callback yields all its requests at once; on the asyncio reactor Scrapy's downloader used
    to start them all together (up to CONCURRENT_REQUESTS) whatever CONCURRENT_REQUESTS_PER_DOMAIN said."""
    letter = EditableNewsletter(10, listing="feed")
    delay = 0.3
    with LocalSite(build=letter.build, delay=delay) as site:
        _crawl(site.url("/feed.xml"), tmp_path / "archive.db", CONCURRENT_REQUESTS="16",
               CONCURRENT_REQUESTS_PER_DOMAIN="2", ROBOTSTXT_OBEY="False", **downloader)
        starts = sorted(moment for moment, path in site.log if path.startswith("/issues/"))
    assert len(starts) == 10
    # Each answer takes `delay`: a request starting less than `delay` after two others overlaps them both.
    overlapping = max(sum(1 for other in starts if start - delay * 0.9 < other <= start) for start in starts)
    assert overlapping <= 2


# The extraction shortcuts give what the long way gives ------------------------------------------------


def _pages() -> list[tuple[str, str]]:
    pages = [(str(path), path.read_text("utf-8", errors="replace")) for path in sorted(FIXTURES.rglob("*.html"))]
    pages += [(path, page.body.decode()) for path, page in build_site("http://127.0.0.1:8000").items()
              if page.content_type.startswith("text/html")]
    return pages


PAGES = _pages()


@pytest.mark.parametrize(("name", "html"), PAGES, ids=[name.rsplit("/", 2)[-1] for name, _ in PAGES])
def test_fallback_metadata_is_trafilaturas(name: str, html: str) -> None:
    tree = parse_html(html)
    theirs = extract_metadata(tree, "https://example.org/post")
    ours = FallbackMetadata(parse_html(html), "https://example.org/post")
    assert (ours.title, ours.author, ours.sitename) == (theirs.title, theirs.author, theirs.sitename)


@pytest.mark.parametrize(("name", "html"), PAGES, ids=[name.rsplit("/", 2)[-1] for name, _ in PAGES])
def test_meta_index_answers_as_the_xpath_lookups(name: str, html: str) -> None:
    tree = parse_html(html)
    index = metadata_module._MetaIndex(tree)
    names = {value for element in tree.iter("meta") for attribute in ("property", "name", "itemprop")
             if (value := element.get(attribute))}
    for key in sorted(names) + ["absent:key"]:
        assert index(key) == metadata_module._meta(tree, key), key


#: Pages whose declarations disagree with their UTF-8 bytes, or that lxml reads specially.
DECLARING_PAGES = [
    '<html><head><meta charset="iso-8859-1"><title>Caf\u00e9</title></head><body><p>na\u00efve \u2014 \u00fcber '
    '\U0001f600</p></body></html>',
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252"></head>'
    '<body><p>\u201cquoted\u201d \u20ac5</p></body></html>',
    '<?xml version="1.0" encoding="iso-8859-1"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body><p>\u00e9t\u00e9'
    '</p></body></html>',
    '<!DOCTYPE html><html lang="ja"><head><meta charset="shift_jis"></head><body><p>\u65e5\u672c\u8a9e</p></body>'
    '</html>',
]


@pytest.mark.parametrize("html", DECLARING_PAGES + [html for _, html in PAGES])
def test_a_page_parsed_from_its_utf8_is_the_page_parsed_from_its_text(html: str) -> None:
    """A crawl hands the worker the response body when it is exactly the text's UTF-8, and lxml parses
    those bytes: the tree must be the text's, whatever charset the page declares."""
    from lxml import etree

    from tomtalks_scraper.extraction.markup import parse_page_text

    from_text, from_bytes = parse_page_text(html), parse_page_text(html, html.encode("utf-8"))
    assert etree.tostring(from_bytes, encoding="unicode") == etree.tostring(from_text, encoding="unicode")


@pytest.mark.parametrize(("name", "html"), PAGES[::6], ids=[name.rsplit("/", 2)[-1] for name, _ in PAGES[::6]])
def test_the_worker_given_the_pages_bytes_gives_what_it_gives_for_its_text(name: str, html: str) -> None:
    """Issue and copy checks: the same for the text and for its UTF-8 (a crawl's usual task)."""
    import pickle

    from pipelines.worker import ExtractTask, run_extraction

    html = xml_safe(html)
    url = "https://letters.example/p/1"
    as_text = run_extraction(ExtractTask(html, url, None, None, None, xml_safe=True))
    sent = pickle.loads(pickle.dumps(ExtractTask(html.encode("utf-8"), url, None, None, None, xml_safe=True)))
    as_bytes = run_extraction(sent)
    assert (as_bytes.reason, as_bytes.issue, as_bytes.checks) == (as_text.reason, as_text.issue, as_text.checks)


LINKS_PAGE = """<html><head><link rel="canonical" href="/post/"><base href="https://cdn.example/base/">
<style>body { background: url(bg.png) }</style></head><body>
<p><a href=" older-post ">older</a> <a href="#note-1">note</a> <a href="http://[broken">bad</a>
<a href="https://other.example/x?a#">abs</a><img src="img/a.png" data-src="lazy.png"></p>
<blockquote cite="quote.html">q</blockquote><form action="/search"></form></body></html>"""


@pytest.mark.parametrize("html", [LINKS_PAGE, LINKS_PAGE.replace('<base href="https://cdn.example/base/">', "")]
                         + [html for _, html in PAGES[:12]])
def test_absolute_links_match_lxml_on_every_attribute_that_is_kept(html: str) -> None:
    url = "https://letters.example/issues/12/"
    ours, lxmls = parse_html(html), parse_html(html)
    _absolute_links(ours, url)
    try:
        lxmls.make_links_absolute(url, resolve_base_href=True, handle_failures="discard")
    except ValueError:
        pass
    for name in ("href", "src"):
        assert [(e.tag, e.get(name)) for e in ours.iter() if isinstance(e.tag, str)] == \
               [(e.tag, e.get(name)) for e in lxmls.iter() if isinstance(e.tag, str)]


def test_body_without_trafilatura_metadata_pass_is_the_same(shared: Path) -> None:
    """The body trafilatura extracts does not depend on its metadata pass (which we now skip)."""
    pages = sorted((shared / "benchmarks" / "article-extraction" / "html").glob("*.html.gz"))[:30]
    if not pages:
        pytest.skip("no benchmark pages")
    for path in pages:
        tree = lxml_html.document_fromstring(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"))
        bodies = [trafilatura.bare_extraction(tree, url="https://example.org/p", with_metadata=flag,
                                              include_comments=False, include_formatting=True, include_links=True,
                                              include_images=True, favor_precision=True)
                  for flag in (True, False)]
        texts = [None if b is None else lxml_html.tostring(b.body) for b in bodies]
        assert texts[0] == texts[1], path.name


def test_loopback_pages_of_every_size_are_served(tmp_path: Path) -> None:
    """A page bigger than a socket buffer and a tiny one go through the pool like any other."""
    big = "<p>" + " ".join(["longform"] * 60_000) + "</p>"
    pages = {"/big/": Page(f"<html><head><title>Big one</title></head><body><article><h1>Big one</h1>{big}"
                           "</article></body></html>".encode()),
             "/feed.xml": Page(b"", "application/rss+xml")}

    def build(base: str) -> dict[str, Page]:
        feed = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Sizes</title><item><title>Big one</title>'
                f"<link>{base}/big/</link></item></channel></rss>").encode()
        return {**pages, "/feed.xml": Page(feed, "application/rss+xml")}

    with LocalSite(build=build) as site:
        _crawl(site.url("/feed.xml"), tmp_path / "archive.db")
    with sqlite3.connect(tmp_path / "archive.db") as db:
        assert db.execute("SELECT title, word_count FROM issues").fetchall() == [("Big one", 60_000)]


def test_workers_do_not_outlive_a_killed_crawl(tmp_path: Path) -> None:
    """A crawl process killed on its own (not its process group) leaves no extraction process behind."""
    letter = EditableNewsletter(40, listing="feed")
    with LocalSite(build=letter.build, delay=0.2) as site:
        crawl = _crawl_process(site, tmp_path, EXTRACT_WORKERS="2")
        started: list[int] = []
        deadline = time.monotonic() + 60
        while len(started) < 3 and time.monotonic() < deadline and crawl.poll() is None:  # tracker, server, worker
            time.sleep(0.2)
            started = descendants(crawl.pid)
        assert len(started) >= 3, "the pool never started"
        crawl.kill()
        crawl.wait(timeout=30)
        deadline = time.monotonic() + 15
        while [pid for pid in started if Path(f"/proc/{pid}").exists()] and time.monotonic() < deadline:
            time.sleep(0.2)
    assert [pid for pid in started if _running(pid)] == []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process priorities from /proc (Linux)")
def test_extraction_workers_run_below_the_crawls_priority(tmp_path: Path) -> None:
    """``EXTRACT_WORKER_NICENESS``: the workers yield the CPU to the crawl process, which feeds them; the
    fork server and the resource tracker keep the crawl's priority."""
    letter = EditableNewsletter(30, listing="feed")
    with LocalSite(build=letter.build, delay=0.2) as site:
        crawl = _crawl_process(site, tmp_path, EXTRACT_WORKERS="2", EXTRACT_WORKER_NICENESS="3")
        try:
            own = _niceness(crawl.pid)
            wanted = min((own or 0) + 3, 19)
            helpers: dict[int, int | None] = {}  # the crawl's children: fork server, resource tracker
            workers: dict[int, int | None] = {}  # the fork server's children
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and crawl.poll() is None:
                time.sleep(0.2)
                found = descendants(crawl.pid)
                helpers = {pid: _niceness(pid) for pid in found if _parent(pid) == crawl.pid}
                servers = [pid for pid in helpers if "forkserver" in _command_line(pid)]
                workers = {pid: _niceness(pid) for pid in found if _parent(pid) in servers}
                if len(workers) == 2 and set(workers.values()) == {wanted}:
                    break  # a worker lowers its priority first thing, as it starts
        finally:
            crawl.kill()
            crawl.wait(timeout=30)
    assert own is not None and len(helpers) >= 2, "the pool never started"
    assert list(workers.values()) == [wanted, wanted]
    assert set(helpers.values()) == {own}


def _stat_fields(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def _niceness(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[16]) if fields else None


def _parent(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _crawl_process(site: LocalSite, tmp_path: Path, **settings: str) -> subprocess.Popen[bytes]:
    """A ``scrapy crawl`` of ``site``'s feed into a fresh archive, running in the background."""
    command = crawl_command([site.url("/feed.xml")], f"sqlite:///{tmp_path / 'archive.db'}",
                            settings={**LOOPBACK_SETTINGS, **settings})
    return subprocess.Popen(command, env={**os.environ, "SCRAPY_SETTINGS_MODULE": "tomtalks_scraper.settings"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _running(pid: int) -> bool:
    fields = _stat_fields(pid)
    return fields is not None and fields[0] != "Z"


# What the crawl process no longer does per page ------------------------------------------------------


SITE_NAME_CASES = [
    '<html><head><meta content="A &amp; B > C" property="og:site_name"/></head><body></body></html>',
    "<html><head><META PROPERTY=og:site_name CONTENT='Quoted &#8217;s'></head></html>",
    '<html><head><meta property="og:site_name"><meta property="og:site_name" content="  "></head></html>',
    '<html><head><meta name="og:site_name" content="Not a property"></head><body>og:site_name</body></html>',
    '<html><body><p>og:site_name</p><meta property="og:site_name" content="In the body"></body></html>',
    "<html><head><meta property=\"og:site_name\" content=\"Unclosed" + "x" * 5000,
]


@pytest.mark.parametrize("html", SITE_NAME_CASES + [html for _, html in PAGES])
def test_site_name_read_from_the_text_is_the_parsed_pages(html: str) -> None:
    from scrapy.http import HtmlResponse

    from tomtalks_scraper.spiders.newsletter import _site_name

    url = "https://letters.example/p/1"
    response = HtmlResponse(url, body=html.encode("utf-8"), encoding="utf-8")
    name = response.xpath('//meta[@property="og:site_name"]/@content').get()
    assert _site_name(html, url) == (name.strip() if name and name.strip() else "letters.example")


def test_extraction_workers_load_neither_scrapy_nor_sqlalchemy() -> None:
    """Each would cost every worker ~20 MB: workers import the adapters and ``storage.page_checks`` only."""
    code = ("import sys; from pipelines.worker import init_worker; init_worker(500); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'scrapy', 'twisted', 'sqlalchemy'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"


def _store_all(database: Path, pages: list[tuple[str, str]], *, precomputed: bool, author: str | None = None) -> None:
    from pipelines.store import check_values, issue_values
    from pipelines.worker import ExtractTask, run_extraction
    from storage.recorder import CrawlRecorder, save_issue
    from tomtalks_scraper.items import IssuePage

    recorder = CrawlRecorder.open(f"sqlite:///{database}")
    try:
        for i, (url, html) in enumerate(pages):
            outcome = run_extraction(ExtractTask(html, url, None, None, None))
            if outcome.issue is None:
                continue
            item = IssuePage(url=url, final_url=url, status=200, html=html, newsletter=f"letter {i % 3}",
                             extracted=outcome.issue, page_hash=str(i))
            values = issue_values(item) | ({"author": author} if author else {})
            recorder.run(partial(save_issue, url=url, newsletter=item.newsletter, newsletter_url=None, raw_html=html,
                                 values=values, links=[(link.url, link.text) for link in outcome.issue.links],
                                 check=check_values(item), checks=outcome.checks if precomputed else None))
    finally:
        recorder.close()


def test_the_worker_reads_the_copy_checks_from_the_tree_it_parsed_for_extraction(shared: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The raw page is parsed once per page (~1 ms): the copy checks read extraction's tree before
    pre-cleaning cuts it. A reading taken for another canonical URL or platform is not reused."""
    from pipelines.worker import ExtractTask, run_extraction
    from storage import page_checks

    html = next((shared / "corpus" / "seed").glob("*.html")).read_text("utf-8", errors="replace")
    url = "https://letters.example/p/seed"
    expected = run_extraction(ExtractTask(html, url, None, None, None)).checks
    parses = []
    monkeypatch.setattr(page_checks, "parse_page", lambda raw: parses.append(raw) or None)
    outcome = run_extraction(ExtractTask(html, url, None, None, None))
    assert parses == [] and outcome.checks == expected and outcome.checks.evidence.is_copy
    reading = page_checks.read_page(html, None, url, canonical_url="https://elsewhere.example/", platform="generic")
    page_checks.page_checks(html, url, canonical_url=None, platform="generic", author=None, body_text="Words.",
                            links=[], reading=reading)
    assert parses == [html]


def test_copy_checks_computed_in_the_worker_store_what_the_store_computes(shared: Path, tmp_path: Path) -> None:
    """Identity, aliases, farm evidence, fingerprints, works: the same rows whether the extraction worker
    computed the page-only part or the store did, and whether or not the precomputed part fits the row."""
    pages = [(f"https://letters.example/p/{path.stem}", path.read_text("utf-8", errors="replace"))
             for path in sorted((shared / "corpus" / "seed").glob("*.html"))
             + sorted(FIXTURES.rglob("*.html"))[:40]]
    pages += [(url.replace("letters.example", "mirror.example"), html) for url, html in pages[::2]]
    pages += pages[::5]  # stored again: updates, not inserts
    databases = {name: tmp_path / f"{name}.db" for name in ("store", "worker", "store_other", "unfit")}
    _store_all(databases["store"], pages, precomputed=False)
    _store_all(databases["worker"], pages, precomputed=True)
    # The row's author is not the one the checks were computed with: the store must compute them itself.
    _store_all(databases["store_other"], pages, precomputed=False, author="Someone Else")
    _store_all(databases["unfit"], pages, precomputed=True, author="Someone Else")
    tables = {"issues": "url", "issue_aliases": "url", "issue_copies": "issue_id", "issue_fingerprints": "issue_id",
              "fingerprint_bands": "band_key, issue_id", "issue_lines": "line_hash, issue_id",
              "work_members": "issue_id", "works": "primary_issue_id"}
    when = {"computed_at", "checked_at", "joined_at", "created_at", "updated_at", "first_seen_at", "last_seen_at"}
    for table, order in tables.items():
        rows = {name: [{k: v for k, v in row.items() if k not in when}
                       for row in _rows(database, table, order)] for name, database in databases.items()}
        assert rows["worker"] == rows["store"], table
        assert rows["unfit"] == rows["store_other"], table
    assert _rows(databases["store"], "work_members", "issue_id"), "no near-duplicates found: the test checks nothing"
