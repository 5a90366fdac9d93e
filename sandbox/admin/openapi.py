"""The OpenAPI 3.1 description of the control API (`/_sandbox`), served at GET /_sandbox/openapi.json.

Each operation documents what views.py really answers: its statuses, bodies and the `{"error": ...}`
envelope of its 4xx. tests/admin/test_openapi.py keeps it in step with the routes.
"""

from __future__ import annotations

import json
from functools import cache

from sandbox import __version__
from sandbox.admin import access, openapi_actions, openapi_create, openapi_doctor, openapi_history, openapi_report
from sandbox.admin import openapi_examples as ex
from sandbox.admin.openapi_schemas import components, ref, text
from sandbox.core.clock import MODES
from sandbox.core.models import ORDER_STATUSES
from sandbox.core.namespaces import NAME_PATTERN

JSON = "application/json"
ORDER_PATH = "/_sandbox/orders/{gateway}/{merchant_id}/{out_trade_no}"
ORDER_PARAMS = ("gateway", "merchant_id", "out_trade_no")
ERRORS = {400: "BadRequest", 404: "NotFound", 409: "Conflict"}  # status -> components/responses
STATE_CHANGES = ("post", "put", "patch", "delete")
# The operations that act in no namespace (the others take X-Sandbox-Namespace).
OUTSIDE_NAMESPACES = (
    "health",
    "openapi",
    "caCertificate",
    "magicValues",
    "createNamespace",
    "listNamespaces",
    "deleteNamespace",
)
NAMESPACE_NAME = {"type": "string", "pattern": NAME_PATTERN, "examples": ["team-payments", "default"]}


def content(schema: dict, examples: dict | None = None) -> dict:
    media: dict = {"schema": schema}
    if examples:
        media["examples"] = examples
    return {JSON: media}


def answer(description: str, schema: dict, examples: dict | None = None) -> dict:
    return {"description": description, "content": content(schema, examples)}


def listing(key: str, item: dict) -> dict:
    """The {"key": [item, ...]} shape most list answers have."""
    return {"type": "object", "properties": {key: {"type": "array", "items": item}}, "required": [key]}


def one(key: str, item: dict) -> dict:
    return {"type": "object", "properties": {key: item}, "required": [key]}


def operation(
    tag: str,
    operation_id: str,
    summary: str,
    description: str,
    responses: dict,
    *,
    errors: tuple[int, ...] = (),
    params: tuple[str, ...] = (),
    body: dict | None = None,
) -> dict:
    """One operation; `errors` are the 4xx statuses the view can answer, `params` names in components."""
    op: dict = {"tags": [tag], "operationId": operation_id, "summary": summary, "description": description}
    if params:
        op["parameters"] = [{"$ref": f"#/components/parameters/{p}"} for p in params]
    if body is not None:
        op["requestBody"] = body
    op["responses"] = {**responses, **{str(s): {"$ref": f"#/components/responses/{ERRORS[s]}"} for s in errors}}
    return op


def json_body(schema: dict, examples: dict | None = None, required: bool = False) -> dict:
    return {"required": required, "content": content(schema, examples)}


def _path_param(name: str, description: str, schema: dict | None = None, example: str = "") -> dict:
    param = {"name": name, "in": "path", "required": True, "description": description}
    param["schema"] = schema or {"type": "string"}
    if example:
        param["example"] = example
    return param


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema or text()}


def parameters() -> dict:
    gateway_text = "alipay, wechatpay or unionpay (anything else is a 400)"
    namespace_header = {
        "name": "X-Sandbox-Namespace",
        "in": "header",
        "required": False,
        "description": "the namespace the call acts in (absent: the default namespace); a name no namespace has is"
        " a 404, a malformed one a 400",
        "schema": NAMESPACE_NAME,
    }
    return {
        "namespace_header": namespace_header,
        "namespace_name": _path_param("name", "a namespace's name", NAMESPACE_NAME, "team-payments"),
        "gateway": _path_param("gateway", gateway_text, ref("Gateway"), "alipay"),
        "merchant_id": _path_param("merchant_id", "app_id, mchid or merId", example=ex.APP_ID),
        "out_trade_no": _path_param("out_trade_no", "the merchant's order number (may contain /)", example="QA-1001"),
        "out_refund_no": _path_param("out_refund_no", "the merchant's refund number", example="QA-1001-R1"),
        "notification_id": _path_param("notification_id", "a notification id (ntf_...)", example=ex.SUMMARY["id"]),
        "rule_id": _path_param("rule_id", "a scenario rule id (scn_...)", example=ex.STORED_RULE["id"]),
        "order_gateway": _query("gateway", gateway_text, ref("Gateway")),
        "order_status": _query("status", "anything else is a 400", {"enum": list(ORDER_STATUSES)}),
        "merchant_filter": _query("merchant_id", "only this merchant's"),
        "notification_gateway": _query("gateway", "alipay, wechatpay or unionpay (not checked: others match nothing)"),
        "notification_trade": _query("out_trade_no", "only this order's"),
        "notification_status": _query("status", "pending, delivered or failed (not checked: others match nothing)"),
    }


