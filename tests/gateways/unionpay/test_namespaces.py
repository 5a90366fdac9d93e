"""The UnionPay reference client for merchants in two namespaces: each ACP call reaches the namespace of the merId
it names, and a back notification goes to the merchant of its own namespace."""

from __future__ import annotations

from datetime import datetime

import pytest

from sandbox.merchant.unionpay import UnionPayClient
from tests.gateways.unionpay.conftest import FIXTURES, MER_ID

MER_A = "777290058110201"
TXN_TIME = "20250115103000"


def client(live, mer_id: str, space) -> UnionPayClient:
    """The reference client with the demo merchant's PKCS#12, as `mer_id`; txnTime on its namespace's clock."""
    return UnionPayClient.from_pkcs12(
        mer_id,
        FIXTURES / "demo/acp_test_sign.pfx",
        "000000",
        base_url=live.url,
        root_cert=(FIXTURES / "sandbox/root.pem").read_text(),
        middle_cert=(FIXTURES / "sandbox/middle.pem").read_text(),
        clock=lambda: datetime.fromisoformat(space.clock()),
    )


@pytest.fixture
def team(space):
    team = space("team-a")
    team.register("unionpay", MER_A)
    return team


def test_each_mer_id_s_calls_reach_its_own_namespace(live, team, space, receiver):
    mine, theirs = client(live, MER_A, team), client(live, MER_ID, space())
    mine.app_consume("SAME0001", 300, f"{receiver.url}/team", txn_time=TXN_TIME)
    theirs.app_consume("SAME0001", 100, f"{receiver.url}/default", txn_time=TXN_TIME)

    team.api("POST", f"/orders/unionpay/{MER_A}/SAME0001/pay", json={})

    assert mine.query("SAME0001", TXN_TIME)["origRespCode"] == "00"
    assert theirs.query("SAME0001", TXN_TIME)["origRespCode"] == "05"  # still waiting for the buyer
    [notification] = receiver.wait_for(1, path="/team")
    fields = mine.verify_notification(notification.form)
    assert (fields["merId"], fields["txnAmt"]) == (MER_A, "300")
    assert receiver.at("/default") == []
