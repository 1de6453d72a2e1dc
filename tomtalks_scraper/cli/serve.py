"""``tomtalks serve``: browse the archive in Datasette, with search, facets and links set up.

Datasette runs in this process (no child to orphan when the command is stopped) on 127.0.0.1 by
default, with the project's ``metadata.yaml`` re-keyed to the archive's database name and the
year-facet plugin. Datasette opens the file read-only. It is an optional extra:
``pip install 'tomtalks-scraper[serve]'``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import threading
import webbrowser
from pathlib import Path
from typing import Any

from storage import Archive
from storage.db import sqlite_path
from tomtalks_scraper.cli.common import CliError, add_db_option
from tomtalks_scraper.datasette import METADATA, METADATA_DATABASE, PLUGINS

#: Facets over 100,000 issues can take ~100 ms (Datasette allows 200 ms). Facet *suggestions* try
#: every column of every page and cost seconds on a large archive: the useful facets are configured.
SETTINGS = {"facet_time_limit_ms": 1000, "sql_time_limit_ms": 3000, "suggest_facets": False}
INSTALL_HINT = "pip install 'tomtalks-scraper[serve]' (or pip install 'datasette>=0.65,<1.0')"


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "serve", help="browse the archive in Datasette (search, facets)",
        description="Serve the archive with Datasette on this machine: full-text search on issues, facets on "
                    f"newsletter, author, year and access, a ranked search query. Needs Datasette: {INSTALL_HINT}.",
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8001, help="port (default 8001)")
    parser.add_argument("--no-open", dest="open", action="store_false", help="do not open a web browser")
    add_db_option(parser)
    parser.set_defaults(run=run_serve)


def datasette_metadata(database: str) -> dict[str, Any]:
    """The shipped metadata with its database block under ``database`` (Datasette's name for the file)."""
    import yaml  # a Datasette dependency, present whenever Datasette is

    metadata = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    databases = metadata.get("databases", {})
    if METADATA_DATABASE in databases and database != METADATA_DATABASE:
        databases[database] = databases.pop(METADATA_DATABASE)
    return metadata


def build_datasette(path: Path) -> tuple[Any, str]:
    """A configured ``Datasette`` for the archive file and the name it serves it under."""
    from datasette.app import Datasette

    name = path.stem
    datasette = Datasette([str(path)], metadata=datasette_metadata(name), plugins_dir=str(PLUGINS),
                          settings=SETTINGS)
    if name not in datasette.databases:  # Datasette named it otherwise: re-key the metadata
        name = next(n for n in datasette.databases if not n.startswith("_"))
        datasette = Datasette([str(path)], metadata=datasette_metadata(name), plugins_dir=str(PLUGINS),
                              settings=SETTINGS)
    return datasette, name


def run_serve(args: argparse.Namespace, archive: Archive) -> int:
    if importlib.util.find_spec("datasette") is None or importlib.util.find_spec("uvicorn") is None:
        raise CliError(f"tomtalks serve needs Datasette: {INSTALL_HINT}")
    path = sqlite_path(archive.engine.url.render_as_string(hide_password=False))
    if path is None:
        raise CliError("tomtalks serve works on SQLite archives (Datasette reads SQLite files)")
    archive.close()  # the schema is up to date (opening migrated it); Datasette reads the file itself
    import uvicorn

    datasette, name = build_datasette(path.resolve())
    url = f"http://{args.host}:{args.port}{datasette.urls.table(name, 'issues')}"
    print(f"tomtalks: serving {path} at {url} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    if args.open:
        threading.Timer(1.0, webbrowser.open, [url]).start()
    try:
        uvicorn.run(datasette.app(), host=args.host, port=args.port, log_level="warning")
    except (OSError, SystemExit) as error:  # port in use: uvicorn logs it and exits
        raise CliError(f"cannot serve on {args.host}:{args.port}: {error}") from error
    return 0