def responses() -> dict:
    def error(description: str, code: str, message: str) -> dict:
        return answer(description, ref("Error"), {code: ex.example(message, ex.error(code, message))})

    unauthorized = error(
        "The sandbox has an access token and the request did not carry it",
        "UNAUTHORIZED",
        "this sandbox's control API needs its access token: send it as the header `Authorization: Bearer <token>` ...",
    )
    unauthorized["headers"] = {
        "WWW-Authenticate": {"schema": {"const": access.CHALLENGE}, "description": "how to authenticate"}
    }
    return {
        "BadRequest": error("Bad input: the message names the key", "INVALID_PARAMETER", "outcome must be ..."),
        "NotFound": answer(
            "No such thing (or no such path), or no namespace of the name X-Sandbox-Namespace gives",
            ref("Error"),
            {
                "ORDER_NOT_FOUND": ex.example("No such order", ex.error("ORDER_NOT_FOUND", "no order with ...")),
                "NAMESPACE_NOT_FOUND": ex.example(
                    "No such namespace",
                    ex.error("NAMESPACE_NOT_FOUND", "no namespace 'team-a' in this sandbox: create it with ..."),
                ),
            },
        ),
        "Conflict": error("The state refuses it", "ORDER_ALREADY_PAID", "order QA-1001 is already paid"),
        "TooLarge": error(
            "The body is over SANDBOX_MAX_BODY (refused while it is read, chunked bodies too)",
            "REQUEST_ENTITY_TOO_LARGE",
            "the body is 2097152 bytes; the sandbox takes at most 1048576 (SANDBOX_MAX_BODY)",
        ),
        "Unauthorized": unauthorized,
        "UnsupportedMediaType": error(
            "A state change with a body that is not JSON (what an HTML form sends)",
            "UNSUPPORTED_MEDIA_TYPE",
            "the control API takes JSON: send Content-Type: application/json (or no body at all), not ...",
        ),
        "CrossSite": error(
            "A browser says another site's page sent it (Origin, Sec-Fetch-Site)",
            "CROSS_SITE_REQUEST",
            "the control API takes no state changes from another site's web page (Origin: ...); call it from a ...",
        ),
    }


def security_schemes() -> dict:
    return {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "The token the sandbox was started with (`paysandbox serve --token T`, SANDBOX_TOKEN or"
            " SANDBOX_TOKEN_FILE). A sandbox started without one needs none.",
        }
    }


def guarded(paths: dict) -> dict:
    """Every operation but the open ones needs the token (401 without it); every state change also answers 415
    to a body that is not JSON and 403 to another site's page."""
    for path, item in paths.items():
        for method, op in item.items():
            extra = {}
            if path not in access.OPEN:
                op["security"] = [{"bearerAuth": []}]
                extra["401"] = {"$ref": "#/components/responses/Unauthorized"}
            if method in STATE_CHANGES:
                extra["403"] = {"$ref": "#/components/responses/CrossSite"}
                extra["415"] = {"$ref": "#/components/responses/UnsupportedMediaType"}
            op["responses"] = dict(sorted({**op["responses"], **extra}.items()))
    return paths


def namespaced(paths: dict) -> dict:
    """Every operation that acts in a namespace takes X-Sandbox-Namespace: 404 for a name no namespace has, 400 for
    a malformed one."""
    for item in paths.values():
        for op in item.values():
            if op["operationId"] in OUTSIDE_NAMESPACES:
                continue
            op["parameters"] = [{"$ref": "#/components/parameters/namespace_header"}, *op.get("parameters", [])]
            for status in (400, 404):
                op["responses"].setdefault(str(status), {"$ref": f"#/components/responses/{ERRORS[status]}"})
    return paths


