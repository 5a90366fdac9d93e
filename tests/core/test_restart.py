"""State in a TinyDB file survives a restart, pending notifications included (they go out afterwards)."""

import json

import pytest

from sandbox.app import create_app
from sandbox.config import Config
from sandbox.merchant.alipay import AlipayClient

APP = "2021000000000001"


@pytest.fixture(params=["file", "postgres"])
def data(request, tmp_path) -> str:
    """Each kept store: a TinyDB file, then a fresh PostgreSQL database."""
    return request.getfixturevalue("postgres_url") if request.param == "postgres" else str(tmp_path / "state.json")


def test_a_pending_notification_is_delivered_after_a_restart(data, receiver, alipay_demo):
    receiver.reply("not yet")
    first = create_app(Config(data_path=data, clock_mode="manual"))
    client = first.test_client()
    merchant = AlipayClient(APP, alipay_demo.app_private_key, alipay_demo.alipay_public_key, "http://x/gateway.do")
    params = merchant.signed_params(
        "alipay.trade.create",
        {"out_trade_no": "RS-1", "total_amount": "1.00", "subject": "x", "buyer_id": "2088000000000009"},
        notify_url=receiver.url + "/notify",
    )
    assert client.post("/gateway.do", data=params).status_code == 200
    client.post(f"/_sandbox/orders/alipay/{APP}/RS-1/pay", json={})
    client.post("/_sandbox/notifications/flush")
    first.extensions["paysandbox"].stop()

    receiver.reply("success")
    second = create_app(Config(data_path=data, clock_mode="manual"))
    client = second.test_client()
    order = client.get(f"/_sandbox/orders/alipay/{APP}/RS-1").get_json()
    assert order["status"] == "paid"
    assert order["notifications"][0]["status"] == "pending"
    client.post("/_sandbox/clock/advance", json={"seconds": 240})
    [record] = client.get("/_sandbox/notifications").get_json()["notifications"]
    assert record["status"] == "delivered"
    assert [a["response_body"] for a in record["attempts"]] == ["not yet", "success"]
    second.extensions["paysandbox"].stop()


APP_A = "2021000000000101"
TEAM_A = {"X-Sandbox-Namespace": "team-a"}


def start(data: str):
    app = create_app(Config(data_path=data, clock_mode="manual"))
    return app, app.test_client()


def test_namespaces_their_records_and_their_due_work_survive_a_restart(data, alipay_demo):
    first, client = start(data)
    client.post("/_sandbox/namespaces", json={"name": "team-a"})
    registration = {"gateway": "alipay", "merchant_id": APP_A, "app_public_key": alipay_demo.app_public_key}
    assert client.post("/_sandbox/merchants", json=registration, headers=TEAM_A).status_code == 201
    merchant = AlipayClient(APP_A, alipay_demo.app_private_key, alipay_demo.alipay_public_key, "http://x/gateway.do")
    biz = {"out_trade_no": "NS-1", "total_amount": "1.00", "subject": "x", "buyer_id": "2088000000000009"}
    client.post("/gateway.do", data=merchant.signed_params("alipay.trade.create", {**biz, "timeout_express": "10m"}))
    first.extensions["paysandbox"].stop()

    second, client = start(data)
    assert client.get("/_sandbox/namespaces").get_json()["namespaces"] == ["default", "team-a"]
    assert client.get(f"/_sandbox/orders/alipay/{APP_A}/NS-1").status_code == 404  # not the default's
    client.post("/_sandbox/clock/advance", json={"seconds": 3600}, headers=TEAM_A)  # the expiry, rebuilt in team-a
    assert client.get(f"/_sandbox/orders/alipay/{APP_A}/NS-1", headers=TEAM_A).get_json()["status"] == "closed"
    second.extensions["paysandbox"].stop()


def test_a_store_written_before_namespaces_is_the_default_namespace(tmp_path, alipay_demo):
    data = tmp_path / "state.json"
    first, client = start(str(data))
    merchant = AlipayClient(APP, alipay_demo.app_private_key, alipay_demo.alipay_public_key, "http://x/gateway.do")
    biz = {"out_trade_no": "OLD-1", "total_amount": "1.00", "subject": "x", "buyer_id": "2088000000000009"}
    client.post("/gateway.do", data=merchant.signed_params("alipay.trade.create", biz))
    first.extensions["paysandbox"].stop()  # the whole store is in the file now
    tables = json.loads(data.read_text())
    for documents in tables.values():
        for document in documents.values():
            document.pop("namespace", None)  # as a sandbox without namespaces wrote it
    data.write_text(json.dumps(tables))

    second, client = start(str(data))
    assert client.get(f"/_sandbox/orders/alipay/{APP}/OLD-1").get_json()["status"] == "pending"
    assert [o["out_trade_no"] for o in client.get("/_sandbox/orders").get_json()["orders"]] == ["OLD-1"]
    second.extensions["paysandbox"].stop()
