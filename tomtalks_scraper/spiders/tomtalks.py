"""``scrapy crawl tomtalks``: archive a newsletter named in ``newsletters.toml`` (TomTalks by default)."""

from __future__ import annotations

from typing import Any

from tomtalks_scraper.config import DEFAULT_CONFIG, ConfigError, find_newsletter, load_config
from tomtalks_scraper.spiders.newsletter import NewsletterSpider


class TomTalksSpider(NewsletterSpider):
    """The preset: start URLs, name and platform come from the config file, not from ``-a url=``.

    ``-a name=NAME`` picks another entry, ``-a config=PATH`` another file.
    """

    name = "tomtalks"

    def __init__(self, name: str | None = None, config: str | None = None, **kwargs: Any) -> None:
        path = config or str(DEFAULT_CONFIG)
        entry = find_newsletter(load_config(path), name)
        if not entry.urls:
            raise ConfigError(
                f"{path}: newsletter {entry.name!r} has no start URL yet. Set its key `urls`, e.g. "
                f'urls = ["https://www.linkedin.com/newsletters/<slug>-<id>/"], then run again.'
            )
        super().__init__(url=",".join(entry.urls), newsletter=entry.name, platform=entry.platform, **kwargs)
