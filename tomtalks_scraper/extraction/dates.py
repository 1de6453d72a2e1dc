"""Turn the many date spellings found in pages and feeds into one UTC ISO 8601 form.

A wrong date is worse than none: anything we cannot read with certainty becomes ``None``
rather than a guess (bare trafilatura guesses 2018-01-01 for the seed page from its text).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_DATE_ONLY = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})$")
_EPOCH_MS = re.compile(r"^\d{12,13}$")
_EARLIEST_YEAR = 1990  # no newsletter issue on the web is older; earlier years are parse noise


def to_utc_iso(value: object) -> str | None:
    """Normalise a date from a page, feed or API to ``YYYY-MM-DDTHH:MM:SSZ`` (or ``YYYY-MM-DD``).

    Accepts ISO 8601 (with or without zone; naive times are taken as UTC), RFC 822 feed dates,
    epoch milliseconds (LinkedIn's article JSON) and ``datetime`` objects. A bare date stays a bare
    date: inventing midnight would claim a precision the source does not have.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return _format(value)
    text = str(value).strip()
    if not text:
        return None
    if _EPOCH_MS.match(text):
        return _format(datetime.fromtimestamp(int(text) / 1000, tz=UTC))
    date_only = _DATE_ONLY.match(text)
    if date_only:
        year = int(date_only.group(1))
        try:
            datetime(year, int(date_only.group(2)), int(date_only.group(3)))
        except ValueError:
            return None
        return f"{year:04d}-{date_only.group(2)}-{date_only.group(3)}" if _plausible(year) else None
    parsed = _parse_iso(text) or _parse_rfc822(text)
    return _format(parsed) if parsed else None


def _parse_iso(text: str) -> datetime | None:
    candidate = text.replace("Z", "+00:00").replace(" ", "T", 1) if "T" not in text else text.replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        return None


def _parse_rfc822(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _plausible(year: int) -> bool:
    return _EARLIEST_YEAR <= year <= datetime.now(UTC).year + 1


def _format(moment: datetime) -> str | None:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):  # CMS placeholders such as 0001-01-01T00:00:00+01:00
        return None
    if not _plausible(moment.year):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
