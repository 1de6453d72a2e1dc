"""Scrapy's downloader with the per-site concurrency limit enforced on the asyncio reactor.

Why (measured on Scrapy 2.19 / Twisted 26.10, see docs/benchmarks.md, "Why requests from a
callback were slow"): ``Downloader._process_queue`` starts queued requests while
``slot.free_transfer_slots() > 0``, but a request only enters ``slot.transferring`` once the
coroutine started by ``_schedule_coro(self._wait_for_download(…))`` runs. On the other reactors
that coroutine runs at once, up to its first ``await``; on the asyncio reactor it is a task that
runs on the next turn of the loop. So when several requests wait in a slot — always the case when
a listing callback yields many requests at once, never when ``start()`` yields them one by one —
the loop starts *all* of them: ``CONCURRENT_REQUESTS_PER_DOMAIN`` is ignored and the only limit is
``CONCURRENT_REQUESTS``. Then no slot is free until that whole burst has finished, and the next
burst leaves together again.

For politeness that means up to ``CONCURRENT_REQUESTS`` simultaneous connections to one site (when
``DOWNLOAD_DELAY`` is 0; a delay already released one request per call). For speed it means bursts of
connection attempts: a server with a short listen backlog (Python's ``http.server`` has 5) drops
the excess SYNs, and each dropped one costs the kernel's 1-second SYN retransmission timeout.

The fix reserves the transfer slot before the coroutine is scheduled, so the limit holds on every
reactor; the rest of ``_process_queue`` is Scrapy's. If Scrapy's internals no longer have the shape
this relies on, the class leaves Scrapy's own method in place (and says so in the log).
"""

from __future__ import annotations

import inspect
import logging
from time import monotonic

from scrapy.core.downloader import Downloader, Slot
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro

logger = logging.getLogger(__name__)


def _compatible() -> bool:
    """Whether Scrapy's downloader still has the members and signatures this fix assumes."""
    try:
        parameters = list(inspect.signature(Downloader._process_queue).parameters)
        waits = list(inspect.signature(Downloader._wait_for_download).parameters)
    except (AttributeError, TypeError, ValueError):
        return False
    slot_fields = ("transferring", "queue", "latercall", "lastseen")
    return (parameters == ["self", "slot"] and waits == ["self", "slot", "request", "queue_dfd"]
            and hasattr(Downloader, "_latercall") and all(name in Slot.__slots__ for name in slot_fields))


COMPATIBLE = _compatible()


class SlotLimitedDownloader(Downloader):
    """``Downloader`` whose per-slot concurrency holds on the asyncio reactor too."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - Scrapy's own signature
        super().__init__(*args, **kwargs)
        if not COMPATIBLE:
            logger.warning("Scrapy's downloader changed shape: using its own request release (per-site "
                           "concurrency may not hold on the asyncio reactor)")

    def _process_queue(self, slot: Slot) -> None:
        if not COMPATIBLE:
            super()._process_queue(slot)
            return
        if slot.latercall:
            return  # a delayed call will process the queue
        now = monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            # Reserve the transfer slot now: the coroutine below may only start on the next loop turn.
            # (``_download`` adds the request to this set again and removes it when the transfer ends.)
            slot.transferring.add(request)
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:
                self._process_queue(slot)
                break
