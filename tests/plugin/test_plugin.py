"""The pytest plugin, run as users run it: pytester writes a test file and runs pytest on it, in this process
against the plugin's own in-thread sandbox, or against an external sandbox by URL, in parallel with pytest-xdist."""

from __future__ import annotations

import json
import os

import pytest

from sandbox.config import Config

pytest_plugins = ["pytester"]

# A user's test: create an order with the ready client, pay as the buyer, get the notification, query, refund.
LIFE_CYCLE = """
def test_life_cycle(paysandbox, paysandbox_alipay, paysandbox_receiver):
    answer = paysandbox_alipay.precreate("ORDER-1", 990, "Coffee", notify_url=paysandbox_receiver.url + "/alipay")
    assert answer["qr_code"]

    paysandbox.pay("alipay", "ORDER-1")

    [notification] = paysandbox_receiver.wait_for(1)
    fields = paysandbox_alipay.verify_notification(notification.form)
    assert fields["trade_status"] == "TRADE_SUCCESS"
    assert paysandbox_alipay.query("ORDER-1")["trade_status"] == "TRADE_SUCCESS"
    assert paysandbox_alipay.refund("ORDER-1", 990, "R1")["fund_change"] == "Y"
    assert paysandbox.order("alipay", "ORDER-1")["status"] == "refunded"
"""


def test_the_in_thread_sandbox_runs_a_whole_payment_life_cycle(pytester):
    pytester.makepyfile(LIFE_CYCLE)

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)


def test_each_test_starts_from_a_clean_sandbox(pytester):
    pytester.makepyfile(
        """
        def test_first(paysandbox, paysandbox_alipay):
            paysandbox_alipay.precreate("ORDER-1", 100, "Tea")
            paysandbox.scenario(match={"gateway": "alipay"}, payment={"outcome": "fail"})
            assert len(paysandbox.orders()) == 1

        def test_second(paysandbox, paysandbox_alipay):
            assert paysandbox.orders() == []
            assert paysandbox.scenarios() == []
            paysandbox_alipay.precreate("ORDER-1", 100, "Tea")  # the same number again: no clash
            assert paysandbox.pay("alipay", "ORDER-1")["status"] == "paid"
        """
    )

    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_each_test_starts_on_a_manual_clock_at_the_wall_time_with_its_own_copy_of_the_merchant(pytester):
    pytester.makepyfile(
        """
        from datetime import datetime, timedelta, timezone

        def test_first(paysandbox, paysandbox_alipay):
            assert paysandbox.clock.mode() == "manual"
            paysandbox.clock.advance(3 * 86400)
            paysandbox.merchant("alipay").keys["app_private_key"] = "spoiled by this test"

        def test_second(paysandbox, paysandbox_alipay):
            assert paysandbox.clock.mode() == "manual"
            assert abs(paysandbox.clock.now() - datetime.now(timezone.utc)) < timedelta(minutes=1)
            assert paysandbox.merchant("alipay").keys["app_private_key"].startswith("-----BEGIN")
            assert paysandbox_alipay.precreate("ORDER-1", 100, "Tea")["out_trade_no"] == "ORDER-1"
        """
    )

    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


EVERY_GATEWAY = """
def test_wechatpay(paysandbox, paysandbox_wechatpay, paysandbox_receiver):
    paysandbox_wechatpay.native_prepay("WX-ORDER-1", 100, "Tea")
    paysandbox.pay("wechatpay", "WX-ORDER-1")
    [notification] = paysandbox_receiver.wait_for(1, path="/wechatpay")
    body = paysandbox_wechatpay.parse_notification(notification.headers, notification.body)
    assert body["resource"]["trade_state"] == "SUCCESS"


def test_unionpay(paysandbox, paysandbox_unionpay, paysandbox_receiver):
    answer = paysandbox_unionpay.app_consume("UP0000001", 100, paysandbox_receiver.url + "/unionpay")
    assert answer["tn"]
    paysandbox.pay("unionpay", "UP0000001")
    [notification] = paysandbox_receiver.wait_for(1, path="/unionpay")
    assert paysandbox_unionpay.verify_notification(notification.form)["respCode"] == "00"


def test_the_same_app_on_openapi_v3(paysandbox, paysandbox_alipay, paysandbox_alipay_v3):
    paysandbox_alipay.precreate("ORDER-V3", 990, "Coffee")
    paysandbox.pay("alipay", "ORDER-V3")
    answer = paysandbox_alipay_v3.call("POST", "/v3/alipay/trade/query", {"out_trade_no": "ORDER-V3"})
    assert answer.data["trade_status"] == "TRADE_SUCCESS"


def test_a_scenario_declines_only_this_tests_payments(paysandbox, paysandbox_alipay):
    paysandbox.scenario(match={"gateway": "alipay"}, payment={"outcome": "fail"})
    paysandbox_alipay.precreate("ORDER-1", 100, "Tea")
    assert paysandbox.pay("alipay", "ORDER-1")["status"] == "failed"
"""


