"""State in a TinyDB file survives a restart, pending notifications included (they go out afterwards)."""

from sandbox.app import create_app
from sandbox.config import Config
from sandbox.merchant.alipay import AlipayClient

APP = "2021000000000001"


def test_a_pending_notification_is_delivered_after_a_restart(tmp_path, receiver, alipay_demo):
    data = str(tmp_path / "state.json")
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
