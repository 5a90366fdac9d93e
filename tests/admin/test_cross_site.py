"""State changes on the control API take a JSON body or none, and none from another site's web page, token or
not: an HTML form or a no-cors fetch on another origin cannot reset the sandbox, move its clock or add a rule."""

from __future__ import annotations

import re

import pytest
from flask import Flask, request

from sandbox.admin.openapi import document
from sandbox.testing.server import ThreadedServer

STATE_CHANGES = sorted(
    (method.upper(), re.sub(r"{(\w+)}", r"x-\1", path))
    for path, item in document()["paths"].items()
    for method in item
    if method in ("post", "put", "patch", "delete")
)
# What an HTML form can send (enctype), each with a body a form could make.
FORM_BODIES = {
    "application/x-www-form-urlencoded": "merchants=true",
    "multipart/form-data; boundary=b": '--b\r\nContent-Disposition: form-data; name="m"\r\n\r\ntrue\r\n--b--\r\n',
    "text/plain": '{"merchants": true, "x": "="}',
}


def assert_refused(answer, status: int, code: str, says: str) -> None:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code and says in error["message"], error


@pytest.mark.parametrize(("method", "path"), STATE_CHANGES, ids=" ".join)
def test_every_state_change_refuses_what_an_html_form_sends_with_415(live, http, method, path):
    for content_type, body in FORM_BODIES.items():
        answer = http.request(method, live.url + path, data=body, headers={"Content-Type": content_type})
        assert_refused(answer, 415, "UNSUPPORTED_MEDIA_TYPE", "send Content-Type: application/json")


def test_an_empty_form_or_a_body_without_a_content_type_is_415_and_changes_nothing(live, http, sandbox):
    sandbox.clock.set_mode("manual")
    empty_form = http.post(f"{live.url}/_sandbox/clock", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_refused(empty_form, 415, "UNSUPPORTED_MEDIA_TYPE", "not application/x-www-form-urlencoded")
    untyped = http.post(f"{live.url}/_sandbox/clock", data=b'{"mode": "real"}')  # requests names no type for bytes
    assert_refused(untyped, 415, "UNSUPPORTED_MEDIA_TYPE", "not a body with no Content-Type")
    assert sandbox.clock.mode == "manual"


def test_json_or_no_body_at_all_is_accepted(live, http, sandbox):
    sandbox.scenarios.add({"notify": {"duplicate": 1}})
    json_with_charset = {"Content-Type": "application/json; charset=utf-8"}
    assert http.post(f"{live.url}/_sandbox/clock", data='{"mode": "manual"}', headers=json_with_charset).ok
    assert sandbox.clock.mode == "manual"
    assert http.post(f"{live.url}/_sandbox/notifications/flush").json() == {"attempted": []}
    assert http.delete(f"{live.url}/_sandbox/scenarios").status_code == 200
    assert http.post(f"{live.url}/_sandbox/reset").status_code == 200
    assert sandbox.clock.mode == "real" and sandbox.scenarios.list() == []  # a reset puts the clock on real time


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # another port of the same host is another origin
    ],
    ids=lambda h: " ".join(h.values()),
)
def test_a_state_change_a_browser_says_another_page_sent_is_403(live, http, sandbox, headers):
    answer = http.post(f"{live.url}/_sandbox/clock", json={"mode": "manual"}, headers=headers)
    assert_refused(answer, 403, "CROSS_SITE_REQUEST", "another site's web page")
    assert sandbox.clock.mode == "real"


def test_the_sandboxs_own_origin_and_reads_from_anywhere_are_served(live, http):
    own = {"Origin": live.url, "Sec-Fetch-Site": "same-origin"}
    assert http.post(f"{live.url}/_sandbox/clock", json={"mode": "manual"}, headers=own).status_code == 200
    typed = {"Sec-Fetch-Site": "none"}  # a URL typed in the address bar
    assert http.post(f"{live.url}/_sandbox/clock", json={"mode": "real"}, headers=typed).status_code == 200
    assert http.get(f"{live.url}/_sandbox/clock", headers={"Origin": "http://evil.example"}).status_code == 200