@pytest.fixture(params=["in-thread", "external"])
def mode(request, live) -> list[str]:
    """The same tests, against the plugin's own sandbox or an external one (here: a live server by URL)."""
    return ["--sandbox-url", live.url] if request.param == "external" else []


def test_ready_clients_for_every_gateway_work_in_both_modes(pytester, mode):
    pytester.makepyfile(LIFE_CYCLE + EVERY_GATEWAY)

    pytester.runpytest("-p", "no:cacheprovider", *mode).assert_outcomes(passed=5)


def test_an_external_sandbox_gives_each_test_a_namespace_of_its_own_deleted_after_it(pytester, live, http):
    pytester.makepyfile(
        """
        def test_one(paysandbox):
            assert paysandbox.namespace.startswith("pytest-")
            assert paysandbox.merchant_id("alipay") != "2021000000000001"  # not the demo app: that is the default's

        def test_two(paysandbox, paysandbox_alipay):
            paysandbox_alipay.precreate("ORDER-1", 100, "Tea")
            assert [o["merchant_id"] for o in paysandbox.orders()] == [paysandbox.merchant_id("alipay")]
        """
    )

    pytester.runpytest("-p", "no:cacheprovider", "--sandbox-url", live.url).assert_outcomes(passed=2)
    assert http.get(f"{live.url}/_sandbox/namespaces").json()["namespaces"] == ["default"]
    merchants = http.get(f"{live.url}/_sandbox/merchants").json()["merchants"]
    assert [m["merchant_id"] for m in merchants if m["gateway"] == "alipay"] == ["2021000000000001"]
    assert http.get(f"{live.url}/_sandbox/orders").json()["orders"] == []


def test_sandbox_url_comes_from_the_environment_too(pytester, live, monkeypatch):
    monkeypatch.setenv("SANDBOX_URL", live.url)
    pytester.makepyfile("def test_url(paysandbox):\n    assert paysandbox.isolated and paysandbox.app is None\n")

    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_parallel_workers_on_one_sandbox_do_not_see_each_other(pytester, live, http):
    # Every test uses the same order number, declines or pays, and counts what it sees: with 2 workers at once.
    tests = "\n".join(
        f"""
def test_{n}(paysandbox, paysandbox_alipay, paysandbox_receiver):
    outcome = "fail" if {n} % 2 else "success"
    paysandbox.scenario(match={{"gateway": "alipay"}}, payment={{"outcome": outcome}})
    paysandbox_alipay.precreate("SAME-NUMBER", 100, "Tea", notify_url=paysandbox_receiver.url)
    expected = "failed" if {n} % 2 else "paid"
    assert paysandbox.pay("alipay", "SAME-NUMBER", outcome="success")["status"] == expected
    assert [o["status"] for o in paysandbox.orders()] == [expected]
    assert len(paysandbox.scenarios()) == 1
    if expected == "paid":
        paysandbox_receiver.wait_for(1)
        assert len(paysandbox.notifications()) == 1
"""
        for n in range(8)
    )
    pytester.makepyfile(tests)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--sandbox-url", live.url)

    result.assert_outcomes(passed=8)
    assert http.get(f"{live.url}/_sandbox/scenarios").json()["scenarios"] == []  # each test's rules were its own
    assert http.get(f"{live.url}/_sandbox/namespaces").json()["namespaces"] == ["default"]


# Two tests, one per worker, meet at two FIFOs (opening one blocks until both ends are open), so that each moves
# its clock while the other moves its own: the one hour test must see one hour pass, not three days and an hour.
CLOCKS_IN_PARALLEL = """
import threading
from datetime import timedelta


def meet(fifo, mode):
    met = threading.Event()

    def open_end():
        with open(fifo, mode):
            met.set()

    threading.Thread(target=open_end, daemon=True).start()
    assert met.wait(30), "the other test never came"


def advance(paysandbox, paysandbox_alipay, steps, seconds, end):
    paysandbox.clock.set("manual")
    start = paysandbox.clock.now()
    paysandbox_alipay.precreate("ORDER-1", 100, "Tea", timeout_express="2h")
    meet("{started}", end)
    for _ in range(steps):
        paysandbox.clock.advance(seconds)
    meet("{advanced}", end)
    assert paysandbox.clock.now() == start + timedelta(seconds=steps * seconds)
    return paysandbox.order("alipay", "ORDER-1")["status"]


def test_one_hour(paysandbox, paysandbox_alipay):
    assert advance(paysandbox, paysandbox_alipay, 2, 1800, "w") == "pending"


def test_three_days(paysandbox, paysandbox_alipay):
    assert advance(paysandbox, paysandbox_alipay, 3, 86400, "r") == "closed"
"""


def test_parallel_tests_move_their_own_clocks_and_nobody_else_s(pytester, live, tmp_path):
    started, advanced = tmp_path / "started", tmp_path / "advanced"
    for fifo in (started, advanced):
        os.mkfifo(fifo)
    pytester.makepyfile(CLOCKS_IN_PARALLEL.replace("{started}", str(started)).replace("{advanced}", str(advanced)))

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--sandbox-url", live.url)

    result.assert_outcomes(passed=2)


