"""The sandbox clock: real, accelerated or manual, so expiries and retries are testable without sleeping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta, timezone

from sandbox.errors import InvalidParameter

# China has one time zone and no daylight saving: every provider speaks Beijing time.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
MODES = ("real", "accelerated", "manual")
PLAUSIBLE = timedelta(minutes=1)  # no merchant gives a buyer less time to pay (merchant_deadline)


class Clock:
    """Virtual time = an anchor in virtual time plus the real time elapsed since, times a factor.

    Its state can be kept elsewhere too (core/clocks.py keeps it in a store that several processes share): each
    change then runs inside `guard` and bumps `version`, and `restore` takes a newer state made elsewhere."""

    def __init__(self, mode: str = "real", factor: float = 1.0, *, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._listeners: list = []
        self._guard: Callable[[], AbstractContextManager[object]] = nullcontext
        self._reload: Callable[[], object] = lambda: None
        self._version = 0  # changes (of the state restored last, plus those made here since)
        self._anchor_real = time.time()
        self._anchor_virtual = (start or datetime.now(BEIJING)).astimezone(BEIJING)
        self._mode = "manual"  # so set_mode anchors exactly at `start`
        self._factor = 1.0
        self.set_mode(mode, factor)
        self._version = 0  # as made: any stored state is newer

    def now(self) -> datetime:
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> datetime:
        if self._mode == "manual":
            return self._anchor_virtual
        elapsed = (time.time() - self._anchor_real) * self._factor
        return self._anchor_virtual + timedelta(seconds=elapsed)

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def factor(self) -> float:
        return self._factor

    def set_mode(self, mode: str, factor: float | None = None) -> None:
        if mode not in MODES:
            raise InvalidParameter("mode", f"clock mode must be one of {', '.join(MODES)}, not {mode!r}")
        if mode == "accelerated":
            factor = 1.0 if factor is None else factor
            if not isinstance(factor, int | float) or isinstance(factor, bool) or not 0 < factor <= 100_000:
                raise InvalidParameter("factor", "factor must be a number above 0 and at most 100000")
        else:
            factor = 1.0
        with self._guard(), self._lock:
            self._anchor_virtual = self._now_locked()
            self._anchor_real = time.time()
            self._mode, self._factor = mode, float(factor)
            self._version += 1
        self._changed()

    def reset_to_real(self) -> None:
        """Back on real time: mode real, factor 1 and now the wall clock's time, any offset gained dropped (a
        switch to real keeps the offset: set_mode)."""
        with self._guard(), self._lock:
            self._anchor_real = time.time()
            self._anchor_virtual = datetime.fromtimestamp(self._anchor_real, BEIJING)
            self._mode, self._factor = "real", 1.0
            self._version += 1
        self._changed()

    def advance_to(self, moment: datetime) -> None:
        """Jump forward to `moment` (never backwards), keeping the mode."""
        with self._guard(), self._lock:
            current = self._now_locked()
            if moment > current:
                self._anchor_virtual += moment - current
                self._version += 1
        self._changed()

    def real_seconds_until(self, moment: datetime) -> float | None:
        """How long to wait in real time until `moment`; None when only `advance` moves the clock."""
        if self._mode == "manual":
            return None
        return max(0.0, (moment - self.now()).total_seconds() / self._factor)

    def on_change(self, listener) -> None:
        self._listeners.append(listener)

    def guard_with(self, guard: Callable[[], AbstractContextManager[object]], reload: Callable[[], object]) -> None:
        """Run every change inside `guard()` (which may restore a newer state first, and keeps the changed one);
        `reload()` restores the state kept elsewhere."""
        self._guard, self._reload = guard, reload

    def reload(self) -> None:
        """Catch up with a change made elsewhere now (e.g. before computing where an advance ends); a no-op for a
        clock kept nowhere else."""
        self._reload()

    @property
    def version(self) -> int:
        return self._version

    def state(self) -> dict:
        """What restores this clock elsewhere (JSON): its mode, factor, anchors and version."""
        with self._lock:
            return {
                "mode": self._mode,
                "factor": self._factor,
                "anchor_real": self._anchor_real,
                "anchor_virtual": self._anchor_virtual.isoformat(),
                "version": self._version,
            }

    def restore(self, state: dict) -> bool:
        """Take a state of a later version than this clock's (a change made elsewhere); listeners hear of it."""
        with self._lock:
            if state["version"] <= self._version:
                return False
            self._mode, self._factor = state["mode"], float(state["factor"])
            self._anchor_real = float(state["anchor_real"])
            self._anchor_virtual = datetime.fromisoformat(state["anchor_virtual"]).astimezone(BEIJING)
            self._version = state["version"]
        self._changed()
        return True

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    def describe(self) -> dict:
        return {"now": self.now().isoformat(timespec="seconds"), "mode": self._mode, "factor": self._factor}


def merchant_deadline(moment: datetime, now: datetime, lead: timedelta = timedelta(0)) -> datetime:
    """A deadline a merchant sent (time_expire, payTimeout) on the sandbox clock, whose time is `now`.

    A merchant writes it on its own clock, the wall clock, while a test may have moved the sandbox clock ahead (a
    test's own client may write it on the sandbox clock instead). A deadline that leaves the buyer less than
    PLAUSIBLE beyond `lead` on the sandbox clock, and more on the wall clock, was written on the wall clock: it
    counts from there, so the buyer keeps the time the merchant gave (a shop's 15 minutes with the sandbox 15 minutes
    ahead). Any other deadline is taken on the sandbox clock, as it is.
    """
    on_sandbox, on_wall = moment - now, moment - datetime.now(BEIJING)
    if on_sandbox < lead + PLAUSIBLE and on_wall > max(on_sandbox, lead):
        return now + on_wall
    return moment
