"""Sender threads shared fairly: each order's attempts in turn, and no destination holding more than its share.

A destination (a notify URL's host:port) gets a share of the senders by how it answered last: one never seen
gets NEW_SHARE at once, one that answered within SLOW_SECONDS gets FAST_SHARE, and one that was slow (or ran out
its deadline) gets SLOW_SHARE. New destinations together hold at most NEW_LANE senders and slow ones at most
SLOW_LANE, so at least SENDERS - NEW_LANE - SLOW_LANE are always there for merchants that answer quickly: a
hanging merchant costs its own deliveries, not everyone's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sandbox.errors import NotFound

log = logging.getLogger("paysandbox.dispatcher")

SENDERS = 32  # threads at most (started as needed)
FAST_SHARE, NEW_SHARE, SLOW_SHARE = 8, 2, 1  # attempts in flight to one destination, by how it answered last
NEW_LANE, SLOW_LANE = 16, 8  # attempts in flight to all new, and to all slow, destinations together
SLOW_SECONDS = 2.0  # an attempt that takes longer marks its destination slow, until one is quick again
REMEMBERED = 4096  # destinations whose speed is remembered (the oldest are forgotten: they start again as new)
NEW, FAST, SLOW = "new", "fast", "slow"


@dataclass
class _Job:
    notification_id: str
    destination: str
    future: Future


class Senders:
    """Runs `send(notification_id)` on sender threads; `submit` answers a future of its result (None if it failed).

    Jobs with the same order key run one after another in the order they were submitted."""

    def __init__(self, send: Callable[[str], object], senders: int = SENDERS) -> None:
        self._send = send
        self._limit = senders
        self._pool = ThreadPoolExecutor(max_workers=senders, thread_name_prefix="paysandbox-notify")
        self._lock = threading.Lock()
        self._orders: dict[Hashable, deque[_Job]] = {}  # waiting jobs per order
        self._busy: set[Hashable] = set()  # orders with an attempt in flight
        self._ready: OrderedDict[str, deque[Hashable]] = OrderedDict()  # idle orders by their next job's destination
        self._speed: OrderedDict[str, str] = OrderedDict()  # destination -> FAST or SLOW (absent: NEW)
        self._per_destination: Counter[str] = Counter()
        self._per_lane: Counter[str] = Counter()
        self._closing = False

    def submit(self, order: Hashable, notification_id: str, destination: str) -> Future:
        job = _Job(notification_id, destination, Future())
        with self._lock:
            queue = self._orders.setdefault(order, deque())
            queue.append(job)
            if len(queue) == 1 and order not in self._busy:
                self._ready.setdefault(destination, deque()).append(order)
            self._admit()
        return job.future

    def close(self) -> None:
        """Wait for the attempts in flight; those still waiting stay pending in the outbox."""
        with self._lock:
            self._closing = True
        self._pool.shutdown(wait=True)

    # -- under the lock ----------------------------------------------------------------------------------

    def _admit(self) -> None:
        """Start waiting orders, round-robin over destinations, while senders and shares allow."""
        while not self._closing and sum(self._per_lane.values()) < self._limit:
            destination = next((d for d in self._ready if self._has_room(d)), None)
            if destination is None:
                return
            orders = self._ready.pop(destination)
            order = orders.popleft()
            if orders:
                self._ready[destination] = orders  # back at the end: the next turn is another destination's
            job = self._orders[order].popleft()
            lane = self._lane(destination)
            self._busy.add(order)
            self._per_destination[destination] += 1
            self._per_lane[lane] += 1
            self._pool.submit(self._run, order, job, lane)

    def _lane(self, destination: str) -> str:
        return self._speed.get(destination, NEW)

    def _has_room(self, destination: str) -> bool:
        lane = self._lane(destination)
        share = {NEW: NEW_SHARE, FAST: FAST_SHARE, SLOW: SLOW_SHARE}[lane]
        lanes = {NEW: NEW_LANE, SLOW: SLOW_LANE}
        return self._per_destination[destination] < share and self._per_lane[lane] < lanes.get(lane, self._limit)

    def _finished(self, order: Hashable, job: _Job, lane: str, seconds: float) -> None:
        self._per_destination[job.destination] -= 1
        if not self._per_destination[job.destination]:
            del self._per_destination[job.destination]
        self._per_lane[lane] -= 1
        self._speed[job.destination] = SLOW if seconds > SLOW_SECONDS else FAST
        self._speed.move_to_end(job.destination)
        if len(self._speed) > REMEMBERED:
            self._speed.popitem(last=False)
        self._busy.discard(order)
        queue = self._orders[order]
        if queue:
            self._ready.setdefault(queue[0].destination, deque()).append(order)
        else:
            del self._orders[order]
        self._admit()

    # -- on a sender thread ------------------------------------------------------------------------------

    def _run(self, order: Hashable, job: _Job, lane: str) -> None:
        started = time.monotonic()
        result = None
        try:
            result = self._send(job.notification_id)
        except NotFound:  # reset while it was on its way
            pass
        except Exception:  # one broken record must not stop the others
            log.exception("delivering notification %s failed", job.notification_id)
        finally:
            with self._lock:
                self._finished(order, job, lane, time.monotonic() - started)
            job.future.set_result(result)
