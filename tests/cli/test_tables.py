"""The table helper and the duration parser, in process: yuan, short times, ellipses, CJK widths, units."""

from __future__ import annotations

import argparse

import pytest

from sandbox.cli.clock import duration, factor
from sandbox.cli.tables import Column, clip, fields, pairs, table, when, width, yuan


@pytest.mark.parametrize(
    ("fen", "shown"), [(990, "9.90"), (5, "0.05"), (0, "0.00"), (100000, "1000.00"), (-150, "-1.50"), (None, "")]
)
def test_yuan_is_exact_with_two_decimals(fen, shown):
    assert yuan(fen) == shown


def test_times_lose_the_t_the_fraction_and_the_offset():
    assert when("2026-11-22T15:08:30+08:00") == "2026-11-22 15:08:30"
    assert when("2026-11-22T15:08:30.123456+08:00") == "2026-11-22 15:08:30"
    assert when(None) == when("") == ""


def test_long_values_are_cut_with_an_ellipsis_counting_cjk_as_two_columns():
    assert clip("short", 10) == "short"
    assert clip("abcdefghijkl", 6) == "abcde…"
    assert width("咖啡 Coffee") == 11
    assert clip("咖啡咖啡咖啡", 7) == "咖啡咖…"
    assert width(clip("咖啡咖啡咖啡", 7)) == 7


def test_a_table_aligns_columns_on_screen_right_aligns_numbers_and_collapses_newlines():
    rows = [{"no": "A-1", "subject": "咖啡", "amount": 990}, {"no": "A-22", "subject": "tea\nbag", "amount": 5}]
    columns = [
        Column("NO", "no"),
        Column("SUBJECT", "subject"),
        Column("YUAN", lambda r: yuan(r["amount"]), right=True),
    ]
    assert table(rows, columns).splitlines() == [
        "NO    SUBJECT  YUAN",
        "A-1   咖啡     9.90",
        "A-22  tea bag  0.05",
    ]


def test_fields_leave_out_empty_values_and_align_labels():
    assert fields([("id", "x"), ("refund_no", ""), ("status", None), ("attempts", 0), ("acked", True)]) == (
        "id        x\nattempts  0\nacked     yes"
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("600", 600), ("90s", 90), ("10m", 600), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("1.5h", 5400), ("0", 0)],
)
def test_durations_take_units(text, seconds):
    assert duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-5", "10x", "m", "1 h"])
def test_a_bad_duration_is_an_argument_error(text):
    with pytest.raises(argparse.ArgumentTypeError):
        duration(text)


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "fast"])
def test_a_clock_factor_is_a_finite_number_above_zero(text):
    with pytest.raises(argparse.ArgumentTypeError):
        factor(text)


def test_pairs_put_a_small_dict_on_one_line():
    shown = pairs({"rule": "scn_1", "notes": [], "tamper": {"amount": 1}, "drop": 1})
    assert shown == 'rule=scn_1 tamper={"amount": 1} drop=1'
