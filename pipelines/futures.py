"""Await a ``concurrent.futures`` future from Scrapy code, on any Twisted reactor.

Why: the extraction pool and the store's writer thread both hand work to ``concurrent.futures``
executors, and Scrapy's coroutines must await the result without blocking the reactor. The
future's completion callback runs in an executor thread, so it only passes the result to the
reactor thread (``reactor.callFromThread``, thread-safe on every reactor, asyncio's included),
where a Deferred is fired and awaited with Scrapy's ``maybe_deferred_to_future``.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import CancelledError, Deferred
from twisted.python.failure import Failure


def deferred_from_future(future: Future[Any]) -> Deferred[Any]:
    """A Deferred fired in the reactor thread with the future's result (or its exception)."""
    from twisted.internet import reactor

    deferred: Deferred[Any] = Deferred()

    def settle(done: Future[Any]) -> None:
        if done.cancelled():
            deferred.errback(Failure(CancelledError()))
        elif (error := done.exception()) is not None:
            deferred.errback(Failure(error))
        else:
            deferred.callback(done.result())

    future.add_done_callback(lambda done: reactor.callFromThread(settle, done))
    return deferred


async def wait_for(future: Future[Any]) -> Any:
    """The future's result, awaited without blocking the reactor."""
    return await maybe_deferred_to_future(deferred_from_future(future))