def _namespaces() -> dict:
    create_body = {
        "type": "object",
        "properties": {"name": {**NAMESPACE_NAME, "description": "the name (absent: a generated ns-...)"}},
    }
    created = {"type": "object", "properties": {"namespace": NAMESPACE_NAME}, "required": ["namespace"]}
    return {
        "/_sandbox/namespaces": {
            "post": operation(
                "namespaces",
                "createNamespace",
                "Create a namespace",
                "A new, empty namespace: its own merchants, orders, notifications, scenario rules and clock. Other"
                " calls act in it with the header `X-Sandbox-Namespace: <name>`; gateway calls reach it by the"
                " merchants registered there. 409 if the name is taken.",
                {"201": answer("Created", created, {"named": ex.example("Named", {"namespace": "team-payments"})})},
                errors=(400, 409),
                body=json_body(
                    create_body,
                    {
                        "named": ex.example("Named", {"name": "team-payments"}),
                        "generated": ex.example("A generated name", {}),
                    },
                ),
            ),
            "get": operation(
                "namespaces",
                "listNamespaces",
                "List namespaces",
                "Their names: `default` first, then the others by name.",
                {
                    "200": answer(
                        "The names",
                        listing("namespaces", NAMESPACE_NAME),
                        {"two": ex.example("Default and one more", {"namespaces": ["default", "team-payments"]})},
                    )
                },
            ),
        },
        "/_sandbox/namespaces/{name}": {
            "delete": operation(
                "namespaces",
                "deleteNamespace",
                "Delete a namespace and everything in it",
                "Drops its merchants (their ids are free again), orders, refunds, notifications, scenario rules and"
                " clock. The default namespace cannot be deleted (400: empty it with POST /_sandbox/reset).",
                {"200": answer("Deleted", listing("deleted", NAMESPACE_NAME), ex.NAMESPACE_DELETED)},
                errors=(400, 404),
                params=("namespace_name",),
            )
        },
    }


def _health_and_reset() -> dict:
    reset_answer = {
        "type": "object",
        "properties": {
            "status": {"const": "ok"},
            "merchants_reset": {"type": "boolean"},
            "clock": {**ref("Clock"), "description": "the clock, back on real time (or in the mode the body asked)"},
        },
        "required": ["status", "merchants_reset", "clock"],
    }
    health = {
        "type": "object",
        "properties": {"status": {"const": "ok"}, "version": text("the sandbox's version")},
        "required": ["status", "version"],
    }
    reset_body = {
        "type": "object",
        "properties": {
            "merchants": {"type": "boolean", "description": "drop them too (any truthy value)"},
            "clock": {
                "enum": list(MODES),
                "description": "the clock's mode afterwards, at the wall time (default real; factor 1)",
            },
        },
    }
    return {
        "/_sandbox/health": {
            "get": operation(
                "health",
                "health",
                "Is the sandbox up?",
                "Answers once the server can take requests.",
                {"200": answer("Up", health, ex.HEALTHY)},
            )
        },
        "/_sandbox/reset": {
            "post": operation(
                "health",
                "reset",
                "Drop orders, refunds, notifications and scenarios",
                "In the namespace the call names (X-Sandbox-Namespace; absent: the default one). Puts its clock"
                " back on real time as POST /_sandbox/clock/reset does, or"
                ' with `{"clock": "manual"}` in that mode at the wall time (where a test starts from, in one call).'
                ' Keeps registered merchants unless the body says `{"merchants": true}` (the demo merchants from'
                " fixtures come back in the default namespace). The body is optional.",
                {"200": answer("Done", reset_answer, ex.RESET)},
                errors=(400,),
                body=json_body(reset_body, {"all": ex.example("Merchants too", {"merchants": True})}),
            )
        },
        "/_sandbox/ca.pem": {
            "get": operation(
                "health",
                "caCertificate",
                "The sandbox's TEST-ONLY CA certificate",
                "The root that issues the certificate of the TLS port and of the proxy's CONNECT answers. Made on"
                " first use and kept in the data store (with an in-memory store, one per process). Its"
                " NameConstraints permit only the provider hosts, localhost and loopback addresses."
                " `paysandbox ca --path` keeps it in a file.",
                {
                    "200": {
                        "description": "The certificate, PEM",
                        "content": {"application/x-pem-file": {"schema": {"type": "string"}, "examples": ex.CA_PEM}},
                    }
                },
            )
        },
        "/_sandbox/openapi.json": {
            "get": operation(
                "health",
                "openapi",
                "This document",
                "The OpenAPI 3.1 description of the control API. Postman: Import → Link → this URL.",
                {"200": answer("The document", {"type": "object", "required": ["openapi", "paths"]}, ex.DOCUMENT)},
            )
        },
    }


