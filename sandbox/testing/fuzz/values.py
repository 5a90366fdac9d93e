"""Hostile values for fuzzing: digit look-alikes, numbers at their limits, control characters, huge and nested."""

from __future__ import annotations

import json
import random

# str.isdigit() is true for all of these, and int() reads most of them: a check that is not ASCII-only lets them in.
DIGIT_LOOKALIKES = ("²", "³", "¹", "⁴²", "٣", "٠١٢", "۷", "३", "৩", "３", "１２３", "𝟗", "①", "߃", "᠑")
NUMBERS = (
    "0",
    "-0",
    "-1",
    "00",
    "007",
    "0.00",
    "0.001",
    "0.01",
    "1.005",
    "1e3",
    "1E-2",
    "NaN",
    "Infinity",
    "-Infinity",
    "2147483647",
    "2147483648",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999",
    "100000000.00",
    "100000000.01",
    "10000000000",
    "10000000001",
    "1" * 40,
    "9" * 400,
    " 1",
    "1 ",
    "+1",
    "0x1A",
    "1_000",
    "1,00",
    "٣.٥٠",
    "１.００",
)
CONTROL = ("\x00", "\x01", "\x08", "\x7f", "\r\n", "\n", "\t", "\u2028", "\u202e", "\ufeff", "\x1b[31m", "\ud7ff")
TRICKY = (
    "",
    " ",
    "null",
    "None",
    "true",
    "[]",
    "{}",
    '{"a":1}',
    "<xml/>",
    "]]>",
    "<![CDATA[",
    "&amp;",
    "&#0;",
    "%",
    "%zz",
    "%FF",
    "&",
    "=",
    "+",
    "\\",
    '"',
    "'",
    "${x}",
    "../../etc/passwd",
    "http://",
    "javascript:alert(1)",
    "<script>alert(1)</script>",
    "支付宝",
    "微信支付",
    "😀",
    "a\u0301",
    "2024-02-30",
    "2024-13-01 25:61:61",
    "20241301256161",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00-12:00",
)
HUGE_SIZES = (256, 1025, 4097, 70_000)
MAX_GROWN = 100_000  # a repeated value stops here (past the 1 MiB body limit only with other big fields)
JSON_INTS = (0, -1, 1, 2**31 - 1, 2**31, 2**53 + 1, 2**63, -(2**63) - 1, 10**30, 10_000_000_000, 10_000_000_001)
JSON_FLOATS = (0.1, -0.0, 1.005, 1e308, -1e308, 5e-324, 88.88, 100000000.01)


def text(rng: random.Random) -> str:
    """One hostile string."""
    kind = rng.randrange(6)
    if kind == 0:
        return rng.choice(DIGIT_LOOKALIKES)
    if kind == 1:
        return rng.choice(NUMBERS)
    if kind == 2:
        return "x" + rng.choice(CONTROL) + "y"
    if kind == 3:
        return rng.choice("A9支%<") * rng.choice(HUGE_SIZES)
    return rng.choice(TRICKY)


def mutate_text(rng: random.Random, value: str) -> str:
    """`value` changed in one hostile way, often keeping most of it so it still gets past the first checks."""
    if value.isascii() and value.isdigit() and rng.random() < 0.5:
        return _lookalike_digit(rng, value) if rng.random() < 0.5 else rng.choice(NUMBERS)
    op = rng.randrange(8)
    if op == 0:
        return text(rng)
    if op == 1 and value:
        at = rng.randrange(len(value) + 1)
        return value[:at] + text(rng) + value[at:]
    if op == 2:
        return _lookalike_digit(rng, value)
    if op == 3:
        return value[: rng.randrange(len(value) + 1)]
    if op == 4:
        return (value * rng.choice((2, 50, 500)))[:MAX_GROWN]
    if op == 5:
        return value.swapcase() if rng.random() < 0.5 else f" {value} "
    if op == 6:
        return value + rng.choice(CONTROL)
    return rng.choice(NUMBERS)


def _lookalike_digit(rng: random.Random, value: str) -> str:
    """One ASCII digit swapped for a character that str.isdigit() also accepts (or a look-alike appended)."""
    digits = [i for i, char in enumerate(value) if char.isascii() and char.isdigit()]
    lookalike = rng.choice(DIGIT_LOOKALIKES)
    if not digits:
        return value + lookalike
    at = rng.choice(digits)
    return value[:at] + lookalike + value[at + 1 :]


def json_value(rng: random.Random, depth: int = 0) -> object:
    """Any JSON value: the scalars at their limits, strings from `text`, and small nested arrays and objects."""
    kind = rng.randrange(8 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice(JSON_INTS)
    if kind == 3:
        return rng.choice(JSON_FLOATS)
    if kind in (4, 5):
        return text(rng)
    if kind == 6:
        return [json_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {text(rng)[:12]: json_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def mutate_json(rng: random.Random, value: object) -> object:
    """A JSON value changed: a string edited, another type in its place, or the value wrapped in a list or object."""
    op = rng.randrange(5)
    if op == 0 and isinstance(value, str):
        return mutate_text(rng, value)
    if op == 1 and isinstance(value, int) and not isinstance(value, bool):
        return rng.choice((str(value), float(value), -value, value * 10**20, rng.choice(JSON_INTS)))
    if op == 2:
        return [value] if rng.random() < 0.5 else {"value": value}
    if op == 3 and isinstance(value, dict) and value:
        return mutate_object(rng, value)
    return json_value(rng)


def mutate_object(rng: random.Random, fields: dict) -> dict:
    """A JSON object with one field dropped, added, retyped or changed (recursing into nested objects)."""
    fields = dict(fields)
    op = rng.randrange(4)
    if op == 0 and fields:
        fields.pop(rng.choice(list(fields)))
    elif op == 1:
        fields[rng.choice((text(rng)[:16], "notify_url", "amount", "total", "mchid"))] = json_value(rng)
    elif fields:
        name = rng.choice(list(fields))
        fields[name] = mutate_json(rng, fields[name])
    return fields


def mutate_json_text(rng: random.Random, document: str, label: str = "json") -> tuple[str, str]:
    """A JSON object's text broken as text: cut, nested deep, a key twice, a lone surrogate, a number past int's
    limit, or any JSON value instead; `label` names it in the case's description."""
    op = rng.randrange(6)
    if op == 0:
        return document[: rng.randrange(len(document) + 1)], f"{label} cut"
    if op == 1:
        depth = rng.choice((50, 2000, 100_000))
        return "{" + '"a":' + "[" * depth + "]" * depth + "}", f"{label} nested"
    if op == 2:
        return document[:-1] + ',"out_trade_no":' + json.dumps(text(rng)) + "}", f"{label} key twice"
    if op == 3:
        return document[:-1] + ',"subject":"\\udfff\\ud800"}', f"{label} lone surrogate"
    if op == 4:
        return document[:-1] + ',"total_amount":' + "1" * 5000 + "}", f"{label} huge number"
    return json.dumps(json_value(rng)), f"{label} any value"
