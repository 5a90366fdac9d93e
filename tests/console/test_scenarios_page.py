"""The console's scenarios page in real headless Chromium: add rules by the form, pasted JSON or YAML and recipes,
see them in the order they are tried, delete them; bad input gets the API's message next to its field."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from tests.console.screens import save

pytestmark = pytest.mark.browser


def test_a_rule_added_by_the_form_is_listed_then_deleted(page: Page, console, rules):
    page.goto(console("scenarios"))
    form = page.get_by_test_id("rule-form")
    form.get_by_label("Name").fill("QA duplicate")
    form.get_by_test_id("field-times").fill("1")
    form.get_by_test_id("field-match.gateway").select_option("wechatpay")
    form.get_by_label("out_trade_no pattern").fill("QA-*")
    form.get_by_test_id("field-match.amount").fill("100..200")
    form.get_by_label("Duplicate N").fill("2")
    form.get_by_test_id("field-notify.tamper").fill("amount=1\n")
    form.get_by_test_id("add-rule").click()

    expect(page.get_by_test_id("notice")).to_contain_text("added")
    row = page.get_by_test_id("rule-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("rule-name")).to_have_text("QA duplicate")
    expect(row.get_by_test_id("rule-times")).to_have_text("1 · 1 left")
    [rule] = rules()
    assert rule["match"] == {"gateway": "wechatpay", "out_trade_no": "QA-*", "amount": {"min": 100, "max": 200}}
    assert rule["notify"] == {"duplicate": 2, "tamper": {"amount": 1}}
    save(page, "scenarios-added")

    row.get_by_test_id("delete-rule").click()
    expect(page.get_by_test_id("notice")).to_contain_text(f"Rule {rule['id']} deleted")
    expect(page.get_by_test_id("rule-row")).to_have_count(0)
    assert rules() == []


def test_pasted_json_and_yaml_add_rules_in_the_order_they_are_tried(page: Page, console, rules):
    page.goto(console("scenarios"))
    standing = {"name": "always slow", "api": {"delay": 0.5}}
    one_shot = {"name": "next alipay fails", "match": {"gateway": "alipay"}, "times": 1, "payment": {"outcome": "fail"}}
    page.get_by_test_id("field-text").fill(json.dumps([standing, one_shot]))
    page.get_by_test_id("paste-add").click()
    expect(page.get_by_test_id("notice")).to_contain_text("2 rule(s) added")

    page.get_by_test_id("field-text").fill(
        "scenarios:\n  - name: query 503\n    match: {operation: query}\n    times: 2\n    api:\n      status: 503\n"
    )
    page.get_by_test_id("paste-add").click()
    expect(page.get_by_test_id("notice")).to_contain_text("1 rule(s) added")

    # One-shot rules first (oldest first), then standing ones: the order the sandbox tries them.
    expect(page.get_by_test_id("rule-name")).to_have_text(["next alipay fails", "query 503", "always slow"])
    assert [r["name"] for r in rules()] == ["next alipay fails", "query 503", "always slow"]
    assert rules()[1]["api"] == {"status": 503} and rules()[1]["times"] == 2
    save(page, "scenarios-pasted")

    page.on("dialog", lambda dialog: dialog.accept())  # "Delete all" asks first
    page.get_by_test_id("delete-all").click()
    expect(page.get_by_test_id("notice")).to_contain_text("3 rule(s) deleted")
    assert rules() == []


def test_bad_input_gets_the_message_next_to_its_field_and_adds_nothing(page: Page, console, rules):
    page.goto(console("scenarios"))
    page.get_by_test_id("field-notify.delay").fill("-5")
    page.get_by_test_id("add-rule").click()
    error = page.get_by_test_id("error-notify.delay")
    expect(error).to_contain_text("notify.delay must be a number of seconds from 0")
    expect(page.get_by_test_id("field-notify.delay")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("field-notify.delay")).to_have_value("-5")  # what was typed stays to be corrected

    page.get_by_test_id("field-notify.delay").fill("60")
    page.get_by_test_id("field-match.amount").fill("six yuan")
    page.get_by_test_id("add-rule").click()
    expect(page.get_by_test_id("error-match.amount")).to_contain_text("match.amount is an integer in fen")
    expect(page.get_by_test_id("error-notify.delay")).to_have_count(0)
    save(page, "scenarios-form-error")

    broken = '{"match": {"gateway": "alipay"},\n  "notify": {"delay": 60\n'
    page.get_by_test_id("field-text").fill(broken)
    page.get_by_test_id("paste-add").click()
    expect(page.get_by_test_id("error-text")).to_contain_text("neither JSON nor YAML")
    expect(page.get_by_test_id("error-text")).to_contain_text("line 3")
    expect(page.get_by_test_id("field-text")).to_have_value(broken)

    page.get_by_test_id("field-text").fill("notify:\n  dorp: 1\n")
    page.get_by_test_id("paste-add").click()
    expect(page.get_by_test_id("error-text-field")).to_have_text("notify.dorp")
    expect(page.get_by_test_id("error-text")).to_contain_text("unknown key notify.dorp")

    page.get_by_test_id("field-text").fill('[{"times": 1, "api": {"status": 503}}, {"api": {"status": 418}}]')
    page.get_by_test_id("paste-add").click()
    expect(page.get_by_test_id("error-text-field")).to_have_text("scenarios[1].api.status")
    save(page, "scenarios-paste-error")
    assert rules() == []  # all or none: the good first rule was not added either


def test_a_recipe_adds_its_prepared_rule(page: Page, console, rules):
    page.goto(console("scenarios"))
    expect(page.get_by_test_id("magic").locator("tbody tr").first).to_contain_text("6.01")
    page.get_by_test_id("recipe-wechat-duplicate").click()
    expect(page.get_by_test_id("rule-name")).to_have_text(["Next WeChat Pay notification duplicated twice"])
    page.get_by_test_id("recipe-query-503").click()
    expect(page.get_by_test_id("rule-row")).to_have_count(2)
    [duplicate, unavailable] = rules()
    assert duplicate["match"] == {"gateway": "wechatpay"} and duplicate["notify"] == {"duplicate": 2}
    assert unavailable["match"] == {"operation": "query"} and unavailable["api"] == {"status": 503}
    save(page, "scenarios-recipes")


def test_a_rule_added_in_a_namespace_is_not_listed_in_the_default_one(page: Page, console, rules, space):
    space("team-a")
    page.goto(console("scenarios", ns="team-a"))
    page.get_by_test_id("recipe-alipay-bad-signature").click()
    expect(page.get_by_test_id("rule-name")).to_have_text(["Next Alipay notification badly signed"])
    assert "ns=team-a" in page.url  # the redirect after the post kept the namespace
    save(page, "scenarios-namespace")

    page.goto(console("scenarios"))
    expect(page.get_by_test_id("rule-row")).to_have_count(0)
    assert rules() == [] and len(rules("team-a")) == 1

    page.goto(console("scenarios", ns="team-a"))
    page.get_by_test_id("delete-rule").click()
    expect(page.get_by_test_id("rule-row")).to_have_count(0)
    assert rules("team-a") == []
