"""The scenario form's shaping of inputs (no validation: the control API judges the rule)."""

from __future__ import annotations

import pytest

from sandbox.console.rule_form import FORM_FIELDS, NotARule, form_rule, form_slot, parse_pasted


def test_blank_inputs_and_groups_are_left_out_and_numbers_ranges_and_lines_are_shaped():
    form = {"times": "2", "match.amount": "..500", "notify.delay": "1.5", "notify.tamper": "amount=1\n\nx=0.01"}
    form |= {"api.status": "", "payment.code": " ", "match.gateway": "alipay"}
    assert form_rule(form) == {
        "times": 2,
        "match": {"amount": {"max": 500}, "gateway": "alipay"},
        "notify": {"delay": 1.5, "tamper": {"amount": 1, "x": "0.01"}},
    }
    assert form_rule({"notify.drop": "two"}) == {"notify": {"drop": "two"}}  # the API says what it expected


def test_a_tamper_line_without_equals_is_refused_with_its_line():
    with pytest.raises(NotARule, match="line 2"):
        form_rule({"notify.tamper": "amount=1\nbroken"})


def test_the_api_s_field_finds_its_input():
    assert form_slot("notify.tamper.amount", FORM_FIELDS) == "notify.tamper"
    assert form_slot("match.amount", FORM_FIELDS) == "match.amount"
    assert form_slot("api", FORM_FIELDS) == "api"
    assert form_slot("rule", FORM_FIELDS) == "form"


def test_pasted_text_one_rule_a_list_or_a_scenarios_file():
    assert parse_pasted('{"api": {"status": 503}}') == {"api": {"status": 503}}
    assert parse_pasted("- api: {status: 503}") == {"scenarios": [{"api": {"status": 503}}]}
    assert parse_pasted("scenarios: []") == {"scenarios": []}
    for text, message in (("", "Paste a rule"), ("just words", "reads as str"), ("a: &x 1\nb: *x", "aliases")):
        with pytest.raises(NotARule, match=message):
            parse_pasted(text)
