"""Copies and duplicates: content-farm copies, cross-posts, aliases, and issues that must stay apart.

The crawls are real (``scrapy crawl`` subprocesses against local servers): the seed's content-farm
page on 127.0.0.1 and the LinkedIn-layout original of the same issue on 127.0.0.2 (recognised as
LinkedIn by its ``<head>`` markers, as on linkedin.com), crawled in either order, and together with
the demo newsletter, whose 13 issues share an intro and whose Netflix issue is the same article.
The rest stores issues through ``Archive.save_issue`` (the crawl's write path) into real SQLite.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from storage import Archive
from storage.db import alembic_config
from storage.queries import IssueFilter
from tomtalks_scraper.cli import main
from tomtalks_scraper.demo_site.server import LocalSite, Page
from tomtalks_scraper.demo_site.site import build_site
from tomtalks_scraper.extraction.copies import COPY_THRESHOLD, copy_evidence, signature_author
from tomtalks_scraper.extraction.identity import identify, url_key
from tomtalks_scraper.extraction.issue import extract_issue

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LINKEDIN_PAGE = FIXTURES / "linkedin" / "tomtalks-2023-netflix-900000-ai-job.html"
FARM_PATH = "/2024/the-real-story-behind-netflixs-900000-ai-job"
PULSE_PATH = "/pulse/real-story-behind-netflixs-900000-ai-job-tom-popomaronis-8fj2e"
LINKEDIN_DATE = "2023-07-26T13:01:54Z"
pytestmark = pytest.mark.both_backends  # the archive tests on SQLite and PostgreSQL (tests/conftest.py)


@pytest.fixture(scope="module")
def farm_html(shared: Path) -> bytes:
    return (shared / "corpus" / "seed" / "contentfarm.html").read_bytes()


def _sites(farm_html: bytes) -> tuple[LocalSite, LocalSite]:
    farm = LocalSite({FARM_PATH: Page(farm_html)})
    linkedin = LocalSite({PULSE_PATH: Page(LINKEDIN_PAGE.read_bytes())}, host="127.0.0.2")
    return farm, linkedin


def _by_platform(archive: Archive) -> dict[str, dict]:
    rows = archive.list(IssueFilter(limit=None))
    return {row["platform"]: archive.get(row["id"]) for row in rows}


def _assert_one_work_linkedin_primary(archive: Archive) -> None:
    issues = _by_platform(archive)
    assert sorted(issues) == ["generic", "linkedin"]
    farm, original = issues["generic"], issues["linkedin"]
    assert original["copy_of"] is None
    assert farm["copy_of"]["id"] == original["id"]
    assert farm["copy"]["is_farm"] and farm["copy"]["score"] >= COPY_THRESHOLD
    # The farm's own claims are kept as evidence, never shown as the issue's.
    assert farm["copy"]["claimed_author"] == "Rob Wisoky"
    assert farm["author"] == "Tom Popomaronis" and farm["authors"] == ["Tom Popomaronis"]
    assert farm["published_at"] == LINKEDIN_DATE == original["published_at"]
    groups = archive.duplicates()
    assert len(groups) == 1
    members = groups[0]["members"]
    assert [m["role"] for m in members] == ["primary", "copy"]
    assert members[0]["id"] == original["id"] and members[1]["id"] == farm["id"]
    assert members[1]["similarity"] > 0.9
    assert [m["id"] for m in archive.list(IssueFilter(with_copies=False))] == [original["id"]]


@pytest.mark.crawl
def test_farm_copy_then_linkedin_original_end_as_one_work(crawl, farm_html: bytes) -> None:
    farm, linkedin = _sites(farm_html)
    with farm, linkedin:
        archive = crawl(farm.url(FARM_PATH))
        alone = archive.list()
        assert len(alone) == 1
        copy = archive.get(alone[0]["id"])
        # Before the original is known: a copy of its likely original, signed by the article's author.
        assert copy["copy_of"] is None and copy["copy"]["is_farm"]
        assert copy["copy"]["likely_original_url"] == "https://www.linkedin.com/newsletters/tomtalks"
        assert copy["author"] == "Tom Popomaronis" and copy["published_at"] is None
        archive = crawl(linkedin.url(PULSE_PATH))
    _assert_one_work_linkedin_primary(archive)


@pytest.mark.crawl
def test_linkedin_original_then_farm_copy_end_as_one_work(crawl, farm_html: bytes) -> None:
    farm, linkedin = _sites(farm_html)
    with farm, linkedin:
        crawl(linkedin.url(PULSE_PATH))
        archive = crawl(farm.url(FARM_PATH))
    _assert_one_work_linkedin_primary(archive)


@pytest.fixture(scope="module")
def three_sources(module_crawl, farm_html: bytes) -> Archive:
    """The demo newsletter, the farm copy and the LinkedIn original crawled in one run (any order)."""
    farm, linkedin = _sites(farm_html)
    with LocalSite(build=build_site) as demo, farm, linkedin:
        return module_crawl(demo.url("/feed.xml"), farm.url(FARM_PATH), linkedin.url(PULSE_PATH))


@pytest.mark.crawl
def test_cross_post_on_two_sites_is_grouped_and_other_issues_are_not(three_sources: Archive) -> None:
    rows = three_sources.list(IssueFilter(limit=None))
    assert len(rows) == 15
    groups = three_sources.duplicates()
    assert len(groups) == 1, groups
    members = {m["platform"] + ("-farm" if m["copy"] and m["copy"]["is_farm"] else ""): m
               for m in groups[0]["members"]}
    assert sorted(members) == ["generic", "generic-farm", "linkedin"]
    assert members["linkedin"]["role"] == "primary"
    assert "tomtalks" in members["generic"]["url"] or members["generic"]["newsletter"] == "TomTalks"
    # The 12 other demo issues open with the same sentence and are in no work.
    others = [r for r in rows if r["id"] not in {m["id"] for m in groups[0]["members"]}]
    assert len(others) == 12
    assert all(three_sources.get(r["id"])["copy_of"] is None for r in others)


@pytest.mark.crawl
def test_cli_hides_copies_and_says_copy_of(three_sources: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    db = three_sources.url.removeprefix("sqlite:///")

    def run(*argv: str) -> str:
        assert main(list(argv) + ["--db", db]) == 0
        return capsys.readouterr().out

    listed = json.loads(run("list", "--json"))
    everything = json.loads(run("list", "--json", "--with-copies"))
    assert len(listed) == 13 and len(everything) == 15
    assert [i["platform"] for i in listed].count("linkedin") == 1
    groups = json.loads(run("duplicates", "--json"))
    copies = {m["id"] for m in groups[0]["members"] if m["role"] == "copy"}
    found = {hit["id"] for hit in json.loads(run("search", '"Every act of creation"', "--json"))}
    found_all = {hit["id"] for hit in json.loads(run("search", '"Every act of creation"', "--json", "--with-copies"))}
    assert found_all - found == copies and len(found) == 1
    farm = next(m for m in groups[0]["members"] if m["copy"] and m["copy"]["is_farm"])
    assert any(r.startswith("spam_author_block") for r in farm["copy"]["reasons"])
    table = run("duplicates")
    assert "1 work(s) with copies" in table and "content-farm copy" in table and "Recommended by LinkedIn" in table
    shown = run("show", str(farm["id"]), "--format", "text")
    primary = groups[0]["members"][0]
    assert f"copy of: #{primary['id']} The real story behind Netflix's $900,000 AI job" in shown
    assert "Rob Wisoky" not in shown


@pytest.mark.crawl
def test_prefer_platforms_elects_another_primary(three_sources: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    db = three_sources.url.removeprefix("sqlite:///")
    assert main(["duplicates", "--db", db, "--prefer", "generic"]) == 0
    capsys.readouterr()
    members = three_sources.duplicates()[0]["members"]
    primary = members[0]
    assert primary["platform"] == "generic" and not primary["copy"]["is_farm"]  # never the farm's copy
    assert main(["duplicates", "--db", db, "--prefer", "default"]) == 0
    assert three_sources.duplicates()[0]["members"][0]["platform"] == "linkedin"


@pytest.mark.crawl
def test_rebuild_from_saved_pages_finds_the_same_work(three_sources: Archive) -> None:
    """What `tomtalks duplicates` does for issues stored before duplicates were tracked."""
    before = three_sources.duplicates()
    assert three_sources.index_duplicates(rebuild=True) == 15
    after = three_sources.duplicates()
    assert [[(m["id"], m["role"]) for m in g["members"]] for g in after] == \
        [[(m["id"], m["role"]) for m in g["members"]] for g in before]
    farm = next(m for m in after[0]["members"] if m["copy"] and m["copy"]["is_farm"])
    assert farm["copy"]["claimed_author"] == "Rob Wisoky" and farm["author"] == "Tom Popomaronis"


# Storing through Archive.save_issue ---------------------------------------------------------------


def _values(body: str, *, platform: str = "generic", title: str = "An issue", published: str | None = None,
            canonical: str | None = None) -> dict:
    return {"platform": platform, "title": title, "author": "Ann Author", "authors": ["Ann Author"],
            "published_at": published, "canonical_url": canonical, "body_text": body, "body_markdown": body,
            "body_html": body, "word_count": len(body.split()),
            "content_hash": hashlib.sha256(" ".join(body.split()).encode()).hexdigest(), "http_status": 200,
            "extractor": "test", "extractor_version": "1", "access": "free"}


def _save(archive: Archive, url: str, body: str, *, newsletter: str = "Letters", **values: object) -> int:
    return archive.save_issue(url=url, newsletter=newsletter, newsletter_url=None, raw_html=None,
                              values=_values(body, **values)).issue_id


def _seed_text(shared: Path) -> str:
    return (shared / "corpus" / "seed" / "expected.txt").read_text(encoding="utf-8")


def test_cross_post_with_other_chrome_is_grouped_and_preference_decides(archive: Archive, shared: Path) -> None:
    body = _seed_text(shared)
    substack = body + "\nThanks for reading TomTalks! Subscribe for free to receive new posts and support my work."
    linkedin_id = _save(archive, "https://www.linkedin.com/pulse/real-story-x", body, newsletter="TomTalks",
                        platform="linkedin", published="2023-07-26T13:01:54Z")
    substack_id = _save(archive, "https://tomtalks.substack.com/p/real-story", substack, newsletter="TomTalks",
                        platform="substack", published="2023-07-27T09:00:00Z")
    assert archive.get(substack_id)["copy_of"]["id"] == linkedin_id  # the earliest published
    archive.prefer_platforms(["substack"])
    assert archive.get(linkedin_id)["copy_of"]["id"] == substack_id
    assert archive.get(substack_id)["copy_of"] is None


def test_issues_sharing_intro_and_sign_off_are_never_grouped(archive: Archive) -> None:
    """Short issues under a long shared sign-off: whole, any two are ~60 % alike; without the
    newsletter's boilerplate, nothing. The first issues are compared before the boilerplate is known
    and must leave any work they were put in once it is."""
    intro = "Welcome to TomTalks, where #AInews meets #innovationPOV."
    sign_off = ("AI and its influence are growing exponentially, creating a world filled with deep opportunities "
                "and even deeper unknowns. TomTalks is a weekly exploration of the benefits, risks, and costs of AI "
                "adoption, featuring brief but crucial conversations with AI experts and global business leaders. "
                "Hosted by award-winning innovation expert Tom Popomaronis. Tom is Co-Founder and President of "
                "Massive Alliance, a thought leadership and ghostwriting agency that serves executives.")
    topics = ["sales copilots", "small open models", "the EU AI act", "the chip crunch", "healthcare triage",
              "synthetic data", "warehouse robots", "deepfakes and ballots"]
    ids = []
    for n, topic in enumerate(topics):
        content = (f"This week is about {topic}. Issue {n} looks at {topic} from the side of the people who "
                   f"use it every day, and what {topic} changes for teams number {n} and {n + 1}.")
        ids.append(_save(archive, f"https://tomtalks.example/issues/{n}/", f"{intro}\n{content}\n{sign_off}"))
    assert archive.duplicates() == []
    assert all(archive.get(i)["copy_of"] is None for i in ids)
    # A real copy of one of them is still found: the boilerplate is left out of the comparison, not the copy.
    copy_id = _save(archive, "https://mirror.example/tomtalks-3", archive.get(ids[3])["body_text"] + "\nShare this.",
                    newsletter="Mirror")
    assert archive.get(copy_id)["copy_of"]["id"] == ids[3]


def test_recrawl_under_an_alias_updates_the_same_issue(archive: Archive, shared: Path) -> None:
    body = _seed_text(shared)
    first = _save(archive, "https://www.tomtalks.example/p/netflix?utm_source=feed", body)
    again = _save(archive, "https://tomtalks.example/p/netflix/", body + "\nAn edit made later.")
    amp = _save(archive, "https://tomtalks.example/p/netflix/amp", body + "\nAn edit made later.",
                canonical="https://tomtalks.example/p/netflix/")
    assert first == again == amp
    assert len(archive.list(IssueFilter(limit=None))) == 1
    issue = archive.get("https://tomtalks.example/p/netflix/amp")
    assert issue["id"] == first and issue["body_text"].endswith("An edit made later.")
    assert set(issue["aliases"]) >= {"https://www.tomtalks.example/p/netflix", "https://tomtalks.example/p/netflix/",
                                     "https://tomtalks.example/p/netflix/amp"}


def test_platform_id_is_the_identity_across_domains(archive: Archive, shared: Path) -> None:
    body = _seed_text(shared)
    first = _save(archive, "https://medium.com/@tom/the-real-story-0123456789ab", body, platform="medium")
    again = _save(archive, "https://tom.example/the-real-story-0123456789ab", body, platform="medium")
    other = _save(archive, "https://medium.com/@tom/another-story-ba9876543210", "Another text " * 50,
                  platform="medium")
    assert first == again != other


def test_a_url_keyed_alias_does_not_fold_a_different_text(archive: Archive, shared: Path) -> None:
    """A site declaring its home page as every page's canonical must not collapse its issues into one.
    (``www.`` makes the canonical another host for ``writes.find_issue``, the same site for identity.)"""
    first = _save(archive, "https://www.blog.example/a", _seed_text(shared), canonical="https://blog.example/")
    second = _save(archive, "https://www.blog.example/b", "A different issue about something else. " * 40,
                   canonical="https://blog.example/")
    assert first != second
    assert len(archive.list(IssueFilter(limit=None))) == 2


# Page signals (pure functions) -------------------------------------------------------------------


def test_seed_page_is_a_farm_copy_for_several_reasons(farm_html: bytes, shared: Path) -> None:
    page = farm_html.decode("utf-8")
    issue = extract_issue(page, "http://127.0.0.1:8000" + FARM_PATH)
    evidence = copy_evidence(page, issue.url, issue.platform, issue.body_text, issue.author,
                             [link.url for link in issue.links])
    names = {signal.name for signal in evidence.signals}
    assert {"foreign_platform_ui", "appended_link_list", "spam_author_block", "author_mismatch"} <= names
    assert evidence.is_copy and evidence.signature_author == "Tom Popomaronis"
    assert all(signal.weight < COPY_THRESHOLD for signal in evidence.signals)  # no single one decides


def test_platform_and_demo_pages_are_not_copies() -> None:
    linkedin = LINKEDIN_PAGE.read_text(encoding="utf-8")
    url = "http://127.0.0.2:8000" + PULSE_PATH
    issue = extract_issue(linkedin, url)
    assert issue.platform == "linkedin"
    assert not copy_evidence(linkedin, url, issue.platform, issue.body_text, issue.author).is_copy
    for path, page in build_site("http://127.0.0.1:8000").items():
        if path.startswith("/issues/"):
            html = page.body.decode("utf-8")
            demo = extract_issue(html, "http://127.0.0.1:8000" + path)
            evidence = copy_evidence(html, demo.url, demo.platform, demo.body_text, demo.author,
                                     [link.url for link in demo.links])
            assert evidence.score < COPY_THRESHOLD, (path, evidence.reasons)


def test_signature_author_reads_how_the_article_signs() -> None:
    assert signature_author("Text.\nHosted by award-winning innovation expert Tom Popomaronis.") == "Tom Popomaronis"
    assert signature_author("Text.\n— Jane Doe") == "Jane Doe"
    assert signature_author("The article was written by many hands.") is None


def test_identity_keys_and_aliases() -> None:
    assert url_key("https://www.example.com/p/slug/?utm_source=x&ref=y") == url_key("http://example.com/p/slug")
    assert url_key("https://example.com/p/slug/amp/") == url_key("https://example.com/p/slug")
    assert url_key("https://example.com/p/slug?page=2") != url_key("https://example.com/p/slug")
    wrapped = "https://www.linkedin.com/redir/redirect?url=https%3A%2F%2Fexample.com%2Fp%2Fslug&urlhash=x"
    assert identify(wrapped, None, "generic").aliases[0] == ("https://example.com/p/slug", "fetched")
    # A canonical on another site names the original; it is not this page's identity.
    farm = identify("https://farm.example/copy", "https://www.linkedin.com/pulse/x", "generic")
    assert farm.key == url_key("https://farm.example/copy") and len(farm.aliases) == 1
    linkedin = identify("http://127.0.0.2:8000/pulse/x", "https://www.linkedin.com/pulse/x", "linkedin")
    assert linkedin.key == "url:linkedin.com/pulse/x"


# Schema ------------------------------------------------------------------------------------------


@pytest.mark.sqlite_only  # FTS5 triggers of an SQLite file
def test_upgrade_from_0004_keeps_search_triggers_and_survives_a_half_done_run(tmp_path: Path) -> None:
    """The migration adds columns in place: rebuilding `issues` would drop its FTS triggers."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
        # As a crawl killed in the middle of the upgrade leaves it (SQLite commits DDL one statement at a time).
        connection.execute(text("ALTER TABLE issues ADD COLUMN identity_key TEXT"))
        connection.execute(text("CREATE INDEX ix_issues_identity_key ON issues (identity_key)"))
    engine.dispose()
    archive = Archive.open(url)  # upgrades to the head, the steps already done skipped
    try:
        _save(archive, "https://example.com/p/1", "Warehouse robots are the subject of this issue. " * 20)
        assert [hit["url"] for hit in archive.search("warehouse")] == ["https://example.com/p/1"]
        with archive.engine.connect() as connection:
            triggers = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
            assert {"issues_fts_insert", "issues_fts_update", "issues_fts_delete"} <= set(triggers)
    finally:
        archive.close()
    assert sqlite3.connect(tmp_path / "old.db").execute("SELECT version_num FROM alembic_version").fetchone()[0] \
        == "0005"


