"""``tomtalks demo``: serve the bundled example newsletter on 127.0.0.1, crawl it with the real spider.

No network needed. The crawl is the same one ``scrapy crawl newsletter -a url=…`` runs, with
delays lowered because the site is local.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from storage import Archive
from storage.db import resolve_database_url
from tomtalks_scraper.cli.common import add_json_option, console, print_json, short_date, table
from tomtalks_scraper.crawl import LOOPBACK_SETTINGS, run_crawl
from tomtalks_scraper.demo_site.server import LocalSite
from tomtalks_scraper.demo_site.site import NEWSLETTER, build_site

DEFAULT_DEMO_DB = Path("data") / "demo.db"


def register(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo", help="crawl the bundled example newsletter offline and show what was stored",
        description="Serve the bundled example newsletter on 127.0.0.1, crawl it with the real spider into "
                    "a database (default ./data/demo.db), and print what was stored.",
    )
    demo.add_argument("--db", metavar="PATH_OR_URL", default=str(DEFAULT_DEMO_DB),
                      help=f"database to fill (default {DEFAULT_DEMO_DB})")
    add_json_option(demo)
    demo.set_defaults(run=run_demo, needs_archive=False)


def run_demo(args: argparse.Namespace, _archive: None) -> int:
    out = console()
    database_url = resolve_database_url(args.db)
    with LocalSite(build=build_site) as site:
        if not args.json:
            out.print(f"Serving the example newsletter {NEWSLETTER!r} at {site.base_url}/ (offline)")
            out.print(f"Crawling it with the `newsletter` spider into {database_url} …")
        run_crawl([site.url("/")], database_url, settings=LOOPBACK_SETTINGS)
    archive = Archive.open(database_url)
    try:
        issues = archive.list()
    finally:
        archive.close()
    if args.json:
        print_json({"database": database_url, "issues": issues})
        return 0
    rows = [[i["id"], i["title"], i["author"], short_date(i["published_at"]), i["word_count"]] for i in issues]
    out.print(table(["id", "title", "author", "date", "words"], rows, title=f"{len(issues)} issues stored"))
    location = Path(database_url.removeprefix("sqlite:///")).resolve() if database_url.startswith("sqlite:///") \
        else database_url
    out.print(f"Database: {location}")
    db_option = f" --db {os.path.relpath(location) if isinstance(location, Path) else location}"
    out.print(f"Try: tomtalks search warehouse{db_option}  ·  tomtalks show 1{db_option}")
    return 0
