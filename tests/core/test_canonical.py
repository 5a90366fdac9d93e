"""The key=value string both sides sign: sorted keys, raw values, `sign` and empties left out."""

from __future__ import annotations

from sandbox.core.canonical import sorted_query


def test_sorts_by_key_and_joins_raw_pairs_with_ampersands():
    assert sorted_query({"b": "2", "a": "1", "c": "3"}) == "a=1&b=2&c=3"


def test_leaves_out_sign_by_default_but_keeps_sign_type():
    params = {"sign": "abc==", "sign_type": "RSA2", "app_id": "1"}
    assert sorted_query(params) == "app_id=1&sign_type=RSA2"


def test_excludes_exactly_the_given_keys():
    params = {"sign": "abc==", "sign_type": "RSA2", "app_id": "1"}
    assert sorted_query(params, exclude=("sign", "sign_type")) == "app_id=1"
    assert sorted_query(params, exclude=()) == "app_id=1&sign=abc==&sign_type=RSA2"


def test_drops_empty_strings_and_none_but_keeps_zero():
    params = {"a": "", "b": None, "c": "0", "d": 0, "e": " "}
    assert sorted_query(params) == "c=0&d=0&e= "


def test_keeps_empty_values_when_asked():
    assert sorted_query({"a": "", "b": "1"}, drop_empty=False) == "a=&b=1"


def test_values_are_not_url_encoded():
    params = {
        "return_url": "https://shop.example/r?a=1&b=2",
        "timestamp": "2024-05-20 13:14:15",
        "subject": "测试+订单",
    }
    assert sorted_query(params) == (
        "return_url=https://shop.example/r?a=1&b=2&subject=测试+订单&timestamp=2024-05-20 13:14:15"
    )


def test_json_values_are_signed_as_the_text_received():
    biz = '{"subject":"\\u6d4b\\u8bd5","total_amount":0.01}'
    assert sorted_query({"biz_content": biz}) == "biz_content=" + biz


def test_sort_is_by_code_point():
    params = {"a_b": "1", "ab": "2", "a": "3", "B": "4", "aB": "5"}
    assert sorted_query(params) == "B=4&a=3&aB=5&a_b=1&ab=2"


def test_non_string_values_are_written_with_str():
    assert sorted_query({"n": 1, "f": 0.5, "t": True}) == "f=0.5&n=1&t=True"


def test_empty_mapping_gives_empty_string():
    assert sorted_query({}) == ""
    assert sorted_query({"sign": "x"}) == ""
