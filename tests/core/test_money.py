"""Amounts: yuan text or JSON numbers at the edge, integer fen inside."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandbox.core.money import MAX_AMOUNT, format_yuan, parse_yuan
from sandbox.errors import InvalidParameter


@pytest.mark.parametrize(
    ("value", "fen"),
    [
        ("0.01", 1),
        ("0.1", 10),
        ("88.88", 8888),
        ("88", 8800),
        ("0", 0),
        (0.01, 1),
        (0.07, 7),
        (1.1, 110),
        (88.88, 8888),
        (Decimal("88.88"), 8888),
        (Decimal("0.01"), 1),
        (88, 8800),
        ("100000000.00", MAX_AMOUNT),
        (100000000, MAX_AMOUNT),
    ],
)
def test_parse_yuan_accepts_two_decimal_yuan_as_text_or_number(value, fen):
    assert parse_yuan(value, "total_amount") == fen


@pytest.mark.parametrize(
    "value",
    [
        "1.001",
        1.001,
        Decimal("1.001"),
        "-1",
        -1,
        "-0.01",
        "abc",
        "",
        "1e3",
        Decimal("1E+3"),
        "01.00",
        ".5",
        "88.",
        "1,000.00",
        "0x10",
        "NaN",
        float("nan"),
        float("inf"),
        0.1 + 0.2,
        True,
        False,
        None,
        [1],
        {"value": 1},
        b"1.00",
        "١٢.٣٤",  # digits other than ASCII: a regex's \d and Decimal() both take them
        "１.００",
        "1²",
    ],
)
def test_parse_yuan_refuses_anything_but_plain_yuan(value):
    with pytest.raises(InvalidParameter) as caught:
        parse_yuan(value, "total_amount")
    assert caught.value.name == "total_amount"
    assert "total_amount" in caught.value.message


@pytest.mark.parametrize("value", ["100000000.01", 100000000.01, Decimal("100000001"), 100000001, "999999999.99"])
def test_parse_yuan_refuses_amounts_over_one_hundred_million(value):
    with pytest.raises(InvalidParameter, match=r"100000000\.00|two decimals"):
        parse_yuan(value, "refund_amount")


def test_parse_yuan_message_shows_the_rejected_value():
    with pytest.raises(InvalidParameter, match=r"'1\.001'"):
        parse_yuan("1.001", "total_amount")


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "0.00"),
        (1, "0.01"),
        (10, "0.10"),
        (100, "1.00"),
        (8888, "88.88"),
        (MAX_AMOUNT, "100000000.00"),
        (-150, "-1.50"),
    ],
)
def test_format_yuan_always_writes_two_decimals(fen, text):
    assert format_yuan(fen) == text


def test_format_then_parse_is_the_identity_on_fen():
    for fen in [*range(0, 1001), 99999, 100000, 123456789, MAX_AMOUNT - 1, MAX_AMOUNT]:
        assert parse_yuan(format_yuan(fen), "amount") == fen
