"""``newsletters.toml``: the newsletters a user archives. Validated with errors that name the fix.

    [[newsletter]]
    name = "TomTalks"
    platform = "linkedin"
    urls = ["https://www.linkedin.com/newsletters/<slug>-<id>/"]
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_CONFIG = Path("newsletters.toml")
KNOWN_KEYS = {"name", "urls", "platform", "schedule", "include", "exclude"}


_INTERVAL = re.compile(r"^(\d+)\s*([mhd])$")
_NAMED_INTERVALS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1)}
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_interval(text: str) -> timedelta:
    """A schedule: "hourly", "daily", "weekly", or a number with m/h/d ("30m", "6h", "2d")."""
    lowered = text.strip().lower()
    if lowered in _NAMED_INTERVALS:
        return _NAMED_INTERVALS[lowered]
    match = _INTERVAL.match(lowered)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a schedule: use hourly, daily, weekly or e.g. 30m, 6h, 2d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class ConfigError(ValueError):
    """The config file is missing or wrong; the message names the file, the entry and the key."""


@dataclass(frozen=True)
class NewsletterConfig:
    name: str
    urls: list[str] = field(default_factory=list)
    platform: str | None = None
    schedule: str | None = None
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)

    @property
    def interval(self) -> timedelta:
        """How often cron runs should crawl it (every run when no schedule is set)."""
        return parse_interval(self.schedule) if self.schedule else timedelta(0)

    def is_due(self, last_started: str | None, now: datetime) -> bool:
        """Whether a cron run at ``now`` should crawl it, given when its last run started (ISO 8601, or None)."""
        if not last_started or self.interval <= timedelta(0):
            return True
        return now - datetime.fromisoformat(last_started.replace("Z", "+00:00")) >= self.interval


def load_config(path: Path | str = DEFAULT_CONFIG) -> list[NewsletterConfig]:
    """Read and validate the file; entries keep the file's order."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"{path}: no such file; create it with one [[newsletter]] table per newsletter") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error
    unknown_top = set(data) - {"newsletter"}
    if unknown_top:
        raise ConfigError(f"{path}: unknown top-level key(s) {sorted(unknown_top)}; expected [[newsletter]] tables")
    entries = data.get("newsletter", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: 'newsletter' must be an array of tables: write [[newsletter]]")
    result: list[NewsletterConfig] = []
    for index, entry in enumerate(entries, start=1):
        result.append(_entry(path, index, entry))
    names = [e.name.lower() for e in result]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{path}: newsletter name(s) used twice: {duplicates}")
    return result


def _entry(path: Path, index: int, entry: dict) -> NewsletterConfig:
    where = f"{path}: [[newsletter]] #{index}"
    unknown = set(entry) - KNOWN_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; known keys: {sorted(KNOWN_KEYS)}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: 'name' must be a non-empty string")
    urls = entry.get("urls", [])
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise ConfigError(f"{where} ({name}): 'urls' must be a list of URL strings")
    urls = [u.strip() for u in urls if u.strip()]
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or "<" in url:
            raise ConfigError(f"{where} ({name}): {url!r} in 'urls' is not a full http(s) URL")
    platform = entry.get("platform")
    if platform is not None and (not isinstance(platform, str) or not platform.strip()):
        raise ConfigError(f"{where} ({name}): 'platform' must be a platform name such as \"substack\"")
    schedule = entry.get("schedule")
    if schedule is not None:
        try:
            parse_interval(str(schedule))
        except ValueError as error:
            raise ConfigError(f"{where} ({name}): 'schedule': {error}") from error
    for key in ("include", "exclude"):
        for pattern in _patterns(where, name, entry, key):
            try:
                re.compile(pattern)
            except re.error as error:
                message = f"{where} ({name}): {key} pattern {pattern!r} is not a valid regex: {error}"
                raise ConfigError(message) from None
    return NewsletterConfig(
        name=name.strip(),
        urls=urls,
        platform=platform,
        schedule=str(schedule) if schedule is not None else None,
        include=_patterns(where, name, entry, "include"),
        exclude=_patterns(where, name, entry, "exclude"),
    )


def _patterns(where: str, name: str, entry: dict, key: str) -> list[str]:
    """A list of URL patterns; one string alone is accepted as a list of one."""
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} ({name}): '{key}' must be a list of URL patterns (strings)")
    return value


def find_newsletter(entries: list[NewsletterConfig], name: str | None) -> NewsletterConfig:
    """The entry called ``name`` (case-insensitive), or the first one when ``name`` is None."""
    if not entries:
        raise ConfigError("the config lists no newsletters; add a [[newsletter]] table")
    if name is None:
        return entries[0]
    for entry in entries:
        if entry.name.lower() == name.lower():
            return entry
    raise ConfigError(f"no newsletter named {name!r}; configured: {[e.name for e in entries]}")
