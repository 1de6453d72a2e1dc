"""Incremental crawling decisions: fetch, re-check conditionally, or skip a known issue.

Pure functions of (what we stored last time, what the listing says now, the clock), so cron
behaviour is tested without a crawl. The rules, cheapest first:

1. Unknown URLs, pages that failed last time, and full refreshes are fetched.
2. A listing that publishes a modification date (sitemap ``lastmod``, feed ``updated``, API
   ``updated``) decides alone: unchanged since our last check → skipped without a request.
3. Otherwise the issue's age sets how often it is re-checked (new issues every run, old ones rarely);
   a due re-check carries ``If-None-Match`` / ``If-Modified-Since``, and a 304 or an identical
   page costs no extraction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage.crawl_state import UrlState
from tomtalks_scraper.items import DiscoveryHints

#: (issues younger than N days, are re-checked at most every H hours); the last row is for all older ones.
DEFAULT_SCHEDULE = "7:0,30:24,365:168,*:720"


class ScheduleError(ValueError):
    """A RECHECK_SCHEDULE setting that cannot be read; the message shows the expected form."""


@dataclass(frozen=True)
class Decision:
    fetch: bool
    headers: dict[str, str]
    reason: str  # new, retry, full, modified, due, unchanged_listing, not_due


def parse_schedule(text: str) -> list[tuple[float, float]]:
    """``"7:0,30:24,*:720"`` → [(7, 0), (30, 24), (inf, 720)] (age in days, interval in hours)."""
    rows = []
    try:
        for part in text.split(","):
            age, interval = part.strip().split(":")
            rows.append((float("inf") if age.strip() == "*" else float(age), float(interval)))
    except ValueError as error:
        raise ScheduleError(f"RECHECK_SCHEDULE {text!r}: expected 'DAYS:HOURS,…,*:HOURS', e.g. "
                            f"{DEFAULT_SCHEDULE!r}") from error
    if not rows or rows[-1][0] != float("inf"):
        rows.append((float("inf"), rows[-1][1] if rows else 0.0))
    return sorted(rows)


def _moment(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        parsed = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def recheck_interval(published_at: str | None, first_seen: str | None, now: datetime,
                     schedule: list[tuple[float, float]]) -> timedelta:
    """How long an issue of this age may go unchecked."""
    born = _moment(published_at) or _moment(first_seen) or now
    age_days = max((now - born).total_seconds() / 86400, 0.0)
    for max_age, hours in schedule:
        if age_days < max_age:
            return timedelta(hours=hours)
    return timedelta(hours=schedule[-1][1])


def conditional_headers(state: UrlState) -> dict[str, str]:
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def decide(state: UrlState | None, hints: DiscoveryHints, now: datetime, schedule: list[tuple[float, float]],
           full: bool = False) -> Decision:
    """Whether (and how) to fetch an issue URL the listing just named."""
    if full:
        return Decision(True, {}, "full")
    if state is None:
        return Decision(True, {}, "new")
    if not state.stored:
        return Decision(True, {}, "retry")
    if hints.updated_at:
        if state.listed_date:  # the listing gave a date last time: any other date means an edit
            unchanged = state.listed_date == hints.updated_at
        else:  # first time this listing gives a date: compare it with our last check
            checked, modified = _moment(state.last_checked_at), _moment(hints.updated_at)
            unchanged = bool(checked and modified and modified <= checked)
        if unchanged:
            return Decision(False, {}, "unchanged_listing")
        return Decision(True, conditional_headers(state), "modified")
    interval = recheck_interval(state.published_at, None, now, schedule)
    last = _moment(state.last_checked_at)
    if last is not None and now - last < interval:
        return Decision(False, {}, "not_due")
    return Decision(True, conditional_headers(state), "due")
