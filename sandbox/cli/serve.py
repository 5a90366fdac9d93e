"""`paysandbox serve`, `shop` and `demo`: run the sandbox, the demo shop, or both, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from urllib.parse import urlsplit

from sandbox import __version__
from sandbox.config import Config
from sandbox.control import DEFAULT_URL, Control
from sandbox.core.destinations import Allowlist
from sandbox.core.retention import Retention
from sandbox.core.storefile import StoreFileError
from sandbox.errors import SandboxError
from sandbox.transport.hosts import loopback
from sandbox.transport.plain import HttpServer
from sandbox.transport.server import GRACE


def register(commands: argparse._SubParsersAction) -> None:
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


def _sandbox_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--host", help="address to bind (default 127.0.0.1; 0.0.0.0 in a container)")
    command.add_argument("--port", type=int, help="port (default 8008)")
    command.add_argument(
        "--data",
        metavar="PATH|URL",
        help="keep state in this TinyDB JSON file, or in the PostgreSQL database of a postgresql:// URL"
        " (default: in memory)",
    )
    command.add_argument("--clock", choices=("real", "accelerated", "manual"), help="clock mode (default real)")
    command.add_argument("--factor", type=float, help="clock speed in accelerated mode")
    command.add_argument("--seed", type=int, help="make generated ids repeatable")
    command.add_argument("--public-url", help="base URL handed out in QR codes and bill links")
    command.add_argument("--scenarios", metavar="FILE", help="load scenario rules from a JSON or YAML file at start")
    command.add_argument(
        "--proxy-port",
        type=int,
        metavar="P",
        help="also run an HTTP proxy on P that answers CONNECT to the provider hosts itself (for SDKs with hard-coded"
        " hosts)",
    )
    command.add_argument(
        "--tls-port", type=int, metavar="P", help="also serve every gateway over HTTPS on P, for the provider hosts"
    )
    command.add_argument(
        "--notify-allow",
        metavar="LIST",
        help="send notifications only to these comma-separated host names, host:port and CIDR ranges (default: any)",
    )
    command.add_argument(
        "--token",
        help="the control API then needs `Authorization: Bearer TOKEN` (health, ca.pem and openapi.json stay open;"
        " default $SANDBOX_TOKEN)",
    )
    command.add_argument(
        "--token-file", metavar="PATH", help="read the token from this file's first line (default $SANDBOX_TOKEN_FILE)"
    )
    command.add_argument(
        "--retention",
        metavar="AGE",
        help="purge finished orders (and their notifications) last active longer ago on the sandbox clock, once nothing"
        " is due for them: 7d (default), 12h, 90m; off keeps any age",
    )
    command.add_argument(
        "--retention-orders",
        type=int,
        metavar="N",
        help="keep at most the N most recently active finished orders (default 2000; 0: no limit)",
    )


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

    def stop(signum, frame) -> None:
        # Once: a second SIGTERM while requests in flight finish must not cut the store's flush short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    # Before any banner: a supervisor that reads a banner and stops us at once still gets a clean exit.
    signal.signal(signal.SIGTERM, stop)
    servers, sandboxes, transports = [], [], []
    try:
        return _serve_until_stopped(args, config, with_sandbox, with_shop, servers, sandboxes, transports)
    except KeyboardInterrupt:
        return 0
    finally:
        for transport in transports:
            transport.stop()
        for server in servers:
            server.stop(grace=GRACE)  # requests in flight are answered (and their writes flushed) first
        for sandbox in sandboxes:
            sandbox.stop()  # flushes a file store, so pending notifications survive the restart


def _serve_until_stopped(
    args: argparse.Namespace,
    config: Config,
    with_sandbox: bool,
    with_shop: bool,
    servers: list,
    sandboxes: list,
    transports: list,
) -> int:
    """Build the servers (each appended as soon as it exists, so _run can close it), then serve."""
    if with_sandbox:
        built = _sandbox_server(args, config)
        if isinstance(built, int):
            return built
        server, sandbox = built
        servers.append(server)
        sandboxes.append(sandbox)
        transport = _transport(server.app, config, f"http://{loopback(config.host)}:{server.port}")
        if transport is None:
            return 1
        transports.append(transport)
    if with_shop:
        # The demo's shop talks to its own sandbox; `shop` to --sandbox-url, else SHOP_SANDBOX_URL, else the default.
        sandbox_url = f"http://{loopback(config.host)}:{servers[0].port}" if sandboxes else args.sandbox_url
        built_shop = _shop_server(args, sandbox_url, checked=not sandboxes)
        if built_shop is None:
            return 1
        shop, shop_url = built_shop
        servers.append(shop)
        for sandbox in sandboxes:  # the demo's own shop gets its notifications whatever --notify-allow says
            sandbox.dispatcher.also_allow(urlsplit(shop_url).netloc)
    for sandbox in sandboxes:
        sandbox.start()
    for server in servers[1:]:
        server.start()
    if sandboxes:
        _warn_if_exposed(config, servers[0].port)
    servers[0].serve_forever(poll_interval=0.5)  # a bounded wait: Ctrl-C interrupts no select() on Windows
    return 0


def _warn_if_exposed(config: Config, port: int) -> None:
    """Last of the start-up lines, so that the terminal shows it: the banners would push it out of sight."""
    from sandbox.admin.access import exposure_warning, reachable_from_elsewhere

    if not config.token and reachable_from_elsewhere(config.host):
        print(exposure_warning(config.host, port), file=sys.stderr, flush=True)


def _sandbox_server(args: argparse.Namespace, config: Config):
    """The sandbox's WSGI server, bound and announced; an exit code if it cannot start."""
    from sandbox import allocator
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
        "proxy_port": args.proxy_port,
        "tls_port": args.tls_port,
        "notify_allow": args.notify_allow,
        "token": args.token,
        "token_file": args.token_file,
        "retention": args.retention,
        "retention_orders": args.retention_orders,
    }
    for name, value in overrides.items():
        if value is not None:
            setattr(config, name, value)
    try:
        config.token = config.access_token()  # read once: a token file is not read again
    except ValueError as exc:
        print(f"paysandbox: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        Allowlist.parse(config.notify_allow)
    except ValueError as exc:
        print(f"paysandbox: --notify-allow / SANDBOX_NOTIFY_ALLOW: {exc}", file=sys.stderr)
        return 2
    try:
        Retention.parse(config.retention, config.retention_orders)
    except ValueError as exc:
        print(f"paysandbox: --retention / SANDBOX_RETENTION: {exc}", file=sys.stderr)
        return 2
    allocator.tune_for_a_server()  # before the store loads: its buffers then come from the tuned heap
    try:
        app = create_app(config)
    except StoreFileError as exc:
        print(f"paysandbox: {exc}", file=sys.stderr)
        return 2
    except (SandboxError, OSError) as exc:
        print(f"paysandbox: cannot load {config.scenarios_file}: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    sandbox = app.extensions["paysandbox"]
    try:
        server = HttpServer(app, config.host, config.port)
    except OSError as exc:
        print(f"paysandbox: cannot listen on {config.host}:{config.port}: {exc.strerror}", file=sys.stderr)
        sandbox.stop()
        return 1
    where = f"http://{config.host}:{server.port}"
    store = sandbox.store.path or "memory"  # a database's URL without its password
    print(f"paysandbox {__version__} serving on {where} (store: {store}, clock: {sandbox.clock.mode})", flush=True)
    print(f"  Alipay gateway   {where}/gateway.do   demo app_id 2021000000000001 (`paysandbox keys`)", flush=True)
    print(f"  WeChat Pay       {where}/v3/... and /pay/...   demo mchid 1900000109", flush=True)
    print(f"  UnionPay         {where}/gateway/api/...   demo merId 777290058110097", flush=True)
    print(f"  console          {where}/_sandbox/   (open it in a browser)", flush=True)
    print(f"  control API      {where}/_sandbox/health", flush=True)
    if config.notify_allow:
        print(f"  notifications go only to {config.notify_allow}", flush=True)
    return server, sandbox


def _transport(app, config: Config, sandbox_url: str):
    """The proxy and TLS ports asked for, listening and announced; None if one cannot listen."""
    from sandbox.transport import ports

    try:
        transport = ports.start(app, config.host, config.proxy_port, config.tls_port, sandbox_url)
    except OSError as exc:
        which = f"--proxy-port {config.proxy_port} / --tls-port {config.tls_port}"
        print(f"paysandbox: cannot listen on {config.host} ({which}): {exc.strerror}", file=sys.stderr)
        return None
    for line in ports.banner(transport, loopback(config.host), sandbox_url):
        print(line, flush=True)
    return transport


def _shop_server(args: argparse.Namespace, sandbox_url: str | None, checked: bool):
    """The demo shop's WSGI server, bound and announced, and the URL the sandbox reaches it by; None if it cannot
    listen."""
    from sandbox.merchant.shop import create_shop
    from sandbox.merchant.shop.settings import ShopSettings

    settings = ShopSettings.from_env(sandbox_url=sandbox_url, data_path=args.shop_data, public_url=args.shop_url)
    try:
        server = HttpServer(create_shop(settings), args.shop_host, args.shop_port, name="shop")
    except OSError as exc:
        where = f"{args.shop_host}:{args.shop_port}"
        print(f"paysandbox: the shop cannot listen on {where}: {exc.strerror}", file=sys.stderr)
        return None
    if not args.shop_url:
        settings.public_url = f"http://{loopback(args.shop_host)}:{server.port}"
    sandbox_url = settings.sandbox_url
    if checked and not Control(sandbox_url, timeout=3).healthy():
        print(f"warning: no sandbox answers at {sandbox_url} yet: start one, or pass --sandbox-url", flush=True)
    print(f"demo shop serving on {settings.public_url}  (open it in a browser; sandbox {sandbox_url})", flush=True)
    return server, settings.public_url
