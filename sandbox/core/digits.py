"""ASCII digits only: str.isdigit() and a regex's \\d also accept ², ٣ and ３, which int() then reads or refuses."""

from __future__ import annotations


def ascii_digits(text: str) -> bool:
    """True for a non-empty run of 0-9 and nothing else."""
    return text.isascii() and text.isdigit()
