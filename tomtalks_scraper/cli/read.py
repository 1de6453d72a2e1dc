"""Commands that read the archive: ``list``, ``show``, ``search``, ``stats``."""

from __future__ import annotations

import argparse
import re

from rich.markup import escape
from rich.text import Text

from storage import Archive
from storage.queries import SNIPPET_CLOSE, SNIPPET_OPEN, SORTS, IssueFilter
from tomtalks_scraper.access import ACCESS
from tomtalks_scraper.cli.common import (
    add_db_option,
    add_filter_options,
    add_json_option,
    console,
    print_json,
    short_date,
    table,
)

SHOW_FORMATS = {"markdown": "body_markdown", "text": "body_text", "html": "body_html"}


def add_author_access_options(parser: argparse.ArgumentParser) -> None:
    """``--author`` and ``--access``, the filters list and search have beyond the common ones."""
    parser.add_argument("--author", help="only issues whose author line contains TEXT (case-insensitive)",
                        metavar="TEXT")
    parser.add_argument("--access", choices=ACCESS, help="only issues with this access state")
    parser.add_argument("--with-copies", action="store_true",
                        help="also issues that are copies of another issue (cross-posts, content-farm copies; "
                             "see `tomtalks duplicates`)")


def register(commands: argparse._SubParsersAction) -> None:
    listing = commands.add_parser("list", help="list issues, newest first",
                                  description="List stored issues, newest first.")
    add_db_option(listing)
    add_json_option(listing)
    add_filter_options(listing, default_limit=50)
    add_author_access_options(listing)
    listing.set_defaults(run=run_list)

    show = commands.add_parser("show", help="one issue: metadata and body",
                               description="Show one issue (by id or URL): its metadata and body.")
    show.add_argument("issue", metavar="ID|URL")
    show.add_argument("--format", choices=sorted(SHOW_FORMATS), default="markdown", help="body format")
    add_db_option(show)
    add_json_option(show)
    show.set_defaults(run=run_show)

    search = commands.add_parser(
        "search", help="full-text search (FTS5, best match first)",
        description='Full-text search: words, "exact phrases", prefix*, AND / OR / NOT (in capitals), '
                    "NEAR(a b, 5). Best match first (a match in the title weighs most), or newest first "
                    "with --sort date.",
    )
    search.add_argument("query")
    add_db_option(search)
    add_json_option(search)
    add_filter_options(search, default_limit=20)
    add_author_access_options(search)
    search.add_argument("--sort", choices=SORTS, default="relevance",
                        help="relevance (bm25, default) or date (newest first)")
    search.set_defaults(run=run_search)

    stats = commands.add_parser("stats", help="per newsletter: issues, words, dates, last crawl",
                                description="Per newsletter: issues, words, first and last date, last crawl.")
    add_db_option(stats)
    add_json_option(stats)
    stats.set_defaults(run=run_stats)


def _filter(args: argparse.Namespace) -> IssueFilter:
    return IssueFilter(newsletter=args.newsletter, since=args.since, until=args.until, limit=args.limit,
                       author=getattr(args, "author", None), access=getattr(args, "access", None),
                       with_copies=getattr(args, "with_copies", False))


def run_list(args: argparse.Namespace, archive: Archive) -> int:
    issues = archive.list(_filter(args))
    if args.json:
        print_json(issues)
        return 0
    rows = [[i["id"], short_date(i["published_at"]), i["newsletter"], i["title"], i["author"], i["word_count"]]
            for i in issues]
    console().print(table(["id", "date", "newsletter", "title", "author", "words"], rows,
                          title=f"{len(issues)} issue(s) in {archive.url}"))
    return 0


def run_show(args: argparse.Namespace, archive: Archive) -> int:
    issue = archive.get(args.issue)
    if args.json:
        print_json(issue)
        return 0
    out = console()
    out.print(f"[bold]{escape(issue['title'] or '(untitled)')}[/bold]")
    for label, key in (("newsletter", "newsletter"), ("author", "author"), ("published", "published_at"),
                       ("url", "url"), ("words", "word_count"), ("fetched", "fetched_at")):
        out.print(f"[dim]{label:>10}:[/dim] {escape(str(issue[key] or '—'))}")
    if copy_line := _copy_line(issue):
        out.print(f"[dim]{'copy of':>10}:[/dim] {escape(copy_line)}")
    out.print()
    out.print(escape(issue[SHOW_FORMATS[args.format]]))
    return 0


def _copy_line(issue: dict) -> str | None:
    """"copy of #12 Title — URL", or of the likely original of a content-farm copy not in the archive."""
    evidence = issue.get("copy") or {}
    farm = " (content-farm copy: " + "; ".join(r.split(":")[0] for r in evidence["reasons"]) + ")" if evidence.get(
        "is_farm") else ""
    if primary := issue.get("copy_of"):
        return f"#{primary['id']} {primary['title'] or '(untitled)'} — {primary['url']}{farm}"
    if farm:
        return f"{evidence.get('likely_original_url') or 'an unknown original'} (not in the archive){farm}"
    return None


def highlight(snippet: str) -> Text:
    """Search snippets mark matches with ``**…**``; show them bold in the terminal (markup in text stays text)."""
    pattern = re.escape(SNIPPET_OPEN) + "(.*?)" + re.escape(SNIPPET_CLOSE)
    markup = re.sub(pattern, lambda m: f"[bold yellow]{m.group(1)}[/bold yellow]", escape(snippet))
    return Text.from_markup(markup.replace("\n", " "))


def run_search(args: argparse.Namespace, archive: Archive) -> int:
    results = archive.search(args.query, _filter(args), sort=args.sort)
    if args.json:
        print_json(results)
        return 0
    rows = [[r["id"], short_date(r["published_at"]), r["newsletter"], r["title"], highlight(r["snippet"] or "")]
            for r in results]
    console().print(table(["id", "date", "newsletter", "title", "snippet"], rows,
                          title=f"{len(results)} match(es) for {args.query!r}"))
    return 0


def run_stats(args: argparse.Namespace, archive: Archive) -> int:
    stats = archive.stats()
    if args.json:
        print_json(stats)
        return 0
    rows = [[s["newsletter"], s["platform"], s["issues"], s["words"], short_date(s["first_published"]),
             short_date(s["last_published"]), s["last_crawl"] or "—", s["rejected"]] for s in stats]
    console().print(table(["newsletter", "platform", "issues", "words", "first", "last", "last crawl", "rejected"],
                          rows, title=f"Archive {archive.url}"))
    return 0
