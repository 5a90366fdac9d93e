"""One seedable factory for every generated id, so docs and tests can be repeatable."""

from __future__ import annotations

import random
import string
import threading


class Ids:
    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def digits(self, length: int) -> str:
        with self._lock:
            return "".join(self._random.choice(string.digits) for _ in range(length))

    def hex(self, length: int) -> str:
        with self._lock:
            return "".join(self._random.choice("0123456789abcdef") for _ in range(length))

    def alnum(self, length: int) -> str:
        alphabet = string.ascii_letters + string.digits
        with self._lock:
            return "".join(self._random.choice(alphabet) for _ in range(length))
