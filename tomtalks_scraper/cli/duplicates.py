"""``tomtalks duplicates``: the works of the archive (one text published several times) and farm copies.

Each group shows its primary copy first, then the copies with their similarity to the issue they
matched and, for content-farm copies, the reasons. Issues stored before the archive tracked
duplicates are indexed first (once; a progress line goes to stderr).
"""

from __future__ import annotations

import argparse
import sys

from rich.markup import escape

from storage import Archive
from tomtalks_scraper.cli.common import add_db_option, add_json_option, console, print_json, short_date


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "duplicates", help="groups of copies of one issue (cross-posts, content farms), with similarity and reasons",
        description="List the works of the archive: issues that are copies of one text (cross-posts, mirrors, "
                    "content-farm copies), the primary copy first, each copy with its similarity and reasons; then "
                    "content-farm copies whose original is not in the archive. `list` and `search` show only "
                    "primary copies unless --with-copies.",
    )
    parser.add_argument("--prefer", metavar="PLATFORMS",
                        help="comma-separated platforms to prefer, in order, as a work's primary copy (e.g. "
                             "linkedin,substack); kept in the archive for later crawls; 'default' goes back to "
                             "the default order (a platform's page over a generic page, then the earliest)")
    parser.add_argument("--rebuild", action="store_true",
                        help="fingerprint and group every issue again (after changing thresholds or a bug fix)")
    add_db_option(parser)
    add_json_option(parser)
    parser.set_defaults(run=run_duplicates)


def _progress(done: int, total: int) -> None:
    print(f"\rindexing issues for duplicates: {done:,}/{total:,}", end="" if done < total else "\n",
          file=sys.stderr)


def run_duplicates(args: argparse.Namespace, archive: Archive) -> int:
    archive.index_duplicates(rebuild=args.rebuild, progress=_progress)
    if args.prefer is not None:
        platforms = [] if args.prefer.strip().lower() == "default" else [
            p.strip() for p in args.prefer.split(",") if p.strip()]
        archive.prefer_platforms(platforms)
    groups = archive.duplicates()
    if args.json:
        print_json(groups)
        return 0
    out = console()
    works = [g for g in groups if g["work"] is not None]
    out.print(f"{len(works)} work(s) with copies, {len(groups) - len(works)} content-farm copy(ies) "
              f"whose original is not in the archive")
    for group in groups:
        out.print()
        if group["work"] is not None:
            out.print(f"[bold]work {group['work']}[/bold]")
        else:
            out.print(f"[bold]copy of {escape(group['original_url'] or 'an unknown original')}[/bold] "
                      "(not in the archive)")
        for member in group["members"]:
            similarity = "" if member["similarity"] is None else (
                f" similarity {member['similarity']:.2f} (containment {member['containment']:.2f})")
            out.print(f"  {member['role']:>7} #{member['id']} {short_date(member['published_at'])} "
                      f"[{escape(member['platform'])}] {escape(member['title'] or '(untitled)')} — "
                      f"{escape(member['url'])}{similarity}")
            if member["copy"] and member["copy"]["is_farm"]:
                out.print(f"          content-farm copy (score {member['copy']['score']}):")
                for reason in member["copy"]["reasons"]:
                    out.print(f"            - {escape(reason)}")
    return 0
