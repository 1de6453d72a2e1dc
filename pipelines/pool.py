"""The extraction process pool, as the crawl process sees it: submit a page, await its outcome.

Why: extraction is CPU-bound (tens of milliseconds per page) and Scrapy runs in one thread, so a
crawl that extracts in the reactor thread uses one core and stalls its own downloads meanwhile.
Here pages go to ``EXTRACT_WORKERS`` processes and the reactor only waits on futures.

- **Start method.** ``forkserver`` where the platform has it (``spawn`` elsewhere), never ``fork``:
  the crawl process has threads, an event loop, sockets and a database connection that a forked
  copy must not inherit. Workers start on demand (a crawl that extracts nothing starts none) and
  import trafilatura and the adapters once (``worker.init_worker``).
- **Back-pressure.** At most ``in_flight`` pages are submitted at a time (two per worker keeps each
  busy while the next page is pickled); other items wait on a semaphore, and since Scrapy counts
  their responses against ``SCRAPER_SLOT_MAX_ACTIVE_SIZE``, the engine stops downloading while
  they wait. Memory stays bounded however fast pages arrive.
- **Priority.** Workers run at a lower priority than the crawl process (``EXTRACT_WORKER_NICENESS``):
  with one worker per core, the crawl process competes with them for the CPU, and every moment it
  waits, it is not downloading, handing out the next page or storing: the workers then wait too.
- **Lifetime.** Workers end with the pool (``close``), and on their own when the crawl process is
  gone (killed, or stopped without closing its pipelines): nothing outlives a crawl.
- **Crashes.** When a worker dies, every page in flight in that pool fails with
  ``BrokenProcessPool``. The pool is replaced (once per breakage) and each of those pages is tried
  again *alone* in a one-worker pool, one page at a time: an innocent page is extracted, and the page
  that kills its worker twice is the only one to come back as ``extraction_error``. Nothing is lost
  and the crawl goes on; the crash and retry counts are kept for the crawl stats.
- **Bridge.** Futures are awaited through ``pipelines/futures.py`` (any reactor).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import DeferredLock, DeferredSemaphore

from pipelines.futures import wait_for
from pipelines.worker import EXTRACTION_ERROR, ExtractOutcome, ExtractTask, extract_in_worker, init_worker

logger = logging.getLogger(__name__)


def start_method() -> str:
    """``forkserver`` on Linux and macOS, ``spawn`` where there is no fork server (Windows)."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


class ExtractionPool:
    """``workers`` extraction processes behind an ``async extract(task)`` with back-pressure."""

    def __init__(self, workers: int, reset_every: int, in_flight: int | None = None, niceness: int = 0) -> None:
        self.workers = max(workers, 1)
        self.reset_every = reset_every
        self.niceness = niceness
        self._context = multiprocessing.get_context(start_method())
        if self._context.get_start_method() == "forkserver":
            # Nothing preloaded: the fork server stays small, each worker imports what it needs once.
            self._context.set_forkserver_preload([])
        self._executor = self._new_executor(self.workers)
        self._slots = DeferredSemaphore(in_flight or 2 * self.workers)
        self._alone_lock = DeferredLock()
        self._alone: ProcessPoolExecutor | None = None
        self.crashes = 0  # pool breakages (a worker process died)
        self.retried = 0  # pages tried again alone after a breakage
        self.failed_twice = 0  # pages whose worker died on the retry too: recorded as extraction_error
        self.peak_rss_kb: dict[int, int] = {}  # worker pid → its peak RSS, as its last outcome reported

    def _new_executor(self, workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=workers, mp_context=self._context, initializer=init_worker,
                                   initargs=(self.reset_every, os.getpid(), self.niceness))

    async def extract(self, task: ExtractTask) -> ExtractOutcome:
        """The page's outcome; waits for a free slot first (back-pressure)."""
        await maybe_deferred_to_future(self._slots.acquire())
        try:
            executor = self._executor
            try:
                try:
                    future = executor.submit(extract_in_worker, task)
                except BrokenProcessPool:  # another page broke the pool before this one went in
                    executor = self._replace(executor)
                    future = executor.submit(extract_in_worker, task)
                return self._note(await wait_for(future))
            except BrokenProcessPool:
                self._replace(executor)
        finally:
            self._slots.release()
        return await self._extract_alone(task)

    def _replace(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        """A fresh pool instead of ``broken`` (once, however many of its pages report the breakage)."""
        if broken is self._executor:
            self.crashes += 1
            logger.warning("An extraction worker died; starting a new pool and retrying its pages one by one")
            broken.shutdown(wait=False, cancel_futures=True)
            self._executor = self._new_executor(self.workers)
        return self._executor

    async def _extract_alone(self, task: ExtractTask) -> ExtractOutcome:
        """Retry a page that was in flight when a worker died, with no other page beside it."""
        self.retried += 1
        await maybe_deferred_to_future(self._alone_lock.acquire())
        try:
            if self._alone is None:
                self._alone = self._new_executor(1)
            try:
                return self._note(await wait_for(self._alone.submit(extract_in_worker, replace(task, attempt=2))))
            except BrokenProcessPool:
                self._alone.shutdown(wait=False, cancel_futures=True)
                self._alone = None
                self.failed_twice += 1
                return ExtractOutcome(None, EXTRACTION_ERROR,
                                      "the extraction worker process died on this page, twice (a crash in "
                                      "a parser, or out of memory); retried next run")
        finally:
            if not self._alone_lock.waiting and self._alone is not None:
                self._alone.shutdown(wait=False)  # retries are rare: free its memory until the next one
                self._alone = None
            self._alone_lock.release()

    def _note(self, outcome: ExtractOutcome) -> ExtractOutcome:
        if outcome.pid:
            self.peak_rss_kb[outcome.pid] = max(outcome.peak_rss_kb, self.peak_rss_kb.get(outcome.pid, 0))
        return outcome

    def close(self) -> None:
        """Stop the workers (every item is done by the time the pipelines close)."""
        for executor in (self._executor, self._alone):
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)
        self._alone = None
