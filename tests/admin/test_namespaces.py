"""Namespaces in the control API, over real HTTP: create, list, delete; X-Sandbox-Namespace on every other call;
merchants, orders, notifications and rules that never cross from one namespace to another."""

from __future__ import annotations

import re

import pytest

from sandbox.admin.openapi import document
from tests.namespaced import HEADER, registration

APP = "2021000000000001"  # the demo app: the default namespace's
APP_A, APP_B = "2021000000000101", "2021000000000102"
NOBODY = "http://127.0.0.1:9/notify"  # connections refused: deliveries fail at once


def namespaces(space) -> list[str]:
    return space().api("GET", "/namespaces")["namespaces"]


def order(client, out_trade_no: str) -> None:
    client.create(out_trade_no, 100, "Tea", "2088000000000009", notify_url=NOBODY)


def error(reply, status: int) -> str:
    assert reply.status_code == status, reply.text
    return reply.json()["error"]["code"]


# -- creating, listing, deleting -------------------------------------------------------------------------------


def test_creating_a_named_namespace_answers_201_and_lists_it_after_the_default(space):
    reply = space().call("POST", "/namespaces", json={"name": "team-b"})
    space().call("POST", "/namespaces", json={"name": "team-a"})

    assert reply.status_code == 201
    assert reply.json() == {"namespace": "team-b"}
    assert namespaces(space) == ["default", "team-a", "team-b"]


def test_a_namespace_created_without_a_name_gets_a_generated_one(space):
    reply = space().call("POST", "/namespaces")

    assert reply.status_code == 201
    assert re.fullmatch(r"ns-[0-9a-f]{10}", reply.json()["namespace"])
    assert reply.json()["namespace"] in namespaces(space)


@pytest.mark.parametrize("name", ["team-a", "default"])
def test_creating_a_namespace_that_exists_is_a_409(space, name):
    space("team-a")

    assert error(space().call("POST", "/namespaces", json={"name": name}), 409) == "NAMESPACE_EXISTS"


@pytest.mark.parametrize("name", ["Team-A", "-a", "a b", "", "a" * 64, "ä", 7, "a\n"])
def test_a_malformed_name_is_a_400_in_the_body_and_in_the_header(space, name):
    assert error(space().call("POST", "/namespaces", json={"name": name}), 400) == "INVALID_PARAMETER"
    if isinstance(name, str) and name.isascii() and "\n" not in name:  # what an HTTP header can carry
        assert error(space().call("GET", "/orders", headers={HEADER: name}), 400) == "INVALID_PARAMETER"


def test_an_unknown_namespace_in_the_header_is_a_404_that_says_how_to_create_it(space):
    reply = space().call("GET", "/orders", headers={HEADER: "nope"})

    assert error(reply, 404) == "NAMESPACE_NOT_FOUND"
    assert "POST /_sandbox/namespaces" in reply.json()["error"]["message"]


def test_the_header_naming_default_is_the_same_as_no_header(space):
    order(space("team-a").alipay(APP_A), "A-1")
    order(space().alipay(APP_B), "B-1")

    for path in ("/merchants", "/orders", "/clock"):
        assert space().call("GET", path, headers={HEADER: "default"}).json() == space().api("GET", path), path


def test_calls_that_act_in_no_namespace_ignore_the_header(space):
    unknown = {HEADER: "nope"}
    for path in ("/health", "/openapi.json", "/magic", "/namespaces"):
        assert space().call("GET", path, headers=unknown).status_code == 200, path