def test_no_answer_lets_another_origin_read_it(live, http):
    """No CORS header, ever: a page elsewhere can neither read a control answer nor pass a preflight."""
    evil = {"Origin": "http://evil.example"}
    preflight = {**evil, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    answers = [
        http.get(f"{live.url}/_sandbox/orders", headers=evil),
        http.get(f"{live.url}/_sandbox/health", headers=evil),
        http.options(f"{live.url}/_sandbox/reset", headers=preflight),
        http.post(f"{live.url}/_sandbox/reset", json={}, headers=evil),
    ]
    for answer in answers:
        assert not [h for h in answer.headers if h.lower().startswith("access-control-")], answer.headers


# -- in a real browser ------------------------------------------------------------------------------------------

ATTACKS = {
    # An empty form POST: what a one-click "reset" button on any page would send.
    "/empty-form": """<form method="post" action="{sandbox}/_sandbox/reset"></form>
        <script>document.forms[0].submit()</script>""",
    # The classic JSON-by-form trick: text/plain whose body parses as JSON.
    "/json-form": """<form method="post" action="{sandbox}/_sandbox/scenarios" enctype="text/plain">
        <input name='{{"notify": {{"drop": 20}}, "x": "' value='"}}'></form>
        <script>document.forms[0].submit()</script>""",
    "/fetch": """<script>
        fetch("{sandbox}/_sandbox/reset", {{mode: "no-cors", method: "POST"}});
        fetch("{sandbox}/_sandbox/clock", {{mode: "no-cors", method: "POST", body: '{{"mode": "real"}}'}});
        </script>""",
}


@pytest.fixture
def answers(app) -> list[tuple[str, str, int]]:
    """(method, path, status) of every answer the sandbox gives (registered before `live` serves a request)."""
    seen: list[tuple[str, str, int]] = []

    @app.after_request
    def record(response):
        seen.append((request.method, request.path, response.status_code))
        return response

    return seen


@pytest.fixture
def attacker():
    """Another site's pages, on another loopback port."""
    site = Flask("attacker")
    site.config["SANDBOX"] = ""

    @site.get("/<name>")
    def attack(name: str):
        return f"<!doctype html><title>win a prize</title>{ATTACKS['/' + name].format(sandbox=site.config['SANDBOX'])}"

    with ThreadedServer(site) as server:
        yield server


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"], ids=["same-site", "cross-site"])
def test_another_sites_form_and_fetch_in_chromium_leave_the_sandbox_untouched(
    answers, live, attacker, page, sandbox, alipay_client, host
):
    sandbox.clock.set_mode("manual")
    alipay_client.create("KEEP-1", 990, "Coffee", "2088000000000009")
    rule = sandbox.scenarios.add({"match": {"out_trade_no": "KEEP-*"}, "notify": {"duplicate": 1}})
    attacker.app.config["SANDBOX"] = live.url
    origin = f"http://{host}:{attacker.port}"

    for name, path in (("empty-form", "/_sandbox/reset"), ("json-form", "/_sandbox/scenarios")):
        with page.expect_response(live.url + path):
            page.goto(f"{origin}/{name}")
    with page.expect_response(f"{live.url}/_sandbox/reset"), page.expect_response(f"{live.url}/_sandbox/clock"):
        page.goto(f"{origin}/fetch")

    control = [a for a in answers if a[1].startswith("/_sandbox")]
    assert control[:2] == [("POST", "/_sandbox/reset", 415), ("POST", "/_sandbox/scenarios", 415)]
    assert sorted(control[2:]) == [("POST", "/_sandbox/clock", 415), ("POST", "/_sandbox/reset", 403)]
    assert sandbox.clock.mode == "manual"
    assert [r.id for r in sandbox.scenarios.list()] == [rule.id]
    assert [o.out_trade_no for o in sandbox.payments.list("alipay", "", "")] == ["KEEP-1"]
