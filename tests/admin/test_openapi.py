"""GET /_sandbox/openapi.json: valid OpenAPI 3.1, in step with the routes, true examples, and no 500 under fuzzing.

The fuzz runs schemathesis on the Flask app (WSGI, no network). Notifications it causes go to a loopback
port that refuses connections, so every delivery fails at once.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from wechatpy.pay.utils import calculate_signature, dict_to_xml

from sandbox import __version__
from sandbox.admin.openapi import document
from sandbox.admin.openapi_examples import SANDBOX_URL
from sandbox.config import Config

DOC = document()
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
APP = "2021000000000001"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
WECHAT = json.loads((FIXTURES / "wechatpay/demo/merchant.json").read_text())
MCHID = WECHAT["merchant_id"]
# Examples per operation and mode: ~24 operations x 2 modes stay well under a minute on 2 cores.
MAX_EXAMPLES = 60
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
TOKEN = "fuzz-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}  # ignored by a sandbox without a token


def documented() -> set[tuple[str, str]]:
    return {(path, method) for path, item in DOC["paths"].items() for method in item if method in HTTP_METHODS}


def routes(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        # The console's pages are HTML for a browser, not operations of the JSON API.
        if rule.rule.startswith("/_sandbox") and not rule.endpoint.startswith("console."):
            path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
            found |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def served_at(url: str) -> dict:
    """DOC as a sandbox reached at `url` serves it."""
    return json.loads(json.dumps(DOC).replace(SANDBOX_URL, url))


def test_the_document_is_served_and_is_valid_openapi_3_1(client):
    answer = client.get("/_sandbox/openapi.json")
    assert answer.status_code == 200
    assert answer.content_type == "application/json"
    assert answer.get_json() == served_at("http://localhost")
    validate(answer.get_json())
    assert DOC["openapi"] == "3.1.0"
    assert DOC["info"]["version"] == __version__


def test_the_document_names_the_server_the_client_reached(live, http):
    document = http.get(f"{live.url}/_sandbox/openapi.json").json()
    assert document["servers"] == [{"url": live.url}]
    pay_url = document["paths"]["/_sandbox/orders"]["post"]["responses"]["201"]["content"]["application/json"]
    assert json.dumps(pay_url).count(f'"{live.url}/cashier/') >= 1
    assert document == served_at(live.url)


def test_the_document_names_the_host_the_client_asked_for(live, http):
    answer = http.get(f"{live.url}/_sandbox/openapi.json", headers={"Host": "sandbox.qa.internal:9000"})
    assert answer.json()["servers"] == [{"url": "http://sandbox.qa.internal:9000"}]


@pytest.mark.parametrize("config", [Config(seed=1234, public_url="https://pay-sandbox.example.org/")], ids=["public"])
def test_the_document_names_the_public_url_when_the_sandbox_has_one(live, http):
    document = http.get(f"{live.url}/_sandbox/openapi.json").json()
    assert document == served_at("https://pay-sandbox.example.org")


def test_every_route_is_documented_and_every_documented_operation_is_a_route(app):
    assert routes(app) - documented() == set(), "routes missing from sandbox/admin/openapi.py"
    assert documented() - routes(app) == set(), "documented operations that are not routes"


def test_every_operation_has_a_summary_a_tag_and_a_unique_id():
    operations = [DOC["paths"][p][m] for p, m in documented()]
    assert all(op["summary"] and op["tags"] for op in operations)
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))


# -- examples ---------------------------------------------------------------------------------------------


def escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def examples(node, pointer: str = "") -> Iterator[tuple[str, str, object]]:
    """(where, pointer to the schema, value) for every example: schema `examples`, media and parameter ones."""
    if isinstance(node, dict):
        if isinstance(node.get("examples"), list):  # a schema's own examples
            for i, value in enumerate(node["examples"]):
                yield f"{pointer}/examples/{i}", pointer, value
        if "schema" in node and isinstance(node.get("examples"), dict):  # a media type or a parameter
            for name, item in node["examples"].items():
                yield f"{pointer}/examples/{name}", f"{pointer}/schema", item["value"]
        if "schema" in node and "example" in node:
            yield f"{pointer}/example", f"{pointer}/schema", node["example"]
        for key, value in node.items():
            yield from examples(value, f"{pointer}/{escape(key)}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from examples(value, f"{pointer}/{i}")


EXAMPLES = list(examples(DOC))
REGISTRY = Registry().with_resource("urn:openapi", Resource.from_contents(DOC, default_specification=DRAFT202012))


def success_examples(operation: dict) -> list:
    """The examples of an operation's 2xx answers, whatever their media type."""
    found = []
    for status, answer in operation["responses"].items():
        if status.startswith("2"):
            for media in answer.get("content", {}).values():
                found += [media["example"]] if "example" in media else []
                found += list(media.get("examples", {}).values())
    return found


