"""Group the store stage's writes into one transaction per batch, written by one thread of its own,
without weakening what "stored" means.

Why batches: a transaction per page costs a commit and, worse, one FTS5 index segment per page
(merged again later); grouping pages costs neither. Why a thread: a batch of pages costs tens of
milliseconds (ORM, the page's gzip, the FTS index, the copy checks); in the reactor thread that
time would stall downloads and leave the extraction workers without pages. The writer thread is
the only user of its database connection; SQLite, zlib and lxml release the GIL while they work.

What must not change: an item reported stored is committed, and a page's issue and crawl state are
written together. So each write is handed over as a function of a session, and its caller gets a
Deferred that fires only after the batch holding it has committed (with the write's own result, or
its exception). The store pipeline awaits that Deferred before returning the item, so Scrapy
reports an item scraped (and ``-O`` exports it) only once it is in the database. A crash loses at
most the batches not yet committed — pages whose crawl state was not written either, so the next
run fetches them again.

A batch is written when it holds ``max_writes`` writes, ``max_seconds`` after its first write (a
timer, so a slow trickle of pages is not held back), as soon as every item in Scrapy's pipelines is
waiting for it (nothing else can join the batch: the end of a crawl, or a crawl slower than the
database), and when the crawl closes. One batch is written at a time; writes that arrive meanwhile
form the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scrapy.utils.asyncio import CallLaterResult, call_later
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from pipelines.futures import deferred_from_future, wait_for
from storage.recorder import CrawlRecorder, Write


class WriteBatcher:
    def __init__(self, database_url: str, max_writes: int, max_seconds: float,
                 items_in_flight: Callable[[], int | None] | None = None) -> None:
        self.database_url = database_url
        self.items_in_flight = items_in_flight  # items in Scrapy's pipelines now, when Scrapy tells
        self.max_writes = max(max_writes, 1)
        self.max_seconds = max(max_seconds, 0.0)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tomtalks-store")
        self.recorder: CrawlRecorder | None = None
        self._pending: list[tuple[Write, Deferred[Any]]] = []
        self._timer: CallLaterResult | None = None
        self._due = False  # the timer fired (or the crawl closes): write what is pending as soon as possible
        self._writing: Deferred[None] | None = None
        self._writing_count = 0
        self.batches = 0
        self.writes = 0
        self.largest = 0

    async def open(self) -> CrawlRecorder:
        """Open the archive in the writer thread (its connections belong to that thread)."""
        self.recorder = await wait_for(self._thread.submit(CrawlRecorder.open, self.database_url))
        return self.recorder

    def submit(self, write: Write) -> Deferred[Any]:
        """Queue ``write``; the Deferred fires with its result once its batch is committed."""
        done: Deferred[Any] = Deferred()
        self._pending.append((write, done))
        if self.max_seconds == 0 or len(self._pending) >= self.max_writes or self._nothing_else_coming():
            self._due = True
        elif self._timer is None:
            self._timer = call_later(self.max_seconds, self._on_timer)
        self._maybe_write()
        return done

    def _nothing_else_coming(self) -> bool:
        """Every item in the pipelines waits for a write: waiting longer would only delay them."""
        in_flight = self.items_in_flight() if self.items_in_flight is not None else None
        return in_flight is not None and len(self._pending) + self._writing_count >= in_flight

    def _on_timer(self) -> None:
        self._timer = None
        self._due = True
        self._maybe_write()

    def _maybe_write(self) -> None:
        """Start writing the pending batch if it is due and no batch is being written."""
        if self._writing is not None or not self._pending or not self._due:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending[: self.max_writes], self._pending[self.max_writes :]
        self._due = len(self._pending) >= self.max_writes  # a backlog: the next batch is due at once
        self.batches += 1
        self.writes += len(batch)
        self.largest = max(self.largest, len(batch))
        self._writing_count = len(batch)
        future = self._thread.submit(self.recorder.run_batch, [write for write, _ in batch])
        self._writing = deferred_from_future(future)
        self._writing.addBoth(self._written, batch)

    def _written(self, results: list[Any] | Failure, batch: list[tuple[Write, Deferred[Any]]]) -> None:
        self._writing, self._writing_count = None, 0
        for index, (_, done) in enumerate(batch):
            if isinstance(results, Failure):
                done.errback(results)
            elif isinstance(results[index], Exception):
                done.errback(Failure(results[index]))
            else:
                done.callback(results[index])
        if self._pending:
            self._due = self._due or len(self._pending) >= self.max_writes or self._nothing_else_coming()
            if not self._due and self._timer is None:
                self._timer = call_later(self.max_seconds, self._on_timer)
            self._maybe_write()

    async def close(self) -> None:
        """Write everything still pending, then close the archive and stop the thread."""
        from scrapy.utils.defer import maybe_deferred_to_future

        while self._writing is not None or self._pending:
            if self._writing is None:
                self._due = True
                self._maybe_write()
            if self._writing is not None:
                await maybe_deferred_to_future(_after(self._writing))
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.recorder is not None:
            await wait_for(self._thread.submit(self.recorder.close))
        self._thread.shutdown(wait=True)


def _after(deferred: Deferred[Any]) -> Deferred[None]:
    """A Deferred that fires (with None) once ``deferred`` has, without touching its result."""
    waiter: Deferred[None] = Deferred()
    deferred.addBoth(lambda result: (waiter.callback(None), result)[1])
    return waiter
