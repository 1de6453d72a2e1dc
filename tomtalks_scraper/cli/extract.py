"""``tomtalks extract FILE|URL…``: what the pipeline would store for saved pages, without a crawl or database.

This is how users (and we) debug extraction: the same ``extract_issue`` the crawl runs.
"""

from __future__ import annotations

import argparse
import gzip
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from tomtalks_scraper.cli.common import CliError, add_json_option, console, print_json, print_json_lines, table

if TYPE_CHECKING:
    from tomtalks_scraper.extraction.issue import ExtractedIssue

# trafilatura and the adapters are imported when the command runs: every other `tomtalks` command
# (and cron's `tomtalks crawl`) starts faster without them.

FETCH_TIMEOUT_S = 30
USER_AGENT = "tomtalks_scraper/0.1 (newsletter archiver; extract command)"


def register(commands: argparse._SubParsersAction) -> None:
    extract = commands.add_parser(
        "extract", help="extract saved pages or URLs as the pipeline would, without storing",
        description="Show what the pipeline would store for each page (a saved .html/.html.gz file or a URL). "
                    "With several inputs and --json, one JSON object per line.",
    )
    extract.add_argument("inputs", nargs="+", metavar="FILE|URL")
    extract.add_argument("--url", help="the page's original URL, for files (platform detection, relative links)")
    extract.add_argument("--platform", help="force a platform adapter instead of detecting it")
    add_json_option(extract)
    extract.set_defaults(run=run_extract, needs_archive=False)


def read_input(source: str) -> tuple[str, str]:
    """(decoded HTML, URL) of a file path or an http(s) URL."""
    from trafilatura.utils import decode_file

    if source.startswith(("http://", "https://")):
        request = urllib.request.Request(source, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_S) as response:  # noqa: S310
                return decode_file(response.read()), response.geturl()
        except OSError as error:
            raise CliError(f"cannot fetch {source}: {error}") from error
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {source}: {error.strerror or error}") from error
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return decode_file(data), path.resolve().as_uri()


def extract_one(source: str, url: str | None, platform: str | None) -> ExtractedIssue:
    from tomtalks_scraper.extraction.issue import ExtractionError, extract_issue

    html, found_url = read_input(source)
    try:
        return extract_issue(html, url or found_url, platform=platform)
    except (ExtractionError, KeyError) as error:
        raise CliError(f"{source}: {error}") from error


def run_extract(args: argparse.Namespace, _archive: None) -> int:
    if args.url and len(args.inputs) > 1:
        raise CliError("--url names one page's URL: give it with a single input", exit_code=2)
    results = [(source, extract_one(source, args.url, args.platform)) for source in args.inputs]
    if args.json:
        dicts = [{"source": source, **issue.to_dict()} for source, issue in results]
        print_json(dicts[0]) if len(dicts) == 1 else print_json_lines(dicts)
        return 0
    out = console()
    for source, issue in results:
        rows = [[name, value] for name, value in (
            ("source", source), ("platform", issue.platform), ("title", issue.title), ("author", issue.author),
            ("published", issue.published_at), ("language", issue.language), ("words", issue.word_count),
            ("canonical", issue.canonical_url),
        )]
        out.print(table(["field", "value"], rows))
        out.print(issue.body_text, markup=False)
        out.print()
    return 0
