"""Platform adapters, one module per platform; this package finds them by itself.

Adding a platform is adding one module here that defines ``ADAPTER`` (a ``PlatformAdapter``):
nothing else needs to be touched. ``generic`` is the fallback when no other adapter claims a page.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from lxml import html as lxml_html

from tomtalks_scraper.platforms.base import PlatformAdapter
from tomtalks_scraper.platforms.page_names import PageNames

GENERIC = "generic"


@cache
def all_adapters() -> dict[str, PlatformAdapter]:
    """Every adapter by platform name, generic last (so detection tries the specific ones first)."""
    found: dict[str, PlatformAdapter] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name in ("base", "page_names"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        adapter = getattr(module, "ADAPTER", None)
        if isinstance(adapter, PlatformAdapter):
            found[adapter.name] = adapter
    generic = found.pop(GENERIC)
    found[GENERIC] = generic
    return found


def get_adapter(name: str | None) -> PlatformAdapter:
    """The adapter called ``name``; an unknown name is an error naming the known ones."""
    adapters = all_adapters()
    key = (name or GENERIC).lower()
    if key not in adapters:
        raise KeyError(f"unknown platform {name!r}; known platforms: {', '.join(sorted(adapters))}")
    return adapters[key]


def detect_platform(url: str, tree: lxml_html.HtmlElement | None = None,
                    names: PageNames | None = None) -> PlatformAdapter:
    """The adapter for a page: by URL first (cheap), then by page markers (custom domains).
    ``names``: the ids and classes of ``tree``, when the caller has read them."""
    specific = [a for name, a in all_adapters().items() if name != GENERIC]
    for adapter in specific:
        if adapter.matches_url(url):
            return adapter
    if tree is not None:
        names = names or PageNames.of(tree)
        for adapter in specific:
            if adapter.matches_page(tree, names):
                return adapter
    return all_adapters()[GENERIC]
