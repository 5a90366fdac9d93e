"""The Scenarios section of the control API: add, list in the order tried, delete, errors, magic table.

The contract: docs/protocols/control-api-contract.md#scenario-rules."""

import pytest

RULE = {"name": "first query fails", "match": {"operation": "query"}, "times": 1, "api": {"error": "system_error"}}


def test_adding_a_rule_answers_201_with_its_id_and_remaining(client):
    reply = client.post("/_sandbox/scenarios", json=RULE)
    assert reply.status_code == 201
    scenario = reply.get_json()["scenario"]
    assert scenario["id"].startswith("scn_")
    assert scenario["remaining"] == 1
    assert {k: scenario[k] for k in ("name", "match", "times", "api")} == {k: RULE[k] for k in RULE}


def test_a_standing_rule_has_remaining_null(client):
    scenario = client.post("/_sandbox/scenarios", json={"notify": {"drop": 1}}).get_json()["scenario"]
    assert scenario["remaining"] is None and scenario["times"] is None


def test_list_is_in_the_order_rules_are_tried(client):
    standing = client.post("/_sandbox/scenarios", json={"api": {"status": 502}}).get_json()["scenario"]["id"]
    one_shot = client.post("/_sandbox/scenarios", json=RULE).get_json()["scenario"]["id"]
    listed = client.get("/_sandbox/scenarios").get_json()["scenarios"]
    assert [s["id"] for s in listed] == [one_shot, standing]


def test_delete_one_then_all(client):
    ids = [client.post("/_sandbox/scenarios", json=RULE).get_json()["scenario"]["id"] for _ in range(3)]
    assert client.delete(f"/_sandbox/scenarios/{ids[0]}").get_json() == {"deleted": [ids[0]]}
    assert client.get(f"/_sandbox/scenarios/{ids[0]}").status_code == 404
    assert client.get(f"/_sandbox/scenarios/{ids[1]}").get_json()["scenario"]["id"] == ids[1]
    assert client.delete("/_sandbox/scenarios").get_json() == {"deleted": ids[1:]}
    assert client.get("/_sandbox/scenarios").get_json() == {"scenarios": []}


def test_deleting_an_unknown_rule_is_404(client):
    reply = client.delete("/_sandbox/scenarios/scn_nope")
    assert reply.status_code == 404
    assert reply.get_json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"api": {"status": 503}, "mtach": {}}, "mtach"),
        ({"notify": {"drop": "two"}}, "notify.drop"),
        ({"api": {"error": "ACQ.NO_SUCH_THING"}}, "api.error"),
    ],
)
def test_a_rule_that_cannot_be_understood_is_a_400_naming_the_key(client, body, key):
    reply = client.post("/_sandbox/scenarios", json=body)
    assert reply.status_code == 400
    error = reply.get_json()["error"]
    assert error["code"] == "INVALID_PARAMETER"
    assert key in error["message"]


def test_a_body_that_is_not_a_json_object_is_a_400(client):
    reply = client.post("/_sandbox/scenarios", data="[1]", content_type="application/json")
    assert reply.status_code == 400


def test_several_rules_are_added_all_or_none(client):
    good, bad = {"notify": {"drop": 1}}, {"notify": {"drop": 1}, "api": {"status": 200}}
    reply = client.post("/_sandbox/scenarios", json={"scenarios": [good, bad]})
    assert reply.status_code == 400
    assert "scenarios[1]" in reply.get_json()["error"]["message"]
    assert client.get("/_sandbox/scenarios").get_json() == {"scenarios": []}
    reply = client.post("/_sandbox/scenarios", json={"scenarios": [good, good]})
    assert reply.status_code == 201 and len(reply.get_json()["scenarios"]) == 2


def test_reset_drops_scenarios(client):
    client.post("/_sandbox/scenarios", json=RULE)
    client.post("/_sandbox/reset")
    assert client.get("/_sandbox/scenarios").get_json() == {"scenarios": []}


def test_the_magic_amounts_are_listed(client):
    amounts = client.get("/_sandbox/magic").get_json()["amounts"]
    assert [a["yuan"] for a in amounts] == [f"6.0{n}" for n in range(1, 10)]
    assert all(a["effect"] for a in amounts)
