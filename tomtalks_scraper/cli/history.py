"""``tomtalks history`` and ``tomtalks diff``: an issue's revisions, and what changed between them."""

from __future__ import annotations

import argparse

from rich.text import Text

from storage import Archive
from storage.db import session_factory
from storage.history import issue_diff, issue_history
from tomtalks_scraper.cli.common import add_db_option, add_json_option, console, print_json, table


def register(commands: argparse._SubParsersAction) -> None:
    history = commands.add_parser("history", help="an issue's revisions (kept when a re-crawl found it changed)",
                                  description="List an issue's revisions, oldest first; the last is the current.")
    history.add_argument("issue", metavar="ID|URL")
    add_db_option(history)
    add_json_option(history)
    history.set_defaults(run=run_history)

    diff = commands.add_parser("diff", help="word-level diff of an issue against an earlier revision",
                               description="Show what changed, word by word, from revision N (default: the "
                                           "previous one) to the current body.")
    diff.add_argument("issue", metavar="ID|URL")
    diff.add_argument("--rev", type=int, metavar="N", help="compare from revision N (see `tomtalks history`)")
    add_db_option(diff)
    add_json_option(diff)
    diff.set_defaults(run=run_diff)


def run_history(args: argparse.Namespace, archive: Archive) -> int:
    with session_factory(archive.engine)() as session:
        history = issue_history(session, args.issue)
    if args.json:
        print_json(history)
        return 0
    rows = [[v["revision"], "current" if v["current"] else "", v["fetched_at"], v["replaced_at"] or "",
             v["word_count"], v["title"], v["content_hash"][:12]] for v in history["versions"]]
    title = f"{history['title']} — {history['url']}" + (f" (gone since {history['gone_at']})"
                                                        if history["gone_at"] else "")
    console().print(table(["rev", "", "last seen", "replaced", "words", "title", "hash"], rows, title=title))
    return 0


def run_diff(args: argparse.Namespace, archive: Archive) -> int:
    with session_factory(archive.engine)() as session:
        diff = issue_diff(session, args.issue, args.rev)
    if args.json:
        print_json(diff)
        return 0
    out = console()
    out.print(f"issue {diff['id']}: revision {diff['from_revision']} → {diff['to_revision']}")
    styled = Text()
    for piece in diff["diff"]:
        if piece["op"] == "=":
            styled.append(piece["text"])
        elif piece["op"] == "-":
            styled.append(f"[-{piece['text']}-]", style="red strike")
        else:
            styled.append(f"{{+{piece['text']}+}}", style="green")
    out.print(styled)
    return 0
