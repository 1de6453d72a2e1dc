"""``tomtalks export``: the archive as Markdown files, JSON Lines, CSV or EPUB books.

A thin layer over ``Archive.export``; what it adds is the progress bar. The bar goes to stderr (so
``--out -`` can pipe the export itself on stdout), and only when stderr is a terminal and the
export is long enough for one to help; ``--progress`` / ``--no-progress`` decide otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from storage import Archive
from storage.exports import FORMATS
from storage.queries import IssueFilter
from tomtalks_scraper.cli.common import CliError, add_db_option, iso_date, print_json
from tomtalks_scraper.cli.read import add_author_access_options

#: Below this many issues an export takes well under a second: a bar would only flicker.
PROGRESS_THRESHOLD = 200
STDOUT_FORMATS = ("jsonl", "csv")


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "export", help="export issues: markdown, jsonl, csv, epub",
        description="Export issues (oldest first, by newsletter) as Markdown files with YAML front matter "
                    "(one folder per newsletter), JSON Lines, CSV, or EPUB books (one per newsletter). "
                    "The same archive always gives byte-identical files.",
    )
    parser.add_argument("--format", required=True, choices=FORMATS, help="what to write")
    parser.add_argument("--out", required=True, metavar="PATH",
                        help="markdown: a folder; jsonl, csv: a file or - for standard output; "
                             "epub: a .epub file (one newsletter) or a folder (one book per newsletter)")
    parser.add_argument("--newsletter", help="only issues of this newsletter (name, case-insensitive)")
    parser.add_argument("--since", type=iso_date, help="only issues published on or after DATE (YYYY-MM-DD)")
    parser.add_argument("--until", type=iso_date, help="only issues published on or before DATE (YYYY-MM-DD)")
    add_author_access_options(parser)
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="always show a progress bar on stderr")
    bar.add_argument("--no-progress", dest="progress", action="store_false",
                     help="never show a progress bar")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON summary (format, issues, files) instead of a line on stderr")
    add_db_option(parser)
    parser.set_defaults(run=run_export)


@contextmanager
def progress_bar(total: int, label: str, show: bool, force: bool = False) -> Iterator[Callable[[int], None]]:
    """A tick function advancing a rich bar on stderr, or doing nothing when ``show`` is false.

    ``force`` draws it even when stderr is not a terminal (``--progress``).
    """
    if not show or total == 0:
        yield lambda _n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    console = Console(file=sys.stderr, force_terminal=force or None)
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def run_export(args: argparse.Namespace, archive: Archive) -> int:
    if args.out == "-" and args.format not in STDOUT_FORMATS:
        raise CliError(f"--out - (standard output) works for {' and '.join(STDOUT_FORMATS)}, not {args.format}",
                       exit_code=2)
    if args.json and args.out == "-":
        raise CliError("--json and --out - both write to standard output: choose one", exit_code=2)
    where = IssueFilter(newsletter=args.newsletter, since=args.since, until=args.until, author=args.author,
                        access=args.access, limit=None)
    total = archive.count(where)
    show = args.progress if args.progress is not None else (sys.stderr.isatty() and total >= PROGRESS_THRESHOLD)
    try:
        with progress_bar(total, f"export {args.format}", show, force=args.progress is True) as tick:
            files = archive.export(args.format, args.out, where, progress=tick)
    except OSError as error:  # unwritable folder, full disk…: one line, not a traceback
        raise CliError(f"cannot write {args.out}: {error.strerror or error}") from error
    if args.json:
        print_json({"format": args.format, "issues": total, "files": [str(path) for path in files]})
    else:
        where_to = "standard output" if args.out == "-" else args.out
        print(f"exported {total} issue(s) as {args.format} to {where_to} ({len(files)} file(s))", file=sys.stderr)
    return 0
