"""Seeding: put start URLs into the shared frontier, where any worker picks them up.

``python -m tomtalks_scraper.distributed seed URL… [--newsletter NAME] [--redis URL]`` (what cron runs on
one node). A seed is the start request the spider's ``start()`` would make — ``parse_start`` with the
start URL as its ``source`` — serialized as scrapy-redis serializes requests. Seeds bypass the
duplicate filter (a newsletter is re-read every round). When the frontier is empty, a seed opens a new
round: the duplicate filter of the last round is cleared, so issues are re-checked by the incremental
rules (unchanged ones are skipped by the spider, not by the filter); the database dedupes by URL
whatever happens.

``tomtalks crawl --distributed [NAME…]`` seeds the newsletters of ``newsletters.toml`` the same way
(``seed_config``). Exit codes: 0 seeded, 2 bad command line (a URL that is not http(s), credentials in a URL), 4 Redis
unusable.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import scrapy

from tomtalks_scraper.cli.common import CliError
from tomtalks_scraper.config import NewsletterConfig
from tomtalks_scraper.distributed.addon import DistributedSetupError, connect, redis_url
from tomtalks_scraper.distributed.frontier import DEFAULT_PREFIX, Frontier, FrontierKeys
from tomtalks_scraper.spiders.newsletter import NewsletterSpider, UsageError
from tomtalks_scraper.urls import split_credentials

EXIT_OK, EXIT_USAGE, EXIT_REDIS = 0, 2, 4


def seed(server: object, urls: Sequence[str], newsletter: str | None = None,
         prefix: str = DEFAULT_PREFIX, spider_name: str = NewsletterSpider.name) -> tuple[int, bool]:
    """Push one start request per URL; returns (queued requests now, whether a new round was opened)."""
    from scrapy_redis.queue import PriorityQueue

    for url in urls:
        if split_credentials(url)[1]:
            raise UsageError(f"{split_credentials(url)[0]}: credentials in a start URL would be stored in Redis; "
                             "seed the URL without user:password@")
    spider = NewsletterSpider(url=",".join(urls), newsletter=newsletter)  # validates the URLs, names callbacks
    keys = FrontierKeys(prefix, spider_name)
    frontier = Frontier(server, keys)  # type: ignore[arg-type]
    new_round = not frontier.busy()
    if new_round:
        server.delete(keys.seen)  # type: ignore[attr-defined]
    queue = PriorityQueue(server=server, spider=spider, key=keys.queue)
    for url in spider.start_urls:
        queue.push(scrapy.Request(url, callback=spider.parse_start, errback=spider.on_error, dont_filter=True,
                                  meta={"newsletter": newsletter, "source": url}))
    return len(queue), new_round


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tomtalks_scraper.distributed",
                                     description="Work with the shared crawl frontier (docs/scaling.md).")
    commands = parser.add_subparsers(dest="command", required=True)
    seeding = commands.add_parser("seed", help="put start URLs into the frontier")
    seeding.add_argument("urls", nargs="+", metavar="URL", help="feed, sitemap, home, archive or issue URL")
    seeding.add_argument("--newsletter", help="the newsletter's name (default: the feed's title, the site's name)")
    seeding.add_argument("--redis", help="Redis URL (default: $REDIS_URL)")
    seeding.add_argument("--prefix", default=DEFAULT_PREFIX, help="key prefix (setting DISTRIBUTED_KEY_PREFIX)")
    args = parser.parse_args(argv)
    try:
        server = connect(args.redis or redis_url())
    except DistributedSetupError as error:
        print(f"seed: {error}", file=sys.stderr)
        return EXIT_REDIS
    try:
        queued, new_round = seed(server, [u.strip() for u in args.urls if u.strip()], args.newsletter, args.prefix)
    except UsageError as error:
        print(f"seed: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(f"seeded {len(args.urls)} start URL(s); {queued} request(s) queued"
          f"{' (new round: duplicate filter cleared)' if new_round else ''}")
    return EXIT_OK


def seed_config(entries: Sequence[NewsletterConfig], redis: str | None = None, *, only_due: bool = False,
                prefix: str = DEFAULT_PREFIX) -> int:
    """``tomtalks crawl --distributed``: seed these configured newsletters (one line each); the exit code.

    With ``only_due`` (cron's hourly run, no names given) a newsletter is seeded only when its ``schedule``
    says so, counted from its last seeding — kept in Redis beside the frontier (``<prefix>:seeded``), since
    the workers, not this command, record the crawl runs."""
    try:
        server = connect(redis or redis_url())
    except DistributedSetupError as error:
        raise CliError(str(error), exit_code=EXIT_REDIS) from error
    seeded_key = f"{prefix}:seeded"
    now = datetime.now(UTC)
    for entry in entries:
        if not entry.urls:
            print(f"{entry.name}: skipped (no start URL: set its `urls` in the config)")
            continue
        last = server.hget(seeded_key, entry.name)  # type: ignore[attr-defined]
        last = last.decode() if isinstance(last, bytes) else last
        if only_due and not entry.is_due(last, now):
            print(f"{entry.name}: not due (schedule {entry.schedule!r}, last seeded {last})")
            continue
        try:
            queued, _ = seed(server, entry.urls, entry.name, prefix)
        except UsageError as error:
            raise CliError(f"{entry.name}: {error}", exit_code=EXIT_USAGE) from error
        server.hset(seeded_key, entry.name, now.isoformat(timespec="seconds"))  # type: ignore[attr-defined]
        print(f"{entry.name}: seeded {len(entry.urls)} start URL(s) ({queued} request(s) queued)")
    return EXIT_OK
