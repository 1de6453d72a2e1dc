"""What ``tomtalks serve`` gives Datasette: ``metadata.yaml`` (search, facets, labels, a ranked search
query) and ``plugins/`` (a year facet). Plain files, usable with ``datasette`` directly too::

    datasette data/newsletters.db -m tomtalks_scraper/datasette/metadata.yaml \\
        --plugins-dir tomtalks_scraper/datasette/plugins

This package imports nothing from Datasette itself: it stays importable without the ``serve`` extra.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
METADATA = HERE / "metadata.yaml"
PLUGINS = HERE / "plugins"
#: The database name the shipped metadata is written for (``data/newsletters.db``, the default archive).
METADATA_DATABASE = "newsletters"
