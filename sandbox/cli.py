"""The `paysandbox` command: serve the sandbox, and print what a client needs to talk to it."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from pathlib import Path

from sandbox import __version__
from sandbox.config import Config
from sandbox.control import DEFAULT_URL, Control, ControlError
from sandbox.errors import SandboxError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="paysandbox", description="A local sandbox for Alipay and friends.")
    parser.add_argument("--version", action="version", version=f"paysandbox {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve every gateway on one port")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1; 0.0.0.0 in a container)")
    serve.add_argument("--port", type=int, help="port (default 8008)")
    serve.add_argument("--data", metavar="PATH", help="keep state in this TinyDB JSON file (default: in memory)")
    serve.add_argument("--clock", choices=("real", "accelerated", "manual"), help="clock mode (default real)")
    serve.add_argument("--factor", type=float, help="clock speed in accelerated mode")
    serve.add_argument("--seed", type=int, help="make generated ids repeatable")
    serve.add_argument("--public-url", help="base URL handed out in QR codes and bill links")
    serve.add_argument("--scenarios", metavar="FILE", help="load scenario rules from a JSON or YAML file at start")
    serve.set_defaults(handler=_serve)

    scenarios = commands.add_parser("scenarios", help="load, list or clear scenario rules on a running sandbox")
    actions = scenarios.add_subparsers(dest="action", required=True)
    load = actions.add_parser("load", help="add the rules of a JSON or YAML file (all or none)")
    load.add_argument("file")
    load.add_argument("--replace", action="store_true", help="delete every rule first")
    listing = actions.add_parser("list", help="the rules in the order they are tried")
    clear = actions.add_parser("clear", help="delete every rule")
    for action in (load, listing, clear):
        action.add_argument("--url", default=DEFAULT_URL, help=f"the sandbox base URL (default {DEFAULT_URL})")
        action.add_argument("--json", action="store_true", help="machine-readable output")
    scenarios.set_defaults(handler=_scenarios)

    keys = commands.add_parser("keys", help="print the demo merchants' keys and how to point an SDK here")
    keys.add_argument("--url", default=None, help="the sandbox base URL (default http://127.0.0.1:8008)")
    keys.add_argument("--json", action="store_true", help="machine-readable output")
    keys.set_defaults(handler=_keys)

    args = parser.parse_args(argv)
    try:
        config = Config.from_env()
    except (TypeError, ValueError) as exc:
        print(f"paysandbox: a SANDBOX_* environment variable is invalid: {exc}", file=sys.stderr)
        return 2
    return args.handler(args, config)


def _serve(args: argparse.Namespace, config: Config) -> int:
    from werkzeug.serving import make_server

    from sandbox.app import create_app

    overrides = {
        "host": args.host,
        "port": args.port,
        "data_path": args.data,
        "clock_mode": args.clock,
        "clock_factor": args.factor,
        "seed": args.seed,
        "public_url": args.public_url,
        "scenarios_file": args.scenarios,
    }
    for name, value in overrides.items():
        if value is not None:
            setattr(config, name, value)
    logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = create_app(config)
    except (SandboxError, OSError) as exc:
        print(f"paysandbox: cannot load {config.scenarios_file}: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    sandbox = app.extensions["paysandbox"]
    try:
        server = make_server(config.host, config.port, app, threaded=True)
    except OSError as exc:
        print(f"paysandbox: cannot listen on {config.host}:{config.port}: {exc.strerror}", file=sys.stderr)
        return 1

    def stop(signum, frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    sandbox.start()
    where = f"http://{config.host}:{server.server_port}"
    store = config.data_path or "memory"
    print(f"paysandbox {__version__} serving on {where} (store: {store}, clock: {sandbox.clock.mode})", flush=True)
    print(f"  Alipay gateway   {where}/gateway.do   demo app_id 2021000000000001 (`paysandbox keys`)", flush=True)
    print(f"  WeChat Pay       {where}/v3/... and /pay/...   demo mchid 1900000109", flush=True)
    print(f"  UnionPay         {where}/gateway/api/...   demo merId 777290058110097", flush=True)
    print(f"  control API      {where}/_sandbox/health", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sandbox.stop()  # flushes a file store, so pending notifications survive the restart
    return 0


def _scenarios(args: argparse.Namespace, config: Config) -> int:
    from sandbox.core.scenarios import read_file

    control = Control(args.url)
    try:
        if args.action == "load":
            rules = read_file(args.file)
            if args.replace:
                control.call("DELETE", "/scenarios")
            answer = control.call("POST", "/scenarios", {"scenarios": rules})
        elif args.action == "clear":
            answer = control.call("DELETE", "/scenarios")
        else:
            answer = control.call("GET", "/scenarios")
    except (ControlError, OSError) as exc:
        print(f"paysandbox: {exc}", file=sys.stderr)
        return 1
    except SandboxError as exc:
        print(f"paysandbox: {args.file}: {exc.message}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(answer, indent=2, ensure_ascii=False))
    elif args.action == "clear":
        print(f"deleted {len(answer['deleted'])} rule(s)")
    else:
        _print_rules(answer["scenarios"], "loaded" if args.action == "load" else "")
    return 0


def _print_rules(rules: list[dict], verb: str) -> None:
    if verb:
        print(f"{verb} {len(rules)} rule(s)")
    if not rules:
        print("no scenario rules: every payment follows magic values, the buyer, or succeeds")
        return
    print(f"{'id':<17} {'left':>5}  {'match':<40} effects")
    for rule in rules:
        match = " ".join(f"{k}={v}" for k, v in rule["match"].items()) or "*"
        effects = "; ".join(
            f"{e} {json.dumps(rule[e], ensure_ascii=False)}" for e in ("payment", "notify", "api") if e in rule
        )
        left = "∞" if rule["remaining"] is None else str(rule["remaining"])
        label = f"  # {rule['name']}" if rule.get("name") else ""
        print(f"{rule['id']:<17} {left:>5}  {match:<40} {effects}{label}")


def _keys(args: argparse.Namespace, config: Config) -> int:
    base = (args.url or f"http://127.0.0.1:{config.port}").rstrip("/")
    fixtures = Path(config.fixtures_dir)
    demo = json.loads((fixtures / "alipay/demo/merchant.json").read_text())
    alipay = {
        "gateway": "alipay",
        "app_id": demo["merchant_id"],
        "gateway_url": f"{base}/gateway.do",
        "app_private_key": (fixtures / "alipay/demo" / demo["app_private_key_file"]).read_text(),
        "alipay_public_key": (fixtures / "alipay/sandbox/alipay_public_key.pem").read_text(),
        "cert_mode": {
            "app_public_key_cert": str(fixtures / "alipay/demo" / demo["app_cert_file"]),
            "alipay_public_key_cert": str(fixtures / "alipay/sandbox/alipay_public_key_cert.pem"),
            "alipay_root_cert": str(fixtures / "alipay/sandbox/root_cert.pem"),
        },
    }
    wechat = json.loads((fixtures / "wechatpay/demo/merchant.json").read_text())
    platform = json.loads((fixtures / "wechatpay/sandbox/platform.json").read_text())
    wechatpay = {
        "gateway": "wechatpay",
        "mchid": wechat["merchant_id"],
        "appid": wechat["appid"],
        "base_url": base,
        "merchant_serial_no": wechat["merchant_serial_no"],
        "merchant_private_key": (fixtures / "wechatpay/demo" / wechat["merchant_private_key_file"]).read_text(),
        "apiv3_key": wechat["apiv3_key"],
        "api_key": wechat["api_key"],
        "public_key_id": platform["public_key_id"],
        "platform_public_key": (fixtures / "wechatpay/sandbox/pub_key.pem").read_text(),
        "platform_serial_no": platform["platform_serial_no"],
        "platform_certificate": str(fixtures / "wechatpay/sandbox/platform_cert.pem"),
    }
    union = json.loads((fixtures / "unionpay/demo/merchant.json").read_text())
    unionpay = {
        "gateway": "unionpay",
        "merId": union["merchant_id"],
        "certId": union["cert_id"],
        "base_url": f"{base}/gateway/api",
        "pkcs12": str(fixtures / "unionpay/demo" / union["pkcs12_file"]),
        "pkcs12_password": union["pkcs12_password"],
        "merchant_private_key": (fixtures / "unionpay/demo" / union["merchant_private_key_file"]).read_text(),
        "root_certificate": str(fixtures / "unionpay/sandbox/root.pem"),
        "middle_certificate": str(fixtures / "unionpay/sandbox/middle.pem"),
    }
    if args.json:
        print(json.dumps({"merchants": [alipay, wechatpay, unionpay]}, indent=2, ensure_ascii=False))
        return 0
    print("TEST-ONLY keys of the demo merchants. Never use them for real money.\n")
    print(f"== Alipay (demo app {alipay['app_id']}) ==")
    print(f"app_id        {alipay['app_id']}")
    print(f"gateway URL   {alipay['gateway_url']}")
    for label, path in alipay["cert_mode"].items():
        print(f"{label:<24}{path}")
    print("\napp private key (PKCS#1, both SDKs accept it):")
    print(alipay["app_private_key"])
    print("Alipay public key:")
    print(alipay["alipay_public_key"])
    print("python-alipay-sdk:   alipay = AliPay(appid=..., app_private_key_string=..., alipay_public_key_string=...)")
    print(f'                     alipay._gateway = "{alipay["gateway_url"]}"')
    print(f'alipay-sdk-python:   config.server_url = "{alipay["gateway_url"]}"  (see the README about its port bug)')
    print(f"\n== WeChat Pay (demo mchid {wechatpay['mchid']}) ==")
    for label in (
        "mchid",
        "appid",
        "merchant_serial_no",
        "apiv3_key",
        "api_key",
        "public_key_id",
        "platform_serial_no",
        "platform_certificate",
    ):
        print(f"{label:<24}{wechatpay[label]}")
    print("\nmerchant private key (PKCS#8, as wechatpayv3 needs):")
    print(wechatpay["merchant_private_key"])
    print("platform public key (public-key mode, goes with public_key_id):")
    print(wechatpay["platform_public_key"])
    print(f'wechatpayv3:   wx._core._gate_way = "{base}"')
    print(f'wechatpy:      pay.API_BASE_URL = "{base}/"  (the trailing slash is required)')
    print(f"\n== UnionPay (demo merId {unionpay['merId']}) ==")
    for label in ("merId", "certId", "base_url", "pkcs12", "pkcs12_password", "root_certificate", "middle_certificate"):
        print(f"{label:<24}{unionpay[label]}")
    print("acp_sdk.ini:   acpsdk.backTransUrl = base_url + /backTransReq.do (and so on); ifValidateRemoteCert=false")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
