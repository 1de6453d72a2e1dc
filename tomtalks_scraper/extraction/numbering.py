"""Issue numbers printed in titles: "#123", "Issue 12", "No. 7", "Vol. 4, No. 2", "Edition 9"."""

from __future__ import annotations

import re
from dataclasses import dataclass

_VOLUME = re.compile(r"\bvol(?:ume)?\.?\s*(\d{1,4})\s*[,.:/-]?\s*(?:no|nr|number|issue|#)\.?\s*#?(\d{1,5})\b", re.I)
_NUMBER = re.compile(
    r"(?:(?<![\w&])#\s?(\d{1,5})\b)|\b(?:issue|edition|episode|no|nr|number|ausgabe)\.?\s*#?\s?(\d{1,5})\b", re.I
)


@dataclass(frozen=True)
class Numbering:
    number: int | None = None
    volume: int | None = None


def parse_numbering(title: str | None) -> Numbering:
    """The issue (and volume) number a title carries; empty when it carries none.

    A bare number is not an issue number ("10 lessons from 2023"): only numbers marked by ``#``,
    "Issue", "No." and their kin count.
    """
    if not title:
        return Numbering()
    volume = _VOLUME.search(title)
    if volume:
        return Numbering(number=int(volume.group(2)), volume=int(volume.group(1)))
    number = _NUMBER.search(title)
    if number:
        return Numbering(number=int(number.group(1) or number.group(2)))
    return Numbering()
