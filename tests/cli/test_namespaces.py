"""`paysandbox namespaces list | create | delete`, and `--namespace` (or $SANDBOX_NAMESPACE) on the other commands."""

from __future__ import annotations

import re

import pytest

from sandbox.merchant.alipay import AlipayClient
from tests.cli.conftest import APP, FIXTURES, paysandbox

APP_IN_QA = "2021000000000301"
NOBODY = "http://127.0.0.1:9/notify"


@pytest.fixture
def qa(sbx):
    """The namespace `qa`, with an Alipay app of its own; every namespace but the default is gone afterwards."""
    sbx.api("POST", "/namespaces", json={"name": "qa"})
    public_key = (FIXTURES / "alipay/demo/app_public_key.pem").read_text()
    registration = {"gateway": "alipay", "merchant_id": APP_IN_QA, "app_public_key": public_key}
    sbx.api("POST", "/merchants", json=registration, headers={"X-Sandbox-Namespace": "qa"})
    yield sbx
    for name in sbx.api("GET", "/namespaces")["namespaces"][1:]:
        sbx.api("DELETE", f"/namespaces/{name}")


def order_in_qa(sbx, out_trade_no: str) -> None:
    client = AlipayClient(
        APP_IN_QA,
        (FIXTURES / "alipay/demo/app_private_key.pem").read_text(),
        (FIXTURES / "alipay/sandbox/alipay_public_key.pem").read_text(),
        f"{sbx.url}/gateway.do",
    )
    client.create(out_trade_no, 100, "Tea", "2088000000000009", notify_url=NOBODY, timeout_express="1h")


def test_namespaces_create_list_and_delete(qa):
    assert qa.cli("namespaces", "create", "team-b") == "team-b\n"
    generated = qa.cli("namespaces", "create").strip()
    assert re.fullmatch(r"ns-[0-9a-f]{10}", generated)

    assert qa.cli("namespaces", "list").splitlines() == ["4 namespaces", "default", generated, "qa", "team-b"]
    assert qa.cli_json("namespaces", "list") == qa.api("GET", "/namespaces")
    assert qa.cli("namespaces", "delete", "team-b") == "deleted team-b\n"
    assert qa.cli_json("namespaces", "list")["namespaces"] == ["default", generated, "qa"]


def test_namespace_option_acts_in_that_namespace_and_nowhere_else(qa):
    order_in_qa(qa, "QA-NS-1")
    qa.alipay.create("QA-DEFAULT-1", 100, "Tea", "2088000000000009", notify_url=NOBODY, timeout_express="1h")
    default_now = qa.cli_json("clock")["now"]

    listed = qa.cli("orders", "list", "--namespace", "qa")
    assert "QA-NS-1" in listed and "QA-DEFAULT-1" not in listed
    assert "QA-NS-1" not in qa.cli("orders", "list")
    qa.cli("clock", "advance", "1d", "--namespace", "qa")

    assert qa.cli_json("clock")["now"] == default_now  # the default namespace's manual clock did not move
    assert qa.cli_json("clock", "--namespace", "qa")["now"] > default_now
    assert qa.cli_json("orders", "show", "alipay", APP_IN_QA, "QA-NS-1", "--namespace", "qa")["status"] == "closed"
    assert qa.cli_json("orders", "show", "alipay", APP, "QA-DEFAULT-1")["status"] == "pending"


def test_the_namespace_comes_from_sandbox_namespace_too(qa):
    order_in_qa(qa, "QA-ENV-1")
    env = {"SANDBOX_URL": qa.url, "SANDBOX_NAMESPACE": "qa"}

    result = paysandbox("orders", "list", "--json", env=env)

    assert result.returncode == 0, result.stderr
    assert '"QA-ENV-1"' in result.stdout


def test_an_unknown_namespace_is_one_line_and_exit_1(sbx):
    result = paysandbox("orders", "list", "--url", sbx.url, "--namespace", "nope")

    assert result.returncode == 1
    assert result.stderr.startswith("paysandbox: NAMESPACE_NOT_FOUND: no namespace 'nope' in this sandbox")
    assert len(result.stderr.splitlines()) == 1


def test_a_malformed_namespace_is_a_usage_error(sbx):
    result = paysandbox("clock", "--url", sbx.url, "--namespace", "Team B")

    assert result.returncode == 2
    assert "'Team B' is not a namespace name" in result.stderr


def test_deleting_the_default_namespace_is_refused_with_the_reason(sbx):
    result = paysandbox("namespaces", "delete", "default", "--url", sbx.url)

    assert result.returncode == 1
    assert "DEFAULT_NAMESPACE: the default namespace cannot be deleted" in result.stderr
