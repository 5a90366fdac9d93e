"""`paysandbox doctor`: a request or a string from a file or stdin, the verdict, the visible newlines, the hints."""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import urlencode

from sandbox.core.canonical import sorted_query
from tests.cli.conftest import paysandbox


def test_a_valid_request_from_a_file_exits_0(sbx, tmp_path):
    params = sbx.alipay.signed_params("alipay.trade.query", {"out_trade_no": "CLI-1"})
    request = tmp_path / "request.txt"
    request.write_text(
        f"POST /gateway.do HTTP/1.1\nContent-Type: application/x-www-form-urlencoded\n\n{urlencode(params)}\n"
    )

    result = paysandbox("doctor", "alipay", "--request-file", str(request), "--url", sbx.url)

    assert result.returncode == 0, result.stderr
    assert "verdict   valid" in result.stdout
    assert sorted_query(params) in result.stdout


def test_a_v3_string_from_stdin_shows_each_newline_and_the_hints_and_exits_1(sbx):
    string = "GET\n/v3/pay/transactions/out-trade-no/X?mchid=1900000109\n1700000000\nNONCE\n"
    command = [sys.executable, "-m", "sandbox", "doctor", "wechatpay_v3", "--string-file", "-"]
    command += ["--merchant-id", "1900000109", "--signature", "AAAA", "--url", sbx.url]

    result = subprocess.run(command, input=string, capture_output=True, text=True, timeout=60)

    assert result.returncode == 1, result.stderr
    assert "verdict   invalid" in result.stdout
    assert "the signature is 3 bytes" in result.stdout
    assert "    GET\\n\n    /v3/pay/transactions/out-trade-no/X?mchid=1900000109\\n\n" in result.stdout
    assert "missing trailing newline" in result.stdout


def test_a_string_file_for_a_pair_protocol_loses_the_editors_final_newline(sbx, tmp_path):
    string = tmp_path / "string.txt"
    string.write_text("b=2&a=1&sign_type=RSA2\n")

    result = paysandbox("doctor", "alipay", "--string-file", str(string), "--url", sbx.url, "--json")

    answer = json.loads(result.stdout)
    assert answer["received_string_to_sign"] == "b=2&a=1&sign_type=RSA2"
    assert answer["verdict"] == "unsigned" and result.returncode == 1


def test_bad_arguments_exit_2(sbx, tmp_path):
    assert paysandbox("doctor", "paypal", "--request-file", "-", "--url", sbx.url).returncode == 2
    assert paysandbox("doctor", "alipay", "--url", sbx.url).returncode == 2
    missing = paysandbox("doctor", "alipay", "--request-file", str(tmp_path / "none"), "--url", sbx.url)
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    both = paysandbox("doctor", "alipay", "--request-file", "-", "--signature", "x", "--url", sbx.url)
    assert both.returncode == 2 and "--signature goes with --string-file" in both.stderr
