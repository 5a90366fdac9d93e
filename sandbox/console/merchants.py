"""The merchants page: each gateway's merchants with what a client needs to connect, their keys.zip, registering
one, and generating a TEST-ONLY key pair for a new one (its private key handed out once, never kept)."""

from __future__ import annotations

import base64

from flask import Response, current_app, request

from sandbox.console import api, keyfiles, keygen
from sandbox.console.views import back, bp, console_namespace, page

GATEWAYS = ("alipay", "wechatpay", "unionpay")
TITLES = {"alipay": "Alipay", "wechatpay": "WeChat Pay", "unionpay": "UnionPay"}
SDKS = {"alipay": "python-alipay-sdk", "wechatpay": "wechatpayv3", "unionpay": "the UnionPay reference client"}
KEY_MODES = (("public_key", "public_key"), ("certificate", "certificate"), ("migrating", "migrating"))
# Each gateway's POST /_sandbox/merchants fields: (name, label, kind, hint); kind is text, area (a PEM) or select.
REGISTER_FIELDS = {
    "alipay": (
        ("merchant_id", "app_id", "text", "2021000000000002"),
        ("name", "Name", "text", "optional"),
        ("app_public_key", "App public key (PEM)", "area", "-----BEGIN PUBLIC KEY-----"),
        ("app_cert", "or the app certificate (PEM)", "area", "-----BEGIN CERTIFICATE-----"),
    ),
    "wechatpay": (
        ("merchant_id", "mchid", "text", "1900000110"),
        ("appid", "appid", "text", "wx..."),
        ("name", "Name", "text", "optional"),
        ("merchant_serial_no", "Serial number (hex)", "text", "with the public key"),
        ("merchant_public_key", "Merchant public key (PEM)", "area", "-----BEGIN PUBLIC KEY-----"),
        ("merchant_certificate", "or the merchant certificate (PEM)", "area", "-----BEGIN CERTIFICATE-----"),
        ("apiv3_key", "APIv3 key (32 characters)", "text", ""),
        ("api_key", "v2 API key (32 characters)", "text", "optional"),
        ("key_mode", "Key mode", "select", "default: what the request asks"),
    ),
    "unionpay": (
        ("merchant_id", "merId", "text", "777290058110098"),
        ("name", "Name", "text", "optional"),
        ("merchant_certificate", "Signing certificate (PEM)", "area", "-----BEGIN CERTIFICATE-----"),
    ),
}
GENERATE_FIELDS = {
    "alipay": (("merchant_id", "app_id", "text", "blank: a fresh one"), ("name", "Name", "text", "optional")),
    "wechatpay": (
        ("merchant_id", "mchid", "text", "blank: a fresh one"),
        ("appid", "appid", "text", "blank: a fresh one"),
        ("name", "Name", "text", "optional"),
        ("apiv3_key", "APIv3 key", "text", "blank: a fresh one"),
        ("key_mode", "Key mode", "select", "default: what the request asks"),
    ),
    "unionpay": (("merchant_id", "merId", "text", "blank: a fresh one"), ("name", "Name", "text", "optional")),
}


def _fixtures() -> str:
    return current_app.extensions["paysandbox"].config.fixtures_dir


def _base_url() -> str:
    return request.host_url.rstrip("/")


def _card(merchant: dict, secrets: dict | None = None) -> dict:
    """A merchant as the page shows it: demo or not, its public PEMs, the SDK snippet (with `secrets` if known)."""
    gateway = merchant["gateway"]
    demo = keyfiles.is_demo(merchant, console_namespace(), _fixtures())
    secrets = keyfiles.demo_private_files(merchant, _fixtures())[1] if demo else secrets or {}
    pems = [(name, merchant[f]) for name, (f, _) in keyfiles.PUBLIC_FILES[gateway].items() if merchant.get(f)]
    return {
        **merchant,
        "demo": demo,
        "pems": pems,
        "ids": keyfiles.ids(merchant, _base_url(), secrets),
        "snippet": keyfiles.snippet(merchant, _base_url(), secrets),
        "sdk": SDKS[gateway],
    }


