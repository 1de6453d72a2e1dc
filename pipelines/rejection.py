"""``Rejected``: how a pipeline stage says "this page is not stored as an issue, and here is why"."""

from __future__ import annotations

from scrapy.exceptions import DropItem


class Rejected(DropItem):
    """A dropped page with a short machine-readable ``reason`` and a human ``detail``.

    The store pipeline listens for dropped items and records each one in ``rejected_pages``.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
