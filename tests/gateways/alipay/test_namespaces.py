"""python-alipay-sdk (gateway.do) and OpenAPI v3, unmodified, for apps in two namespaces: each call reaches the
namespace of the app it names, with that namespace's orders, scenario rules and API faults."""

from __future__ import annotations

import pytest
from alipay import AliPay
from alipay.exceptions import AliPayException

from sandbox.merchant.alipay_v3 import AlipayV3Client

APP_A = "2021000000000101"


@pytest.fixture
def team(space):
    team = space("team-a")
    team.register("alipay", APP_A)
    return team


@pytest.fixture
def team_sdk(team, gateway_url, alipay_demo) -> AliPay:
    """python-alipay-sdk as team-a's app, unmodified but for its gateway URL."""
    client = AliPay(
        appid=APP_A,
        app_private_key_string=alipay_demo.app_private_key,
        alipay_public_key_string=alipay_demo.alipay_public_key,
        sign_type="RSA2",
    )
    client._gateway = gateway_url
    return client


def precreate(sdk: AliPay, amount: str) -> dict:
    answer = sdk.api_alipay_trade_precreate(out_trade_no="SAME-1", total_amount=amount, subject="Tea")
    assert answer["code"] == "10000", answer
    return answer


def test_each_app_s_calls_reach_its_own_namespace(alipay, team_sdk, team, space, alipay_demo):
    precreate(alipay, "1.00")
    precreate(team_sdk, "2.00")  # the same out_trade_no: another namespace, another order

    team.api("POST", f"/orders/alipay/{APP_A}/SAME-1/pay", json={})

    assert team_sdk.api_alipay_trade_query(out_trade_no="SAME-1")["trade_status"] == "TRADE_SUCCESS"
    # The default namespace's SAME-1 is unpaid and unscanned: at Alipay such a trade does not exist yet.
    assert alipay.api_alipay_trade_query(out_trade_no="SAME-1")["sub_code"] == "ACQ.TRADE_NOT_EXIST"
    assert [(o["merchant_id"], o["amount"]) for o in team.api("GET", "/orders")["orders"]] == [(APP_A, 200)]
    assert [(o["merchant_id"], o["amount"]) for o in space().api("GET", "/orders")["orders"]] == [
        (alipay_demo.app_id, 100)
    ]


def test_openapi_v3_reaches_the_namespace_of_the_app_it_names(team_sdk, team, live, alipay_demo):
    precreate(team_sdk, "2.00")
    team.api("POST", f"/orders/alipay/{APP_A}/SAME-1/pay", json={})
    v3 = AlipayV3Client(APP_A, alipay_demo.app_private_key, alipay_demo.alipay_public_key, live.url)

    answer = v3.call("POST", "/v3/alipay/trade/query", {"out_trade_no": "SAME-1"})

    assert (answer.data["trade_status"], answer.data["total_amount"]) == ("TRADE_SUCCESS", "2.00")


def test_a_namespace_s_notification_goes_to_its_order_s_notify_url_signed(team_sdk, team, receiver, alipay):
    team_sdk.api_alipay_trade_precreate(
        out_trade_no="SAME-1", total_amount="2.00", subject="Tea", notify_url=f"{receiver.url}/notify"
    )

    team.api("POST", f"/orders/alipay/{APP_A}/SAME-1/pay", json={})

    [record] = receiver.wait_for(1, path="/notify")
    fields = dict(record.form)
    assert team_sdk.verify(fields, fields.pop("sign"))
    assert (fields["app_id"], fields["trade_status"]) == (APP_A, "TRADE_SUCCESS")


def test_scenario_rules_and_api_faults_shape_only_their_own_namespace(alipay, team_sdk, team, space, alipay_demo):
    team.api("POST", "/scenarios", json={"match": {"gateway": "alipay"}, "payment": {"outcome": "fail"}})
    team.api(
        "POST", "/scenarios", json={"match": {"operation": "query"}, "api": {"error": "ACQ.SYSTEM_ERROR"}, "times": 1}
    )
    precreate(alipay, "1.00")
    precreate(team_sdk, "2.00")

    assert space().api("POST", f"/orders/alipay/{alipay_demo.app_id}/SAME-1/pay", json={})["status"] == "paid"
    assert team.api("POST", f"/orders/alipay/{APP_A}/SAME-1/pay", json={})["status"] == "failed"
    assert alipay.api_alipay_trade_query(out_trade_no="SAME-1")["trade_status"] == "TRADE_SUCCESS"
    assert team_sdk.api_alipay_trade_query(out_trade_no="SAME-1")["sub_code"] == "ACQ.SYSTEM_ERROR"


def test_an_app_of_a_deleted_namespace_is_not_registered_any_more(team_sdk, space):
    space().api("DELETE", "/namespaces/team-a")

    with pytest.raises(AliPayException, match=r"isv\.invalid-app-id"):  # the SDK raises on a 40002
        team_sdk.api_alipay_trade_query(out_trade_no="SAME-1")