# The page readings walk the page once: the same answers as the XPath searches they replace -------------

#: Edge cases for the one-walk readers: a blank first canonical (it wins), og:url and JSON-LD urls in
#: document order, a <p> with a strong child or only a strong grandchild, a <div> holding only a comment,
#: tracked links in and out of <body>.
READER_PAGES = [
    '<html><head><link rel="canonical" href="  "><link rel="canonical" href="https://b.example/x">'
    '<meta property="og:url" content=" https://c.example/og "><meta property="og:url">'
    '<script type="application/ld+json">{"url": "https://d.example/ld"}</script>'
    '<script type="application/ld+json">[{"url": "https://e.example/ld2"}, 3]</script>'
    '<script type="application/ld+json">not json</script></head><body>'
    '<h2>Top Articles</h2><ul><li><a href="/1">1</a></li><li><a href="/2">2</a></li><li><a href="/3">3</a></li></ul>'
    '<div><p><strong>Read more</strong> <a href="/4">4</a> <a href="/5">5</a> <a>no href</a></p></div>'
    '<p><em><strong>not a child</strong></em></p><div><!-- only a comment --></div><div> </div>'
    '<a href="https://x.example/?trk=pulse-article">tracked</a></body></html>',
    '<html><head><link href="https://www.linkedin.com/redir/redirect?url=x"><link rel="canonical">'
    '<meta property="og:url" content="https://a.example/p"></head><body><h3>More from us</h3><div>'
    '<a href="https://substack.com/redirect/abc">s</a></div></body></html>',
]