def _merchants() -> dict:
    return {
        "/_sandbox/merchants": {
            "post": operation(
                "merchants",
                "registerMerchant",
                "Register or replace a merchant",
                "Takes the merchant's own public material; answers the sandbox's public material for it. A merchant"
                " id belongs to one namespace: one that another namespace holds is a 409.",
                {"201": answer("Registered", ref("Merchant"), ex.MERCHANTS)},
                errors=(400, 409),
                body=json_body(ref("MerchantRegistration"), ex.REGISTRATIONS, required=True),
            ),
            "get": operation(
                "merchants",
                "listMerchants",
                "List merchants",
                "Every registered merchant, by gateway then merchant_id.",
                {"200": answer("The merchants", listing("merchants", ref("Merchant")), ex.MERCHANT_LIST)},
            ),
        },
        "/_sandbox/merchants/{gateway}/{merchant_id}": {
            "get": operation(
                "merchants",
                "getMerchant",
                "One merchant",
                "The same fields as the registration's answer.",
                {"200": answer("The merchant", ref("Merchant"), {"alipay": ex.MERCHANTS["alipay"]})},
                errors=(400, 404),
                params=("gateway", "merchant_id"),
            )
        },
        **openapi_report.path(operation, answer, _query),
    }


def _orders() -> dict:
    pay_body = {
        "type": "object",
        "properties": {
            "outcome": {"enum": ["success", "fail"], "default": "success"},
            "reason": text("the failure code, with fail"),
        },
    }
    settle_body = {"type": "object", "properties": {"outcome": {"enum": ["success", "abnormal", "closed"]}}}
    one_order = ref("OrderWithNotifications")
    return {
        "/_sandbox/orders": {
            "get": operation(
                "orders",
                "listOrders",
                "List orders",
                "Newest first; empty filters are ignored.",
                {"200": answer("The orders", listing("orders", ref("Order")), ex.ORDER_LIST)},
                errors=(400,),
                params=("order_gateway", "merchant_filter", "order_status"),
            )
        },
        ORDER_PATH: {
            "get": operation(
                "orders",
                "getOrder",
                "One order",
                "With its refunds, a summary of its notifications, `native` (the gateway's own state names), and"
                " `pay_url` and `qr_code` as POST /_sandbox/orders answers them (null when it has none).",
                {"200": answer("The order", ref("OrderWithLinks"), ex.ONE_ORDER)},
                errors=(400, 404),
                params=ORDER_PARAMS,
            )
        },
        ORDER_PATH + "/pay": {
            "post": operation(
                "orders",
                "payOrder",
                "Act as the buyer",
                "Pays (or fails) a pending order without a browser; notifications follow as after the hosted page."
                " A matching scenario rule or magic amount decides first. 409 once it is no longer pending.",
                {"200": answer("The order as it now stands", one_order, ex.PAID_OR_FAILED)},
                errors=(400, 404, 409),
                params=ORDER_PARAMS,
                body=json_body(
                    pay_body,
                    {
                        "success": ex.example("The buyer pays", {"outcome": "success"}),
                        "fail": ex.example("Declined", {"outcome": "fail", "reason": "ACQ.BUYER_BALANCE_NOT_ENOUGH"}),
                    },
                ),
            )
        },
        ORDER_PATH + "/refunds/{out_refund_no}/settle": {
            "post": operation(
                "orders",
                "settleRefund",
                "End a pending refund now",
                "WeChat Pay refunds stay pending for a while: end one as success (default), abnormal or closed;"
                " the matching notification follows. 409 when the refund is not pending.",
                {"200": answer("The order", one_order, ex.SETTLED_ORDER)},
                errors=(400, 404, 409),
                params=(*ORDER_PARAMS, "out_refund_no"),
                body=json_body(
                    settle_body, {"success": ex.example("The money reached the buyer", {"outcome": "success"})}
                ),
            )
        },
    }


def _creation() -> dict:
    return openapi_create.paths(operation, answer, json_body, listing)


