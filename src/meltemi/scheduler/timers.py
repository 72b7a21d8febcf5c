"""A timer wheel in memory: fires callbacks at their due time on one thread.

Timers are durable because their rows are written in the same transaction as the
decision that set them; this class only keeps the ones that are due soonest in a
heap and wakes up for them. On start the runtime loads every stored timer into it.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Generic, TypeVar

T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


class TimerWheel(Generic[T]):
    """Calls ``fire(payload)`` once for each timer when its time comes."""

    def __init__(
        self, fire: Callable[[T], None], *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._fire = fire
        self._clock = clock
        self._heap: list[tuple[datetime, int, str]] = []
        self._payloads: dict[str, T] = {}
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="meltemi-timers", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def add(self, timer_id: str, at: datetime, payload: T) -> None:
        with self._cond:
            self._payloads[timer_id] = payload
            heapq.heappush(self._heap, (at, next(self._seq), timer_id))
            self._cond.notify()

    def cancel(self, timer_id: str) -> None:
        with self._cond:
            self._payloads.pop(timer_id, None)

    def __len__(self) -> int:
        with self._cond:
            return len(self._payloads)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    if self._heap and self._heap[0][2] not in self._payloads:
                        heapq.heappop(self._heap)
                        continue
                    if not self._heap:
                        self._cond.wait()
                        continue
                    wait = (self._heap[0][0] - self._clock()).total_seconds()
                    if wait <= 0:
                        break
                    self._cond.wait(timeout=min(wait, 1.0))
                if self._stopped:
                    return
                _at, _seq, timer_id = heapq.heappop(self._heap)
                payload = self._payloads.pop(timer_id, None)
            if payload is not None:
                self._fire(payload)