def test_a_sandbox_without_namespaces_stops_the_run_with_one_clear_line(pytester, receiver):
    for path, status, body in (
        ("/_sandbox/health", 200, {"status": "ok"}),
        ("/_sandbox/clock", 200, {"mode": "real"}),
        ("/_sandbox/namespaces", 404, {"error": {"code": "NOT_FOUND", "message": "no such path"}}),
    ):
        receiver.reply(json.dumps(body), status, path=path)
    pytester.makepyfile("def test_x(paysandbox):\n    pass\n")

    result = pytester.runpytest("-p", "no:cacheprovider", "--sandbox-url", receiver.url)

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*the sandbox at {receiver.url} has no namespaces*run a paysandbox as recent*"])


def test_an_error_in_the_sandbox_thread_fails_the_test_that_caused_it(pytester):
    pytester.makepyfile(
        """
        import pytest
        from sandbox.control import ControlError

        def test_breaks_the_sandbox(paysandbox, monkeypatch):
            def boom(*args):
                raise RuntimeError("boom in the order list")

            monkeypatch.setattr(paysandbox.sandbox.payments, "list", boom)
            with pytest.raises(ControlError):
                paysandbox.orders("alipay")

        def test_next_is_fine(paysandbox):
            assert paysandbox.orders() == []
        """
    )

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_breaks_the_sandbox*", "*boom in the order list*"])


def test_an_error_in_a_receiver_reply_handler_surfaces_in_the_test(pytester):
    pytester.makepyfile(
        """
        def test_handler_breaks(paysandbox, paysandbox_alipay, paysandbox_receiver):
            def answer(received):
                raise ValueError("my handler is wrong")

            paysandbox_receiver.reply(answer)
            paysandbox_alipay.precreate("ORDER-1", 100, "Tea", notify_url=paysandbox_receiver.url)
            paysandbox.pay("alipay", "ORDER-1")
            paysandbox_receiver.wait_for(1)
        """
    )

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ReceiverError*", "*my handler is wrong*"])


def test_the_clock_runs_the_retry_schedule_without_waiting(pytester):
    pytester.makepyfile(
        """
        def test_retry(paysandbox, paysandbox_alipay, paysandbox_receiver):
            paysandbox_receiver.reply("busy")  # anything but "success": Alipay retries 4 minutes later
            paysandbox_alipay.precreate("ORDER-1", 100, "Tea", notify_url=paysandbox_receiver.url)
            paysandbox.pay("alipay", "ORDER-1")
            paysandbox_receiver.wait_for(1)

            paysandbox_receiver.reply("success")
            paysandbox.clock.advance(4 * 60)

            assert len(paysandbox_receiver.wait_for(2)) == 2
            [record] = paysandbox.notifications()
            assert record["status"] == "delivered"
        """
    )

    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_no_sandbox_at_the_url_is_a_clear_error(pytester):
    pytester.makepyfile("def test_x(paysandbox):\n    pass\n")

    result = pytester.runpytest("-p", "no:cacheprovider", "--sandbox-url", "http://127.0.0.1:9")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*no sandbox answers at http://127.0.0.1:9*is it running?*"])


# -- a sandbox with an access token ----------------------------------------------------------------------------

TOKEN = "plugin-token-0123"
WITH_TOKEN = pytest.mark.parametrize("config", [Config(seed=1234, token=TOKEN)], ids=["token"])


@WITH_TOKEN
def test_a_sandbox_with_a_token_is_driven_with_sandbox_token(pytester, live, http):
    pytester.makepyfile(LIFE_CYCLE)

    result = pytester.runpytest("-p", "no:cacheprovider", "--sandbox-url", live.url, "--sandbox-token", TOKEN)

    result.assert_outcomes(passed=1)
    assert http.get(f"{live.url}/_sandbox/orders").status_code == 401  # the token really was needed


@WITH_TOKEN
def test_the_token_comes_from_the_environment_too(pytester, live, monkeypatch):
    monkeypatch.setenv("SANDBOX_URL", live.url)
    monkeypatch.setenv("SANDBOX_TOKEN", TOKEN)
    pytester.makepyfile(LIFE_CYCLE)

    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


@WITH_TOKEN
@pytest.mark.parametrize(("token", "says"), [([], "needs an access token"), (["x"], "refused the access token")])
def test_a_missing_or_wrong_token_stops_the_run_with_one_clear_line(pytester, live, token, says):
    pytester.makepyfile("def test_x(paysandbox):\n    pass\n")

    options = ["--sandbox-token", *token] if token else []
    result = pytester.runpytest("-p", "no:cacheprovider", "--sandbox-url", live.url, *options)

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*the sandbox at {live.url} {says}: pass --sandbox-token or SANDBOX_TOKEN*"])
    assert "Traceback" not in result.stdout.str()


def test_the_in_thread_sandbox_needs_no_token_whatever_the_environment_says(pytester, monkeypatch):
    monkeypatch.setenv("SANDBOX_TOKEN", "meant-for-another-sandbox")
    pytester.makepyfile(LIFE_CYCLE)

    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
