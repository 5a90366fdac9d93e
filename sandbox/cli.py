"""The `paysandbox` command: serve the sandbox, and print what a client needs to talk to it."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
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
    _sandbox_options(serve)
    serve.set_defaults(handler=_serve)

    shop = commands.add_parser("shop", help="run the demo shop against a running sandbox")
    shop.add_argument("--sandbox-url", help=f"the sandbox base URL (default {DEFAULT_URL})")
    _shop_options(shop)
    shop.set_defaults(handler=_shop)

    demo = commands.add_parser("demo", help="run the sandbox and the demo shop together: click through a purchase")
    _sandbox_options(demo)
    _shop_options(demo)
    demo.set_defaults(handler=_demo)

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


def _sandbox_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--host", help="address to bind (default 127.0.0.1; 0.0.0.0 in a container)")
    command.add_argument("--port", type=int, help="port (default 8008)")
    command.add_argument("--data", metavar="PATH", help="keep state in this TinyDB JSON file (default: in memory)")
    command.add_argument("--clock", choices=("real", "accelerated", "manual"), help="clock mode (default real)")
    command.add_argument("--factor", type=float, help="clock speed in accelerated mode")
    command.add_argument("--seed", type=int, help="make generated ids repeatable")
    command.add_argument("--public-url", help="base URL handed out in QR codes and bill links")
    command.add_argument("--scenarios", metavar="FILE", help="load scenario rules from a JSON or YAML file at start")


def _shop_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--shop-host", default="127.0.0.1", help="address the shop binds (default 127.0.0.1)")
    command.add_argument("--shop-port", type=int, default=8010, help="the shop's port (default 8010)")
    command.add_argument(
        "--shop-url", help="where the sandbox and the browser reach the shop (default http://<shop-host>:<port>)"
    )
    command.add_argument("--shop-data", metavar="PATH", help="keep the shop's orders in this TinyDB JSON file")


def _serve(args: argparse.Namespace, config: Config) -> int:
    return _run(args, config, with_sandbox=True, with_shop=False)


def _shop(args: argparse.Namespace, config: Config) -> int:
    return _run(args, config, with_sandbox=False, with_shop=True)


def _demo(args: argparse.Namespace, config: Config) -> int:
    return _run(args, config, with_sandbox=True, with_shop=True)


def _run(args: argparse.Namespace, config: Config, with_sandbox: bool, with_shop: bool) -> int:
    """Serve the sandbox, the shop, or both (each on its own port, in one process) until SIGTERM or Ctrl-C."""
    servers, sandbox = [], None
    if with_sandbox:
        built = _sandbox_server(args, config)
        if isinstance(built, int):
            return built
        server, sandbox = built
        servers.append(server)
    if with_shop:
        # The demo's shop talks to its own sandbox; `shop` to --sandbox-url, else SHOP_SANDBOX_URL, else the default.
        sandbox_url = f"http://{_loopback(config.host)}:{servers[0].server_port}" if sandbox else args.sandbox_url
        shop = _shop_server(args, sandbox_url, checked=not sandbox)
        if shop is None:
            return 1
        servers.append(shop)

    def stop(signum, frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    if sandbox:
        sandbox.start()
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, name="shop", daemon=True).start()
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        for server in servers:
            server.server_close()
        if sandbox:
            sandbox.stop()  # flushes a file store, so pending notifications survive the restart
    return 0


def _loopback(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def _sandbox_server(args: argparse.Namespace, config: Config):
    """The sandbox's WSGI server, bound and announced; an exit code if it cannot start."""
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
        sandbox.stop()
        return 1
    where = f"http://{config.host}:{server.server_port}"
    store = config.data_path or "memory"
    print(f"paysandbox {__version__} serving on {where} (store: {store}, clock: {sandbox.clock.mode})", flush=True)
    print(f"  Alipay gateway   {where}/gateway.do   demo app_id 2021000000000001 (`paysandbox keys`)", flush=True)
    print(f"  WeChat Pay       {where}/v3/... and /pay/...   demo mchid 1900000109", flush=True)
    print(f"  UnionPay         {where}/gateway/api/...   demo merId 777290058110097", flush=True)
    print(f"  control API      {where}/_sandbox/health", flush=True)
    return server, sandbox


def _shop_server(args: argparse.Namespace, sandbox_url: str | None, checked: bool):
    """The demo shop's WSGI server, bound and announced; None if it cannot listen."""
    from werkzeug.serving import make_server

    from sandbox.merchant.shop import create_shop
    from sandbox.merchant.shop.settings import ShopSettings

    settings = ShopSettings.from_env(sandbox_url=sandbox_url, data_path=args.shop_data, public_url=args.shop_url)
    try:
        server = make_server(args.shop_host, args.shop_port, create_shop(settings), threaded=True)
    except OSError as exc:
        where = f"{args.shop_host}:{args.shop_port}"
        print(f"paysandbox: the shop cannot listen on {where}: {exc.strerror}", file=sys.stderr)
        return None
    if not args.shop_url:
        settings.public_url = f"http://{_loopback(args.shop_host)}:{server.server_port}"
    sandbox_url = settings.sandbox_url
    if checked and not Control(sandbox_url, timeout=3).healthy():
        print(f"warning: no sandbox answers at {sandbox_url} yet: start one, or pass --sandbox-url", flush=True)
    print(f"demo shop serving on {settings.public_url}  (open it in a browser; sandbox {sandbox_url})", flush=True)
    return server


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
