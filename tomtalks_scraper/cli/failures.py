"""``tomtalks failures``: every page a crawl met but did not store, with its reason."""

from __future__ import annotations

import argparse

from storage import Archive
from storage.db import session_factory
from storage.history import failures
from tomtalks_scraper.cli.common import add_db_option, add_json_option, console, print_json, table


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "failures", help="pages not stored: url, reason, HTTP status, attempts, first and last time",
        description="List the pages crawls fetched (or tried to) but did not store, most recent first. Reasons: "
                    "http_NNN, refused (HTTP 999/401/403, sign-in walls), network_error, timeout, truncated, "
                    "too_large (over DOWNLOAD_MAXSIZE, gzip bombs), redirect_loop, private_address, not_html, "
                    "too_short (empty or teaser), no_title, unreadable, extraction_error, bad_url, bad_feed, "
                    "bad_sitemap.",
    )
    parser.add_argument("--newsletter", help="only pages of this newsletter")
    add_db_option(parser)
    add_json_option(parser)
    parser.set_defaults(run=run_failures)


def run_failures(args: argparse.Namespace, archive: Archive) -> int:
    with session_factory(archive.engine)() as session:
        rows = failures(session, args.newsletter)
    if args.json:
        print_json(rows)
        return 0
    console().print(table(
        ["url", "reason", "status", "attempts", "first", "last", "detail"],
        [[r["url"], r["reason"], r["http_status"] or "—", r["attempts"], r["first_at"], r["last_at"],
          (r["detail"] or "")[:80]] for r in rows],
        title=f"{len(rows)} page(s) not stored",
    ))
    return 0