def _reader_pages() -> list[str]:
    return READER_PAGES + [path.read_text("utf-8", errors="replace") for path in sorted(FIXTURES.rglob("*.html"))]


@pytest.mark.parametrize("html", _reader_pages())
def test_page_readers_walk_the_page_once_and_answer_as_the_xpath_searches(html: str) -> None:
    from tomtalks_scraper.extraction import copies
    from tomtalks_scraper.extraction.markup import parse_page_text

    tree = parse_page_text(html)
    assert list(copies._link_list_headings(tree)) == tree.xpath("//h2|//h3|//h4|//p[strong]|//div[not(*)]")
    tracked = [href for href in tree.xpath("//body//a/@href") if copies._TRACKING_LINK.search(href)]
    signals = copies._tracking_links(tree, "generic")
    assert [s.name for s in signals] == (["platform_tracking_link"] if tracked else [])
    assert not signals or tracked[0][:80] in signals[0].detail
    canonical = next((c.get("href", "").strip() for c in tree.xpath('//link[@rel="canonical"][@href]')), "")
    declared = ([canonical] if canonical else []) + [m.get("content", "").strip()
                                                     for m in tree.xpath('//meta[@property="og:url"][@content]')]
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        declared += [item["url"] for item in (data if isinstance(data, list) else [data])
                     if isinstance(item, dict) and isinstance(item.get("url"), str)]
    signals, elsewhere = copies._canonical(tree, "https://farm.example/p/1", "generic")
    assert ("canonical_missing" in [s.name for s in signals]) == (not canonical)
    assert elsewhere == next((url for url in declared if copies.host_of(url) not in ("", "farm.example")), None)
