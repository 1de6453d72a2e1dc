"""Spiders: discovery and fetching only. `newsletter` takes any URL; `tomtalks` reads newsletters.toml."""
