"""The /_sandbox control API contract (docs/protocols/control-api-contract.md): paths, fields, errors."""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

APP = "2021000000000001"


def new_public_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_health_answers_ok_and_the_version(client):
    answer = client.get("/_sandbox/health")
    assert answer.status_code == 200
    assert answer.get_json()["status"] == "ok"
    assert answer.get_json()["version"]


def test_demo_merchant_is_registered_at_start_up(client, alipay_demo):
    merchant = client.get(f"/_sandbox/merchants/alipay/{APP}").get_json()
    assert merchant["alipay_public_key"] == alipay_demo.alipay_public_key
    assert merchant["alipay_root_cert"] == alipay_demo.alipay_root_cert
    assert merchant["alipay_public_key_cert"] == alipay_demo.alipay_public_key_cert


def test_registering_a_merchant_answers_201_with_the_sandbox_material(client):
    answer = client.post(
        "/_sandbox/merchants",
        json={"gateway": "alipay", "merchant_id": "2021000000000777", "app_public_key": new_public_pem()},
    )
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["merchant_id"] == "2021000000000777"
    assert body["alipay_public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    assert body["app_cert"].startswith("-----BEGIN CERTIFICATE-----")  # issued for cert mode
    assert len(body["app_cert_sn"]) == 32
    listed = client.get("/_sandbox/merchants").get_json()["merchants"]
    assert {m["merchant_id"] for m in listed if m["gateway"] == "alipay"} == {APP, "2021000000000777"}
    assert client.get("/_sandbox/merchants/alipay/2021000000000777").get_json() == body


def test_registering_again_replaces_the_key(client):
    for _ in range(2):
        pem = new_public_pem()
        client.post(
            "/_sandbox/merchants", json={"gateway": "alipay", "merchant_id": "2021000000000778", "app_public_key": pem}
        )
    assert client.get("/_sandbox/merchants/alipay/2021000000000778").get_json()["app_public_key"] == pem


def test_registration_errors_are_400_with_a_code_and_a_message(client):
    cases = [
        ({"gateway": "paypal", "merchant_id": "1"}, "INVALID_PARAMETER"),
        ({"gateway": "alipay"}, "MISSING_PARAMETER"),
        ({"gateway": "alipay", "merchant_id": "abc", "app_public_key": new_public_pem()}, "INVALID_PARAMETER"),
        ({"gateway": "alipay", "merchant_id": "２０２１", "app_public_key": new_public_pem()}, "INVALID_PARAMETER"),
        ({"gateway": "alipay", "merchant_id": "2021000000000779"}, "MISSING_PARAMETER"),
        ({"gateway": "alipay", "merchant_id": "2021000000000779", "app_public_key": "not a key"}, "INVALID_PARAMETER"),
        (
            {"gateway": "alipay", "merchant_id": "2021000000000779", "app_cert": "-----BEGIN CERTIFICATE-----\nxx"},
            "INVALID_PARAMETER",
        ),
    ]
    for body, code in cases:
        answer = client.post("/_sandbox/merchants", json=body)
        assert answer.status_code == 400, body
        assert answer.get_json()["error"]["code"] == code
        assert answer.get_json()["error"]["message"]


def test_a_body_that_is_not_a_json_object_is_400(client):
    answer = client.post("/_sandbox/merchants", data="[1]", content_type="application/json")
    assert answer.status_code == 400
    answer = client.post("/_sandbox/merchants", data="{nope", content_type="application/json")
    assert answer.status_code == 400


def test_unknown_merchant_and_unknown_order_are_404(client):
    assert client.get("/_sandbox/merchants/alipay/999").status_code == 404
    answer = client.get(f"/_sandbox/orders/alipay/{APP}/nope")
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "ORDER_NOT_FOUND"
    assert client.get("/_sandbox/no-such-endpoint").get_json()["error"]["code"] == "NOT_FOUND"


def test_orders_are_listed_newest_first_and_filtered(client, alipay_call):
    for n in range(3):
        alipay_call(
            "alipay.trade.create",
            {"out_trade_no": f"L-{n}", "total_amount": "1.00", "subject": "x", "buyer_id": "2088000000000009"},
        )
    client.post(f"/_sandbox/orders/alipay/{APP}/L-1/pay", json={})
    orders = client.get("/_sandbox/orders?gateway=alipay").get_json()["orders"]
    assert [o["out_trade_no"] for o in orders][:3] == ["L-2", "L-1", "L-0"]
    paid = client.get("/_sandbox/orders?status=paid").get_json()["orders"]
    assert [o["out_trade_no"] for o in paid] == ["L-1"]
    assert client.get("/_sandbox/orders?status=bogus").status_code == 400
    assert (
        client.get(f"/_sandbox/orders?merchant_id={APP}&status=pending").get_json()["orders"][0]["status"] == "pending"
    )


def test_an_order_carries_the_fields_of_the_contract(client, alipay_call):
    alipay_call(
        "alipay.trade.create",
        {"out_trade_no": "F-1", "total_amount": "12.34", "subject": "咖啡", "buyer_id": "2088000000000009"},
        notify_url="http://127.0.0.1:9/n",
    )
    order = client.get(f"/_sandbox/orders/alipay/{APP}/F-1").get_json()
    for field in (
        "gateway",
        "merchant_id",
        "out_trade_no",
        "trade_no",
        "amount",
        "currency",
        "subject",
        "status",
        "notify_url",
        "created_at",
        "paid_at",
        "expires_at",
        "refunds",
        "notifications",
    ):
        assert field in order
    assert order["amount"] == 1234
    assert order["subject"] == "咖啡"
    assert order["status"] == "pending"
    assert order["created_at"].endswith("+08:00")


def test_the_buyer_can_fail_a_payment_through_the_control_api(client, alipay_call):
    alipay_call(
        "alipay.trade.create",
        {"out_trade_no": "P-1", "total_amount": "1.00", "subject": "x", "buyer_id": "2088000000000009"},
    )
    answer = client.post(
        f"/_sandbox/orders/alipay/{APP}/P-1/pay", json={"outcome": "fail", "reason": "ACQ.BUYER_BALANCE_NOT_ENOUGH"}
    )
    assert answer.get_json()["status"] == "failed"
    assert answer.get_json()["failure"]["reason"] == "ACQ.BUYER_BALANCE_NOT_ENOUGH"
    assert alipay_call("alipay.trade.query", {"out_trade_no": "P-1"})["trade_status"] == "TRADE_CLOSED"


def test_paying_twice_is_a_409_conflict(client, alipay_call):
    alipay_call(
        "alipay.trade.create",
        {"out_trade_no": "P-2", "total_amount": "1.00", "subject": "x", "buyer_id": "2088000000000009"},
    )
    assert client.post(f"/_sandbox/orders/alipay/{APP}/P-2/pay", json={}).status_code == 200
    again = client.post(f"/_sandbox/orders/alipay/{APP}/P-2/pay", json={})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "ORDER_ALREADY_PAID"


def test_pay_with_a_bad_outcome_is_400(client, alipay_call):
    alipay_call(
        "alipay.trade.create",
        {"out_trade_no": "P-3", "total_amount": "1.00", "subject": "x", "buyer_id": "2088000000000009"},
    )
    assert client.post(f"/_sandbox/orders/alipay/{APP}/P-3/pay", json={"outcome": "maybe"}).status_code == 400


def test_reset_drops_orders_but_keeps_merchants_unless_asked(client, alipay_call):
    client.post(
        "/_sandbox/merchants",
        json={"gateway": "alipay", "merchant_id": "2021000000000780", "app_public_key": new_public_pem()},
    )
    alipay_call(
        "alipay.trade.create",
        {"out_trade_no": "R-1", "total_amount": "1.00", "subject": "x", "buyer_id": "2088000000000009"},
    )
    assert client.post("/_sandbox/reset").status_code == 200
    assert client.get("/_sandbox/orders").get_json()["orders"] == []
    assert client.get("/_sandbox/merchants/alipay/2021000000000780").status_code == 200
    client.post("/_sandbox/reset", json={"merchants": True})
    assert client.get("/_sandbox/merchants/alipay/2021000000000780").status_code == 404
    assert client.get(f"/_sandbox/merchants/alipay/{APP}").status_code == 200  # the demo merchant comes back


def test_clock_modes_are_set_and_reported(client):
    assert client.get("/_sandbox/clock").get_json()["mode"] == "real"
    assert client.post("/_sandbox/clock", json={"mode": "accelerated", "factor": 60}).get_json()["factor"] == 60
    manual = client.post("/_sandbox/clock", json={"mode": "manual"}).get_json()
    assert manual["mode"] == "manual"
    later = client.post("/_sandbox/clock/advance", json={"seconds": 3600}).get_json()
    assert later["now"] > manual["now"]
    assert client.post("/_sandbox/clock", json={"mode": "fast"}).status_code == 400


def test_settling_a_refund_that_is_not_pending_is_a_409(client, alipay_call):
    alipay_call(
        "alipay.trade.create",
        {"out_trade_no": "S-1", "total_amount": "1.00", "subject": "x", "buyer_id": "2088000000000009"},
    )
    client.post(f"/_sandbox/orders/alipay/{APP}/S-1/pay", json={})
    alipay_call("alipay.trade.refund", {"out_trade_no": "S-1", "refund_amount": "0.50", "out_request_no": "S-1-r"})
    answer = client.post(f"/_sandbox/orders/alipay/{APP}/S-1/refunds/S-1-r/settle", json={"outcome": "closed"})
    assert answer.status_code == 409  # Alipay refunds succeed at once
    missing = client.post(f"/_sandbox/orders/alipay/{APP}/S-1/refunds/nope/settle", json={})
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "REFUND_NOT_FOUND"
    bad = client.post(f"/_sandbox/orders/alipay/{APP}/S-1/refunds/S-1-r/settle", json={"outcome": "maybe"})
    assert bad.status_code == 400
