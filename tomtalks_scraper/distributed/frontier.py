"""The shared frontier's Redis keys and the atomic operations on them (Lua scripts).

scrapy-redis keeps the queue of requests in a sorted set and *pops* from it: a worker killed with
requests in flight loses them. Here a pop moves the request into its worker's processing hash in the
same script; the worker deletes the entry (``ack``) once the request's callback or errback is done
and its items went through the pipelines (so an issue is committed before its entry disappears).
Each worker keeps a heartbeat key alive; any worker that finds a registered worker without its
heartbeat puts that worker's processing entries back into the queue (``requeue_dead``).

Keys, for a spider named ``newsletter`` and the prefix ``tomtalks``:

| key | type | what |
|---|---|---|
| ``tomtalks:newsletter:requests`` | sorted set | the queue (scrapy-redis ``PriorityQueue`` format) |
| ``tomtalks:newsletter:seen`` | set | request fingerprints (scrapy-redis ``RFPDupeFilter``) |
| ``tomtalks:newsletter:workers`` | set | worker ids |
| ``tomtalks:newsletter:alive:<id>`` | string with a TTL | a worker's heartbeat |
| ``tomtalks:newsletter:processing:<id>`` | hash | entry id → ``score`` ``\\n`` request, popped by that worker |
| ``tomtalks:host:<host>`` | string with a TTL | the next free request time for a host (``throttle.py``) |
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from redis import Redis

DEFAULT_PREFIX = "tomtalks"

# Pop the first request into the worker's processing hash: one atomic step, so a kill between the pop
# and the bookkeeping cannot lose it.
_POP = """
local found = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #found == 0 then return false end
redis.call('ZREM', KEYS[1], found[1])
redis.call('HSET', KEYS[2], ARGV[1], found[2] .. '\\n' .. found[1])
return found[1]
"""

# Put a dead worker's entries back into the queue, unless its heartbeat came back meanwhile.
_REQUEUE = """
if redis.call('EXISTS', KEYS[4]) == 1 then return -1 end
local entries = redis.call('HVALS', KEYS[2])
for _, value in ipairs(entries) do
  local cut = string.find(value, '\\n', 1, true)
  redis.call('ZADD', KEYS[1], string.sub(value, 1, cut - 1), string.sub(value, cut + 1))
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return #entries
"""


@dataclass(frozen=True)
class FrontierKeys:
    """The Redis key names of one spider's frontier."""

    prefix: str
    spider: str

    @property
    def base(self) -> str:
        return f"{self.prefix}:{self.spider}"

    @property
    def queue(self) -> str:
        return f"{self.base}:requests"

    @property
    def seen(self) -> str:
        return f"{self.base}:seen"

    @property
    def workers(self) -> str:
        return f"{self.base}:workers"

    def alive(self, worker: str) -> str:
        return f"{self.base}:alive:{worker}"

    def processing(self, worker: str) -> str:
        return f"{self.base}:processing:{worker}"


class Frontier:
    """One worker's view of the shared frontier: reliable pop, ack, heartbeat, recovery of dead workers."""

    def __init__(self, server: Redis, keys: FrontierKeys, worker: str | None = None) -> None:
        self.server = server
        self.keys = keys
        self.worker = worker or uuid.uuid4().hex[:12]
        self._pop = server.register_script(_POP)
        self._requeue = server.register_script(_REQUEUE)

    # This worker --------------------------------------------------------------------------------

    def register(self, ttl: float) -> None:
        """Announce this worker (and start its heartbeat)."""
        self.server.sadd(self.keys.workers, self.worker)
        self.beat(ttl)

    def beat(self, ttl: float) -> None:
        self.server.set(self.keys.alive(self.worker), "1", px=max(1, int(ttl * 1000)))

    def pop(self) -> tuple[str, bytes] | None:
        """The next request's (entry id, serialized request), now held in this worker's processing hash."""
        entry = uuid.uuid4().hex
        data = self._pop(keys=[self.keys.queue, self.keys.processing(self.worker)], args=[entry])
        return (entry, data) if data is not None else None

    def ack(self, entry: str) -> None:
        """The request of this entry is done: forget it."""
        self.server.hdel(self.keys.processing(self.worker), entry)

    def in_flight(self) -> int:
        return int(self.server.hlen(self.keys.processing(self.worker)))

    def leave(self) -> int:
        """Stop as a worker: what this worker still holds goes back to the queue for the others."""
        self.server.delete(self.keys.alive(self.worker))
        return self.requeue(self.worker)

    # All workers --------------------------------------------------------------------------------

    def requeue(self, worker: str) -> int:
        """Put ``worker``'s processing entries back into the queue if it has no heartbeat; -1 if it is alive."""
        keys = [self.keys.queue, self.keys.processing(worker), self.keys.workers, self.keys.alive(worker)]
        return int(self._requeue(keys=keys, args=[worker]))

    def requeue_dead(self) -> int:
        """Recover the entries of every registered worker whose heartbeat expired; how many were requeued."""
        return sum(max(0, self.requeue(worker)) for worker in self.workers() if worker != self.worker)

    def workers(self) -> list[str]:
        """The registered workers' ids (alive or not yet found dead)."""
        return [w.decode() if isinstance(w, bytes) else str(w) for w in self.server.smembers(self.keys.workers)]

    def queued(self) -> int:
        return int(self.server.zcard(self.keys.queue))

    def busy(self) -> bool:
        """Whether any request is queued or held by any registered worker (which may yield more)."""
        if self.queued():
            return True
        return any(self.server.hlen(self.keys.processing(worker)) for worker in self.workers())