def test_deleting_a_namespace_drops_everything_in_it_and_frees_its_merchant_ids(space, receiver):
    team = space("team-a")
    client = team.alipay(APP_A)
    client.create("A-1", 100, "Tea", "2088000000000009", notify_url=f"{receiver.url}/notify")
    team.api("POST", f"/orders/alipay/{APP_A}/A-1/pay", json={})
    team.api("POST", "/scenarios", json={"match": {"gateway": "alipay"}, "payment": {"outcome": "fail"}})

    assert space().api("DELETE", "/namespaces/team-a") == {"deleted": ["team-a"]}

    assert namespaces(space) == ["default"]
    assert error(team.call("GET", "/orders"), 404) == "NAMESPACE_NOT_FOUND"
    again = space("team-a")  # the same name again: an empty namespace
    assert again.api("GET", "/orders") == {"orders": []}
    assert again.api("GET", "/notifications") == {"notifications": []}
    assert again.api("GET", "/scenarios") == {"scenarios": []}
    assert again.api("GET", "/merchants") == {"merchants": []}
    space().register("alipay", APP_A)  # the id is free: the default namespace may take it now
    assert error(space().call("GET", f"/orders/alipay/{APP_A}/A-1"), 404) == "ORDER_NOT_FOUND"


def test_the_default_namespace_cannot_be_deleted(space):
    reply = space().call("DELETE", "/namespaces/default")

    assert error(reply, 400) == "DEFAULT_NAMESPACE"
    assert "POST /_sandbox/reset" in reply.json()["error"]["message"]


def test_deleting_an_unknown_namespace_is_a_404(space):
    assert error(space().call("DELETE", "/namespaces/nope"), 404) == "NAMESPACE_NOT_FOUND"


# -- a merchant id belongs to one namespace ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gateway", "merchant_id", "held_by"),
    [
        ("alipay", APP, "default"),  # the demo merchants
        ("wechatpay", "1900000109", "default"),
        ("unionpay", "777290058110097", "default"),
        ("alipay", APP_A, "team-a"),
    ],
)
def test_registering_a_merchant_id_another_namespace_holds_is_a_409(space, gateway, merchant_id, held_by):
    team_a, team_b = space("team-a"), space("team-b")
    if held_by == "team-a":
        team_a.register(gateway, merchant_id)
    elsewhere = space() if held_by == "team-a" else team_b

    reply = elsewhere.call("POST", "/merchants", json=registration(gateway, merchant_id))

    assert error(reply, 409) == "MERCHANT_IN_ANOTHER_NAMESPACE"
    assert f"is registered in the namespace '{held_by}'" in reply.json()["error"]["message"]
    assert error(elsewhere.call("GET", f"/merchants/{gateway}/{merchant_id}"), 404) == "NOT_FOUND"


def test_registering_again_in_the_same_namespace_still_replaces_the_merchant(space):
    team = space("team-a")
    team.register("alipay", APP_A)

    assert team.register("alipay", APP_A)["merchant_id"] == APP_A


# -- nothing crosses ---------------------------------------------------------------------------------------------


@pytest.fixture
def two_teams(space):
    """team-a and the default namespace, each with an order paid (so a notification) and a scenario rule."""
    team = space("team-a")
    order(team.alipay(APP_A), "SAME-1")
    order(space().alipay(APP_B), "SAME-1")
    for where, app_id in ((team, APP_A), (space(), APP_B)):
        where.api("POST", f"/orders/alipay/{app_id}/SAME-1/pay", json={})
        where.api(
            "POST", "/scenarios", json={"match": {"gateway": "alipay", "merchant_id": app_id}, "notify": {"delay": 1}}
        )
    return team, space()


def test_listings_in_a_namespace_never_show_another_namespace_s_records(two_teams):
    team, default = two_teams
    for where, app_id in ((team, APP_A), (default, APP_B)):
        assert {o["merchant_id"] for o in where.api("GET", "/orders")["orders"]} == {app_id}
        assert {n["merchant_id"] for n in where.api("GET", "/notifications")["notifications"]} == {app_id}
        assert [r["match"]["merchant_id"] for r in where.api("GET", "/scenarios")["scenarios"]] == [app_id]
    assert [m["merchant_id"] for m in team.api("GET", "/merchants")["merchants"]] == [APP_A]
    assert APP_A not in {m["merchant_id"] for m in default.api("GET", "/merchants")["merchants"]}
    assert team.api("GET", "/orders", params={"merchant_id": APP_B}) == {"orders": []}


