"""Generated ids under a seed are the characters random.choice would pick from the same sequence."""

from __future__ import annotations

import random
import string

from sandbox.core.ids import ALNUM, Ids


def test_a_seed_gives_what_random_choice_gives():
    for seed in (0, 1, 7, 2026):
        ids, reference = Ids(seed), random.Random(seed)
        for alphabet, make, length in (
            (string.digits, ids.digits, 28),
            ("0123456789abcdef", ids.hex, 32),
            (ALNUM, ids.alnum, 32),
        ):
            assert make(length) == "".join(reference.choice(alphabet) for _ in range(length))
