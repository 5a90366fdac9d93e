"""One seedable factory for every generated id, so docs and tests can be repeatable."""

from __future__ import annotations

import random
import string
import threading


class Ids:
    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)
        # Choices draw from a sequence of their own: they repeat under a seed whatever ids are made meanwhile
        # (a notification attempt on another thread takes nonces at its own pace).
        self._choices = random.Random(seed)
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

    def chance(self, probability: float) -> bool:
        """True with that probability (0 never, 1 always), repeatable under a seed."""
        with self._lock:
            return self._choices.random() < probability
