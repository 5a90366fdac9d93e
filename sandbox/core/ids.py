"""One seedable factory for every generated id, so docs and tests can be repeatable."""

from __future__ import annotations

import random
import string
import threading

ALNUM = string.ascii_letters + string.digits


class Ids:
    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)
        # Choices draw from a sequence of their own: they repeat under a seed whatever ids are made meanwhile
        # (a notification attempt on another thread takes nonces at its own pace).
        self._choices = random.Random(seed)
        self._lock = threading.Lock()

    def digits(self, length: int) -> str:
        return self._pick(string.digits, length)

    def hex(self, length: int) -> str:
        return self._pick("0123456789abcdef", length)

    def alnum(self, length: int) -> str:
        return self._pick(ALNUM, length)

    def _pick(self, alphabet: str, length: int) -> str:
        """`length` times random.choice(alphabet), drawn exactly as choice draws (so a seed gives the same ids), without
        its two calls per character: a signed answer takes 64 characters of nonce and request id."""
        size = len(alphabet)
        bits = size.bit_length()
        with self._lock:
            getrandbits = self._random.getrandbits
            picked = []
            for _ in range(length):
                index = getrandbits(bits)
                while index >= size:
                    index = getrandbits(bits)
                picked.append(alphabet[index])
        return "".join(picked)

    def chance(self, probability: float) -> bool:
        """True with that probability (0 never, 1 always), repeatable under a seed."""
        with self._lock:
            return self._choices.random() < probability