def _render(errors: dict | None = None, status: int = 200):
    merchants = api.get("/merchants")["merchants"]
    by_gateway = {g: [_card(m) for m in merchants if m["gateway"] == g] for g in GATEWAYS}
    return page(
        "console/merchants.html",
        status=status,
        by_gateway=by_gateway,
        titles=TITLES,
        register_fields=REGISTER_FIELDS,
        generate_fields=GENERATE_FIELDS,
        key_modes=KEY_MODES,
        base_url=_base_url(),
        errors=errors or {},
        posted=request.form if request.method == "POST" else {},
        posted_form=request.form.get("form_id", "") if request.method == "POST" else "",
    )


@bp.get("/console/merchants")
def merchants():
    return _render()


def _gateway() -> str:
    gateway = request.form.get("gateway", "")
    if gateway not in GATEWAYS:
        raise api.ApiError(400, "INVALID_PARAMETER", f"gateway must be one of {', '.join(GATEWAYS)}", "gateway")
    return gateway


def _refused(form_id: str, known: tuple, refused: api.ApiError):
    names = {name for name, *_ in known}
    return _render({form_id: {refused.field if refused.field in names else "form": refused.message}}, status=400)


@bp.post("/console/merchants/register")
def register_merchant():
    gateway = _gateway()
    fields = REGISTER_FIELDS[gateway]
    payload = {"gateway": gateway}
    payload |= {name: request.form.get(name, "").strip() for name, *_ in fields if request.form.get(name, "").strip()}
    try:
        answer = api.post("/merchants", payload)
    except api.ApiError as refused:
        return _refused(f"register-{gateway}", fields, refused)
    return back("console.merchants", f"{TITLES[gateway]} merchant {answer['merchant_id']} registered.")


@bp.post("/console/merchants/generate")
def generate_merchant():
    """Register a fresh key pair's public half; the answer is the one page that ever shows the private half."""
    gateway = _gateway()
    made = keygen.new_merchant(gateway, request.form)
    try:
        answer = api.post("/merchants", made.registration)
    except api.ApiError as refused:
        return _refused(f"generate-{gateway}", GENERATE_FIELDS[gateway], refused)
    note = (
        "The private key in this zip was generated by the console for you and shown once: the sandbox did not keep"
        " it (it never holds a merchant's private key). Keep this zip; there is no second copy."
    )
    archive = keyfiles.keys_zip(answer, _base_url(), made.private_files, made.secrets, note)
    return page(
        "console/merchant_generated.html",
        status=201,
        merchant=_card(answer, made.secrets),
        title=TITLES[gateway],
        private_pem=made.private_pem,
        zip_href="data:application/zip;base64," + base64.b64encode(archive).decode(),
        zip_name=f"{gateway}-{answer['merchant_id']}-keys.zip",
        active="console.merchants",
    )


@bp.get("/console/merchants/<gateway>/<merchant_id>/keys.zip")
def merchant_keys(gateway: str, merchant_id: str):
    merchant = api.get(f"/merchants/{gateway}/{merchant_id}")
    if keyfiles.is_demo(merchant, console_namespace(), _fixtures()):
        files, secrets = keyfiles.demo_private_files(merchant, _fixtures())
        note = (
            "A demo merchant: its private key ships in the sandbox's fixtures/ and is public on purpose (TEST-ONLY),"
            " so this zip includes it."
        )
    else:
        files, secrets = {}, {}
        note = (
            "No private key here: the private key stays with whoever generated it (the sandbox only ever holds the"
            " public half). Put it next to these files under the name the snippet below reads."
        )
        if gateway == "wechatpay":
            note += " The APIv3 and v2 API keys are write-only: use the ones given at registration."
    archive = keyfiles.keys_zip(merchant, _base_url(), files, secrets, note)
    return Response(
        archive,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{gateway}-{merchant_id}-keys.zip"'},
    )