def _notifications() -> dict:
    summaries = listing("attempted", ref("NotificationSummary"))
    return {
        "/_sandbox/notifications": {
            "get": operation(
                "notifications",
                "listNotifications",
                "List notifications",
                "Oldest first. Filters are exact and not checked.",
                {
                    "200": answer(
                        "The notifications", listing("notifications", ref("Notification")), ex.NOTIFICATION_LIST
                    )
                },
                params=("notification_gateway", "merchant_filter", "notification_trade", "notification_status"),
            )
        },
        "/_sandbox/notifications/{notification_id}": {
            "get": operation(
                "notifications",
                "getNotification",
                "One notification",
                "With every attempt, the exact body and headers sent, and `fields`: the payload as the merchant reads"
                " it once verified (and decrypted).",
                {"200": answer("The notification", ref("NotificationDetail"), ex.ONE_NOTIFICATION)},
                errors=(404,),
                params=("notification_id",),
            )
        },
        "/_sandbox/notifications/{notification_id}/replay": {
            "post": operation(
                "notifications",
                "replayNotification",
                "Send it again now",
                "A new attempt on the same record (trigger `replay`); takes no body.",
                {"200": answer("The notification", ref("Notification"), ex.REPLAYED)},
                errors=(404,),
                params=("notification_id",),
            )
        },
        "/_sandbox/notifications/flush": {
            "post": operation(
                "notifications",
                "flushNotifications",
                "Deliver everything due now",
                "Also runs due expiries and settlements; takes no body.",
                {"200": answer("What was attempted", summaries, ex.FLUSHED)},
            )
        },
    }


def _scenarios() -> dict:
    stored = ref("StoredScenarioRule")
    bulk = {
        "type": "object",
        "properties": {"scenarios": {"type": "array", "items": ref("ScenarioRule")}},
        "required": ["scenarios"],
    }
    added = {
        "one": ex.example("One rule", {"scenario": ex.STORED_RULE}),
        "bulk": ex.example("Several", {"scenarios": [ex.STORED_RULE, ex.STANDING_RULE]}),
    }
    deleted = listing("deleted", text())
    rule_id = ("rule_id",)
    return {
        "/_sandbox/scenarios": {
            "post": operation(
                "scenarios",
                "addScenario",
                "Add a rule, or several",
                'One rule, or `{"scenarios": [rule, ...]}` added all or none. A rule it cannot understand is a 400'
                " naming the key (`notify.dorp`, `scenarios[2].api.status`).",
                {"201": answer("Added", {"oneOf": [one("scenario", stored), listing("scenarios", stored)]}, added)},
                errors=(400,),
                body=json_body({"oneOf": [ref("ScenarioRule"), bulk]}, ex.RULES, required=True),
            ),
            "get": operation(
                "scenarios",
                "listScenarios",
                "List rules",
                "In the order they are tried: rules with times (oldest first), then standing rules.",
                {"200": answer("The rules", listing("scenarios", stored), ex.RULE_LIST)},
            ),
            "delete": operation(
                "scenarios",
                "clearScenarios",
                "Remove every rule",
                "Answers the ids removed.",
                {"200": answer("Removed", deleted, ex.RULES_DELETED)},
            ),
        },
        "/_sandbox/scenarios/{rule_id}": {
            "get": operation(
                "scenarios",
                "getScenario",
                "One rule",
                "As stored, with what it has left (`remaining`).",
                {"200": answer("The rule", one("scenario", stored), ex.ONE_RULE)},
                errors=(404,),
                params=rule_id,
            ),
            "delete": operation(
                "scenarios",
                "deleteScenario",
                "Remove one rule",
                "Answers the id removed.",
                {"200": answer("Removed", deleted, ex.RULES_DELETED)},
                errors=(404,),
                params=rule_id,
            ),
        },
        "/_sandbox/magic": {
            "get": operation(
                "scenarios",
                "magicValues",
                "The magic amounts",
                "Amounts that shape the outcome with no rule, on every gateway.",
                {"200": answer("The amounts", listing("amounts", ref("MagicAmount")), ex.MAGIC)},
            )
        },
    }


