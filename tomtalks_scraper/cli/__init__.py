"""The ``tomtalks`` command: a thin layer over ``storage.Archive`` and the extraction code.

Each command lives in a small module that registers its sub-parser; errors become one line on
stderr and a non-zero exit code (1: the command failed, 2: the command line was wrong).
"""

from __future__ import annotations

import argparse
import logging
import sys

from storage import Archive, DatabaseError
from storage.queries import QueryError
from tomtalks_scraper import __version__
from tomtalks_scraper.cli import crawl, demo, duplicates, export, extract, failures, history, read, serve, sql
from tomtalks_scraper.cli.common import CliError
from tomtalks_scraper.crawl import CrawlFailed


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tomtalks",
        description="Archive newsletters into a database you own, and query it.",
        epilog="Crawl with `scrapy crawl newsletter -a url=URL` from the project folder. "
               "Run `tomtalks COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (demo, crawl, read, history, failures, extract, export, sql, serve, duplicates):
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    archive = None
    try:
        if getattr(args, "needs_archive", True):
            archive = Archive.open(args.db)
        return args.run(args, archive)
    except (CliError, DatabaseError, QueryError, CrawlFailed) as error:
        print(f"tomtalks: error: {error}", file=sys.stderr)
        return getattr(error, "exit_code", 1)
    except BrokenPipeError:  # `tomtalks list | head`
        return 0
    finally:
        if archive is not None:
            archive.close()