def test_every_operation_has_an_example_of_success():
    missing = [f"{m.upper()} {p}" for p, m in sorted(documented()) if not success_examples(DOC["paths"][p][m])]
    assert missing == [], "operations without an example of a 2xx answer"


def test_the_document_has_examples_for_postman():
    where = [w for w, _, _ in EXAMPLES]
    assert any("/requestBody/" in w for w in where)
    assert any("/responses/" in w for w in where)
    assert len(EXAMPLES) > 40


@pytest.mark.parametrize(("where", "schema", "value"), EXAMPLES, ids=[w for w, _, _ in EXAMPLES])
def test_each_example_is_valid_against_its_own_schema(where, schema, value):
    validator = Draft202012Validator(
        {"$ref": f"urn:openapi#{schema}"}, registry=REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(value)]
    assert errors == [], where


def request_examples(path: str, method: str = "post") -> list:
    media = DOC["paths"][path][method]["requestBody"]["content"]["application/json"]
    return [item["value"] for item in media["examples"].values()]


@pytest.mark.parametrize(
    "path",
    ["/_sandbox/scenarios", "/_sandbox/clock", "/_sandbox/clock/advance", "/_sandbox/reset", "/_sandbox/orders"],
)
def test_the_request_examples_work_as_they_are(client, path):
    for body in request_examples(path):
        answer = client.post(path, json=body)
        assert answer.status_code in (200, 201), (body, answer.get_json())


def test_the_error_envelope_schema_matches_a_real_error(client):
    answer = client.post("/_sandbox/scenarios", json={"notify": {"dorp": 1}})
    assert answer.status_code == 400
    Draft202012Validator({"$ref": "urn:openapi#/components/schemas/Error"}, registry=REGISTRY).validate(
        answer.get_json()
    )


# -- fuzzing ------------------------------------------------------------------------------------------------