def _clock() -> dict:
    advanced = {
        "allOf": [ref("Clock")],
        "properties": {"attempted": {"type": "array", "items": ref("NotificationSummary")}},
        "required": ["attempted"],
    }
    return {
        "/_sandbox/clock": {
            "get": operation(
                "clock",
                "getClock",
                "The sandbox clock",
                "Its time, mode and speed.",
                {"200": answer("The clock", ref("Clock"), ex.REAL_CLOCK)},
            ),
            "post": operation(
                "clock",
                "setClock",
                "Set the clock's mode",
                "real, accelerated (factor up to 100000) or manual (only advance moves it). Each runs on from the"
                " sandbox time the clock has now: real after an advance stays ahead of the wall clock (POST"
                " /_sandbox/clock/reset drops the offset).",
                {"200": answer("The clock", ref("Clock"), ex.SET_CLOCK)},
                errors=(400,),
                body=json_body(ref("ClockSetting"), ex.CLOCK_SETTINGS, required=True),
            ),
        },
        "/_sandbox/clock/reset": {
            "post": operation(
                "clock",
                "resetClock",
                "Put the clock back on real time",
                "Mode real, factor 1, and now the wall clock's time: any offset gained by advancing, accelerating or"
                " a manual clock is dropped (unlike setting mode real, which keeps it). Other processes on the same"
                " database see it as any clock change. Takes no body.",
                {"200": answer("The clock", ref("Clock"), ex.REAL_CLOCK)},
            )
        },
        "/_sandbox/clock/advance": {
            "post": operation(
                "clock",
                "advanceClock",
                "Move the clock forward",
                "Steps through every due moment in order (expiries, settlements, notification retries) and answers"
                " once they ran.",
                {"200": answer("The clock and what was attempted", advanced, ex.ADVANCED_CLOCK)},
                errors=(400,),
                body=json_body(
                    ref("AdvanceSeconds"), {"ten_minutes": ex.example("Ten minutes", {"seconds": 600})}, required=True
                ),
            )
        },
    }


TAGS = {
    "health": "Health, reset and this document",
    "namespaces": "Namespaces: isolated shares of one sandbox",
    "merchants": "Merchants and their keys",
    "orders": "Orders and the buyer's side",
    "notifications": "Notifications to the merchant's notify_url",
    "scenarios": "Scenario rules and magic values: scripted failures",
    "clock": "The sandbox clock: time travel without sleeping",
    openapi_doctor.TAG: openapi_doctor.TAG_TEXT,
}


@cache
def document() -> dict:
    """The whole document; built once (treat it as read-only)."""
    paths: dict = {}
    parts = [part() for part in (_health_and_reset, _namespaces, _merchants, _orders, _creation, _notifications)]
    parts += [_scenarios(), _clock(), openapi_doctor.paths(operation, answer, json_body)]
    parts.append(openapi_history.paths(operation, answer, json_body, ORDER_PATH, ORDER_PARAMS))
    parts.append(openapi_actions.paths(operation, answer, json_body, ORDER_PATH, ORDER_PARAMS))
    for part in parts:
        for path, item in part.items():
            paths.setdefault(path, {}).update(item)
    for path in paths.values():  # SANDBOX_MAX_BODY bounds every request body (sandbox/bounded_body.py)
        if "post" in path:
            path["post"]["responses"]["413"] = {"$ref": "#/components/responses/TooLarge"}
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "paysandbox control API",
            "version": __version__,
            "description": "The sandbox's own JSON API under /_sandbox. Amounts are integer fen; times are ISO 8601"
            " with offset (Beijing time); `merchant_id` is Alipay's app_id, WeChat Pay's mchid, UnionPay's merId."
            ' Errors: `{"error": {"code", "message"}}` with 400, 404, 409, or 413 for a body over SANDBOX_MAX_BODY.'
            " A sandbox started with an access token answers 401 to every call but health, this document and"
            " ca.pem without `Authorization: Bearer <token>`. A state change takes a JSON body or none (415"
            " otherwise), and none from another site's web page (403). Every call but health, the documents, the"
            " magic values and the namespaces themselves acts in the namespace `X-Sandbox-Namespace` names (absent:"
            " the default one).",
        },
        "servers": [{"url": ex.SANDBOX_URL}],
        "tags": [{"name": name, "description": description} for name, description in TAGS.items()],
        "paths": guarded(namespaced(paths)),
        "components": {
            "schemas": {
                **components(),
                **openapi_create.schemas(),
                **openapi_actions.schemas(),
                **openapi_report.schemas(),
                **openapi_doctor.schemas(),
                **openapi_history.schemas(),
            },
            "parameters": parameters(),
            "responses": responses(),
            "securitySchemes": security_schemes(),
        },
    }


@cache
def _text() -> str:
    return json.dumps(document(), ensure_ascii=False, separators=(",", ":"))


def served_at(base_url: str) -> str:
    """The document as JSON text, naming `base_url` (the address the client reached) as its server and in its
    example URLs of the sandbox's pages."""
    return _text().replace(ex.SANDBOX_URL, json.dumps(base_url)[1:-1])