def test_another_namespace_s_records_are_404_by_their_own_paths(two_teams):
    team, default = two_teams
    [notification] = default.api("GET", "/notifications")["notifications"]
    [rule] = default.api("GET", "/scenarios")["scenarios"]
    order_path = f"/orders/alipay/{APP_B}/SAME-1"

    assert error(team.call("GET", order_path), 404) == "ORDER_NOT_FOUND"
    assert error(team.call("POST", f"{order_path}/pay", json={}), 404) == "ORDER_NOT_FOUND"
    assert error(team.call("GET", f"/merchants/alipay/{APP_B}"), 404) == "NOT_FOUND"
    assert error(team.call("GET", f"/notifications/{notification['id']}"), 404) == "NOT_FOUND"
    assert error(team.call("POST", f"/notifications/{notification['id']}/replay"), 404) == "NOT_FOUND"
    assert error(team.call("GET", f"/scenarios/{rule['id']}"), 404) == "NOT_FOUND"
    assert error(team.call("DELETE", f"/scenarios/{rule['id']}"), 404) == "NOT_FOUND"
    team.api("DELETE", "/scenarios")  # all of team-a's: none of the default's
    assert default.api("GET", f"/scenarios/{rule['id']}")["scenario"]["id"] == rule["id"]


# -- reset --------------------------------------------------------------------------------------------------------


def test_reset_empties_only_the_namespace_it_is_sent_to(two_teams):
    team, default = two_teams

    team.api("POST", "/reset")

    assert team.api("GET", "/orders") == {"orders": []}
    assert team.api("GET", "/notifications") == {"notifications": []}
    assert team.api("GET", "/scenarios") == {"scenarios": []}
    assert [m["merchant_id"] for m in team.api("GET", "/merchants")["merchants"]] == [APP_A]  # merchants kept
    assert [o["merchant_id"] for o in default.api("GET", "/orders")["orders"]] == [APP_B]
    assert len(default.api("GET", "/scenarios")["scenarios"]) == 1


def test_reset_with_merchants_drops_a_namespace_s_merchants_and_the_demo_ones_stay_in_the_default(two_teams, space):
    team, default = two_teams

    team.api("POST", "/reset", json={"merchants": True})

    assert team.api("GET", "/merchants") == {"merchants": []}
    default.register("alipay", APP_A)  # its id is free again
    assert APP in {m["merchant_id"] for m in default.api("GET", "/merchants")["merchants"]}
    default.api("POST", "/reset", json={"merchants": True})
    assert {m["merchant_id"] for m in default.api("GET", "/merchants")["merchants"]} == {
        APP,
        "1900000109",
        "777290058110097",
    }
    assert team.api("GET", "/merchants") == {"merchants": []}  # the demo merchants come back in the default only


# -- the OpenAPI description -----------------------------------------------------------------------------------


def test_the_header_is_documented_on_exactly_the_operations_that_answer_an_unknown_namespace_with_404(space):
    space("real")
    names = {
        "gateway": "alipay",
        "merchant_id": APP,
        "out_trade_no": "X",
        "out_refund_no": "X",
        "notification_id": "X",
        "rule_id": "X",
        "name": "real",
    }
    for path, item in document()["paths"].items():
        for method, op in item.items():
            takes_header = any(p["$ref"].endswith("/namespace_header") for p in op.get("parameters", []))
            reply = space().call(method, path.removeprefix("/_sandbox").format(**names), headers={HEADER: "nope"})
            answered_404 = reply.status_code == 404 and reply.json()["error"]["code"] == "NAMESPACE_NOT_FOUND"
            assert answered_404 == takes_header, (method, path)
            if takes_header:
                assert "404" in op["responses"] and "400" in op["responses"], (method, path)
