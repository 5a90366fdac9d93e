"""Money is integer minor units (fen) inside; decimal yuan strings exist only at the edges."""

from __future__ import annotations

import re
from decimal import Decimal

from sandbox.errors import InvalidParameter

_YUAN = re.compile(r"^(0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?$")  # ASCII: \d would take ٣ and ３ too
MAX_AMOUNT = 100_000_000_00  # 100,000,000.00 yuan: Alipay's upper bound


def parse_yuan(value: object, field: str) -> int:
    """Parse "88.88", 88.88 (a JSON number) or 88 into fen; refuse anything else with a clear message."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise InvalidParameter(field, f'{field} must be an amount in yuan such as "88.88", got {value!r}')
    # repr of a float is the shortest text that reads back the same, i.e. what the sender wrote.
    text = repr(value) if isinstance(value, float) else str(value).strip()
    if not _YUAN.match(text):
        raise InvalidParameter(field, f'{field} must be yuan with at most two decimals, such as "88.88", got {value!r}')
    fen = int(Decimal(text) * 100)
    if fen > MAX_AMOUNT:
        raise InvalidParameter(field, f"{field} must be at most 100000000.00, got {value!r}")
    return fen


def format_yuan(fen: int) -> str:
    """8888 -> "88.88"."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"
