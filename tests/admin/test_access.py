"""A sandbox started with an access token, over real HTTP: the control API needs `Authorization: Bearer`, except
health, the OpenAPI document and the CA certificate; the gateways and hosted pages need nothing new."""

from __future__ import annotations

import re

import pytest

from sandbox.admin.openapi import document
from sandbox.config import Config

TOKEN = "s3cret-token-for-tests"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
APP = "2021000000000001"
OPEN = {"/_sandbox/health", "/_sandbox/openapi.json", "/_sandbox/ca.pem"}
EVERY_OPERATION = sorted(
    (method.upper(), re.sub(r"{(\w+)}", r"x-\1", path)) for path, item in document()["paths"].items() for method in item
)


@pytest.fixture
def config() -> Config:
    return Config(seed=1234, token=TOKEN)


def assert_unauthorized(answer, says: str) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="paysandbox"'
    error = answer.json()["error"]
    assert error["code"] == "UNAUTHORIZED"
    assert says in error["message"] and "Authorization: Bearer <token>" in error["message"]
    assert TOKEN not in answer.text


@pytest.mark.parametrize(("method", "path"), [op for op in EVERY_OPERATION if op[1] not in OPEN], ids=" ".join)
def test_every_control_call_without_the_token_is_401_and_says_how_to_send_it(live, http, method, path):
    assert_unauthorized(http.request(method, live.url + path, json={}), "needs its access token")


def test_a_wrong_token_or_another_scheme_is_401_and_the_token_is_never_echoed(live, http):
    for authorization in (f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", "Bearer", TOKEN):
        answer = http.post(f"{live.url}/_sandbox/reset", json={}, headers={"Authorization": authorization})
        says = "is not this sandbox's" if authorization.startswith("Bearer ") else "needs its access token"
        assert_unauthorized(answer, says)


def test_a_refused_call_changes_nothing(live, http, sandbox):
    sandbox.scenarios.add({"notify": {"duplicate": 1}})
    assert http.delete(f"{live.url}/_sandbox/scenarios").status_code == 401
    assert http.post(f"{live.url}/_sandbox/clock", json={"mode": "manual"}).status_code == 401
    assert len(sandbox.scenarios.list()) == 1 and sandbox.clock.mode == "real"


def test_with_the_token_the_control_api_works_as_before(live, http):
    http.headers.update(BEARER)
    assert http.post(f"{live.url}/_sandbox/clock", json={"mode": "manual"}).json()["mode"] == "manual"
    rule = {"match": {"out_trade_no": "QA-*"}, "notify": {"drop": 1}}
    assert http.post(f"{live.url}/_sandbox/scenarios", json=rule).status_code == 201
    assert len(http.get(f"{live.url}/_sandbox/scenarios").json()["scenarios"]) == 1
    reset = http.post(f"{live.url}/_sandbox/reset").json()
    assert (reset["status"], reset["merchants_reset"], reset["clock"]["mode"]) == ("ok", False, "real")
    assert http.get(f"{live.url}/_sandbox/merchants/alipay/{APP}").status_code == 200


def test_the_scheme_name_is_case_insensitive(live, http):
    answer = http.get(f"{live.url}/_sandbox/clock", headers={"Authorization": f"bearer {TOKEN}"})
    assert answer.status_code == 200


def test_health_the_openapi_document_and_the_ca_certificate_need_no_token(live, http):
    assert http.get(f"{live.url}/_sandbox/health").json()["status"] == "ok"
    assert http.get(f"{live.url}/_sandbox/openapi.json").json()["openapi"] == "3.1.0"
    assert http.get(f"{live.url}/_sandbox/ca.pem").text.startswith("-----BEGIN CERTIFICATE-----")
    assert http.head(f"{live.url}/_sandbox/health").status_code == 200


def test_an_unknown_control_path_is_401_too_so_a_stranger_learns_nothing(live, http):
    assert_unauthorized(http.get(f"{live.url}/_sandbox/nothing-here"), "needs its access token")
    assert_unauthorized(http.post(f"{live.url}/_sandbox/health"), "needs its access token")
    assert http.get(f"{live.url}/_sandbox/nothing-here", headers=BEARER).status_code == 404


def test_gateways_and_hosted_pages_need_no_token(live, http, alipay_client):
    answer = alipay_client.precreate("TOKEN-1", 990, "Coffee")
    assert http.get(answer["qr_code"]).status_code == 200  # the scan page a buyer opens
    assert alipay_client.query("TOKEN-1")["trade_status"] == "WAIT_BUYER_PAY"


def test_the_token_can_come_from_a_file(tmp_path):
    path = tmp_path / "token"
    path.write_text(f"{TOKEN}\n")
    assert Config(token_file=str(path)).access_token() == TOKEN
    assert Config(token="direct", token_file=str(path)).access_token() == "direct"
    assert Config.from_env({"SANDBOX_TOKEN_FILE": str(path)}).access_token() == TOKEN
    assert Config.from_env({"SANDBOX_TOKEN": TOKEN}).access_token() == TOKEN
    assert Config.from_env({"SANDBOX_TOKEN": ""}).access_token() is None


@pytest.mark.parametrize(
    ("content", "says"),
    [(None, "cannot read the token file"), ("\n", "is empty"), ("two words\n", "printable ASCII without spaces")],
)
def test_a_token_file_that_holds_no_usable_token_is_refused(tmp_path, content, says):
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValueError, match=says):
        Config(token_file=str(path)).access_token()


def test_the_token_never_appears_in_the_settings_repr():
    assert TOKEN not in repr(Config(token=TOKEN))