@pytest.fixture
def refused_url():
    """A loopback URL nothing answers: bound but never listening, so a connection is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/notify"


def wechat_v2(client, path: str, fields: dict) -> None:
    fields = {"appid": WECHAT["appid"], "mch_id": MCHID, "nonce_str": "N" * 32, **fields}
    xml = dict_to_xml(fields, calculate_signature(fields, WECHAT["api_key"]))
    reply = client.post(path, data=xml.encode(), content_type="text/xml")
    assert "<result_code><![CDATA[SUCCESS]]>" in reply.get_data(as_text=True), reply.get_data(as_text=True)


@pytest.fixture
def world(client, sandbox, alipay_call, refused_url) -> list[dict]:
    """Things for the fuzzer to find, as path parameters that name them: a pending Alipay order; a paid WeChat
    order with a pending refund and a notification; a scenario rule that never matches."""
    buyer = {"total_amount": "1.00", "subject": "fuzz", "buyer_id": "2088000000000009"}
    alipay_call("alipay.trade.create", {"out_trade_no": "FUZZ-A", **buyer}, notify_url=refused_url)
    order = {"body": "fuzz", "total_fee": "100", "spbill_create_ip": "127.0.0.1", "trade_type": "NATIVE"}
    native = {**order, "out_trade_no": "FUZZ-W", "product_id": "1", "notify_url": refused_url}
    wechat_v2(client, "/pay/unifiedorder", native)
    assert client.post(f"/_sandbox/orders/wechatpay/{MCHID}/FUZZ-W/pay", json={}, headers=BEARER).status_code == 200
    refund = {"out_trade_no": "FUZZ-W", "out_refund_no": "FUZZ-W-R1", "total_fee": "100", "refund_fee": "30"}
    wechat_v2(client, "/secapi/pay/refund", refund)
    rule = sandbox.scenarios.add({"match": {"gateway": "unionpay", "out_trade_no": "NEVER-*"}, "notify": {"drop": 1}})
    return [
        {"gateway": "alipay", "merchant_id": APP, "out_trade_no": "FUZZ-A"},
        {"gateway": "wechatpay", "merchant_id": MCHID, "out_trade_no": "FUZZ-W", "out_refund_no": "FUZZ-W-R1"},
        {"notification_id": sandbox.outbox.list()[0].id, "rule_id": rule.id},
    ]


def registrations() -> list[dict]:
    """Bodies that register a merchant (the fuzzer cannot invent a PEM that parses)."""
    return [
        {
            "gateway": "alipay",
            "merchant_id": "2021000000000999",
            "app_public_key": read("alipay/demo/app_public_key.pem"),
        },
        {
            "gateway": "wechatpay",
            "merchant_id": "1900000999",
            "appid": WECHAT["appid"],
            "merchant_certificate": read("wechatpay/demo/merchant_cert.pem"),
            "apiv3_key": WECHAT["apiv3_key"],
        },
        {
            "gateway": "unionpay",
            "merchant_id": "777290058110999",
            "merchant_certificate": read("unionpay/demo/merchant_cert.pem"),
        },
    ]


def read(name: str) -> str:
    return (FIXTURES / name).read_text()


def negatable(path: str, method: str) -> bool:
    """Whether schemathesis can make invalid input: a body, a query, or a gateway; plain strings cannot be."""
    op = DOC["paths"][path][method]
    return "requestBody" in op or any(p["$ref"].endswith(("gateway", "status")) for p in op.get("parameters", []))


def strategies(schema, world: list[dict], path: str, method: str) -> list:
    """Generated input in every mode the operation allows, and the same aimed at things that exist."""
    operation = schema[path][method.upper()]
    modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if negatable(path, method) else [])
    found = [operation.as_strategy(mode) for mode in modes]
    for known in world:
        wanted = {k: v for k, v in known.items() if "{" + k + "}" in path}
        if wanted and set(re.findall(r"{(\w+)}", path)) <= set(wanted):
            found += [operation.as_strategy(mode, path_parameters=wanted) for mode in modes]
    if (path, method) == ("/_sandbox/merchants", "post"):
        found += [operation.as_strategy(body=body) for body in registrations()]
    return found


def check(case, response) -> None:
    assert response.status_code < 500, response.text
    assert not [h for h in response.headers if h.lower().startswith("access-control-allow")], "no CORS, ever"
    if response.headers.get("content-type") == ["application/x-pem-file"]:  # GET /_sandbox/ca.pem, not JSON
        assert response.text.startswith("-----BEGIN CERTIFICATE-----\n"), response.text
    elif response.headers.get("content-type", [""])[0].startswith("text/markdown"):  # a report, as Markdown
        assert response.text.startswith("# Integration report: "), response.text
    else:
        body = response.json()  # raises unless the answer is JSON
        if 400 <= response.status_code < 500:
            assert set(body) == {"error"}, body
            assert isinstance(body["error"]["code"], str) and body["error"]["message"], body
    case.validate_response(response, checks=CHECKS)


FUZZ = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize(("path", "method"), sorted(documented()), ids=lambda v: v)
def test_fuzzing_an_operation_never_answers_a_server_error(app, sandbox, world, path, method):
    schema = schemathesis.openapi.from_wsgi("/_sandbox/openapi.json", app)
    keep = world[-1]["rule_id"]

    @settings(FUZZ, max_examples=MAX_EXAMPLES)
    @given(case=st.one_of(strategies(schema, world, path, method)))
    def fuzz(case):
        try:
            check(case, case.call())
        finally:
            # A rule never outlives its example: an api.delay would make a later gateway call sleep for real.
            for rule in sandbox.scenarios.list():
                if rule.id != keep:
                    sandbox.scenarios.delete(rule.id)

    fuzz()


def fuzz_in_turn(app, sandbox, world: list[dict], examples: int, headers: dict | None = None) -> None:
    """Calls interleaved on one sandbox, so generated rules shape the payments, notifications, retries and clock
    moves that follow. Reset is left out: it would empty the world for every call after it."""
    schema = schemathesis.openapi.from_wsgi("/_sandbox/openapi.json", app)
    every = [s for p, m in sorted(documented()) if p != "/_sandbox/reset" for s in strategies(schema, world, p, m)]

    @settings(FUZZ, max_examples=examples)
    @given(case=st.one_of(every))
    def fuzz(case):
        try:
            check(case, case.call(headers=headers))
        finally:
            # The control API never applies api effects, but a gateway call would: none may sleep for real.
            for rule in sandbox.scenarios.list():
                if (rule.api or {}).get("delay"):
                    sandbox.scenarios.delete(rule.id)

    fuzz()


def test_fuzzing_every_operation_in_turn_never_answers_a_server_error(app, sandbox, world):
    fuzz_in_turn(app, sandbox, world, MAX_EXAMPLES * 10)


@pytest.mark.parametrize("config", [Config(seed=1234, token=TOKEN)], ids=["token"])
def test_fuzzing_a_sandbox_with_a_token_never_answers_a_server_error_with_or_without_it(app, sandbox, world):
    fuzz_in_turn(app, sandbox, world, MAX_EXAMPLES * 3, headers=BEARER)
    fuzz_in_turn(app, sandbox, world, MAX_EXAMPLES)  # every answer a documented 401, or an open operation's


# -- bodies a fuzzer does not write -------------------------------------------------------------------------

HOSTILE = {
    # Regression: json's parser raised RecursionError (not a ValueError), which was a 500 on every POST.
    "nested past the parser": ("[" * 100_000 + "]" * 100_000, "application/json"),
    "not UTF-8": (b"\xff\xfe{}", "application/json"),
    "not an object": ("[1, 2]", "application/json"),
    "not JSON": ('{"mode": ', "application/json"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_body_is_a_400_with_the_envelope_on_every_post(client, world, name):
    data, content_type = HOSTILE[name]
    names = {k: v for known in world[1:] for k, v in known.items()}
    for path, method in sorted(documented()):
        if method != "post":
            continue
        answer = client.post(path.format(**names), data=data, content_type=content_type)
        if "requestBody" in DOC["paths"][path][method]:
            assert answer.status_code == 400, (path, answer.get_data(as_text=True)[:200])
            assert answer.get_json()["error"]["code"] == "INVALID_PARAMETER"
        else:  # flush and replay take no body and ignore one
            assert answer.status_code == 200, path


def test_a_body_over_max_body_is_a_413_with_the_envelope_on_every_post(client, world):
    names = {k: v for known in world[1:] for k, v in known.items()}
    for path, method in sorted(documented()):
        if method == "post":
            answer = client.post(
                path.format(**names), data="{" + " " * 1024 * 1024 + "}", content_type="application/json"
            )
            assert answer.status_code == 413, (path, answer.get_data(as_text=True)[:200])
            assert answer.get_json()["error"]["code"] == "REQUEST_ENTITY_TOO_LARGE"
            assert "SANDBOX_MAX_BODY" in answer.get_json()["error"]["message"]


def test_nan_in_a_rule_is_refused_rather_than_answered_as_invalid_json(client):
    answer = client.post(
        "/_sandbox/scenarios", data='{"notify": {"tamper": {"x": NaN}}}', content_type="application/json"
    )
    if answer.status_code == 201:
        json.loads(answer.get_data(as_text=True), parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))
    assert answer.status_code == 400
