"""The request path's shortcuts read gateway.do exactly as the general code does: the charset a request declares,
the timestamp forms strptime takes, and braces inside strings of a signed answer."""

from __future__ import annotations

import pytest

from sandbox.gateways.alipay import codec
from sandbox.gateways.alipay.errors import AlipayError
from sandbox.gateways.alipay.views import _check_timestamp

FORM = "application/x-www-form-urlencoded"


def test_a_utf8_form_merges_with_its_query_and_the_form_wins():
    params = codec.parse_params(b"a=1&charset=utf-8", b"a=2&b=%E4%B8%AD", FORM)
    assert params == {"a": "2", "charset": "utf-8", "b": "中"}


def test_a_gbk_form_is_decoded_as_gbk():
    params = codec.parse_params(b"", b"charset=GBK&subject=%D6%D0", FORM)
    assert params["subject"] == "中"


def test_bytes_that_are_not_the_declared_charset_are_refused_with_where():
    with pytest.raises(AlipayError) as raised:
        codec.parse_params(b"", b"charset=utf-8&subject=%D6", FORM)
    assert "is not valid utf-8: unexpected end of data at byte 0" in str(raised.value.fields())


def test_an_unknown_charset_is_refused_before_any_decoding():
    with pytest.raises(AlipayError) as raised:
        codec.parse_params(b"", b"charset=latin9&subject=%D6", FORM)
    assert "charset 'latin9' is not supported" in str(raised.value.fields())


@pytest.mark.parametrize(
    "stamp", ["2026-12-06 14:30:00", "2026-1-6 4:3:0", "2026-12-06   14:30:00", "2024-02-29 23:59:59"]
)
def test_timestamps_strptime_takes_are_taken(stamp):
    _check_timestamp(stamp)


@pytest.mark.parametrize(
    "stamp", ["2026-02-30 10:00:00", "2026-12-06 24:00:00", "2026-12-06 14:30:60", "0000-01-01 00:00:00"]
)
def test_timestamps_strptime_refuses_are_refused(stamp):
    with pytest.raises(AlipayError):
        _check_timestamp(stamp)


def test_braces_inside_strings_are_escaped_and_structure_is_kept():
    text = codec.dumps({"a": {"b": "x{y}"}, "c": ["}", 1, None], "d": 'q"{'})
    assert text == '{"a":{"b":"x\\u007by\\u007d"},"c":["\\u007d",1,null],"d":"q\\"\\u007b"}'
