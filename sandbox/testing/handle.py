"""What a test holds of a sandbox: its control API (orders, notifications, scenarios, clock) and the test's own
merchants with ready clients. It talks HTTP only, so the same test runs against an in-thread sandbox or a container.

In a namespace of its own (the plugin gives one to each test on a shared sandbox: the container, several
pytest-xdist workers) every control call carries X-Sandbox-Namespace, so the test's orders, notifications, rules
and clock are its own; its merchants are fresh (new ids, the TEST-ONLY demo keys), registered in that namespace the
first time the test needs one, since a merchant id belongs to one namespace.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from sandbox.control import Control
from sandbox.merchant import demo
from sandbox.merchant.alipay import AlipayClient
from sandbox.merchant.alipay_v3 import AlipayV3Client
from sandbox.merchant.demo import Credentials
from sandbox.merchant.unionpay import UnionPayClient
from sandbox.merchant.wechatpay import WechatPayClient
from sandbox.testing.keepalive import Connections, KeptControl

GATEWAYS = ("alipay", "wechatpay", "unionpay")
ID_NAMES = {"alipay": "app_id", "wechatpay": "mchid", "unionpay": "mer_id"}
# The sandbox's public material a merchant verifies with: its name in the credentials -> in the control API answer.
SANDBOX_KEY_NAMES = {
    "alipay": {"alipay_public_key": "alipay_public_key"},
    "wechatpay": {"public_key_id": "public_key_id", "platform_public_key": "platform_public_key"},
    "unionpay": {"root_cert": "root_certificate", "middle_cert": "middle_certificate"},
}


@dataclass(frozen=True)
class Merchant:
    """One merchant of the test: its id and everything a client needs (TEST-ONLY keys)."""

    gateway: str
    merchant_id: str
    keys: dict  # private material from fixtures/, the sandbox's public material from its answer


class Clock:
    """The sandbox clock. Advancing runs every expiry, settlement and notification retry that falls due."""

    def __init__(self, control: Control) -> None:
        self._control = control

    def now(self) -> datetime:
        return datetime.fromisoformat(self._control.call("GET", "/clock")["now"])

    def mode(self) -> str:
        return self._control.call("GET", "/clock")["mode"]

    def set(self, mode: str, factor: float | None = None) -> dict:
        return self._control.call("POST", "/clock", {"mode": mode, **({"factor": factor} if factor else {})})

    def advance(self, seconds: float) -> dict:
        return self._control.call("POST", "/clock/advance", {"seconds": seconds})


class Shared:
    """What the handles of one sandbox share from test to test, none of it a test's state: kept connections (the
    control calls', and a requests.Session for the ready clients) and the demo merchants, whose ids and keys no call
    changes. A new connection per test and client cost 1.3 ms each; asking for a demo merchant, 1.7 ms."""

    def __init__(self, url: str, token: str | None = None) -> None:
        import requests  # the ready clients' transport, loaded with them already

        self.url, self.token = url.rstrip("/"), token
        self.connections = Connections(self.url) if self.url.startswith("http://") else None
        self.http = requests.Session()
        self.demo_merchants: dict[str, Merchant] = {}

    def control(self, namespace: str | None = None) -> Control:
        """A Control in `namespace` on the kept connections (https: the CLI's Control, which verifies as it does)."""
        if self.connections is None:
            return Control(self.url, token=self.token, namespace=namespace)
        return KeptControl(self.connections, self.url, token=self.token, namespace=namespace)

    def close(self) -> None:
        self.http.close()
        if self.connections is not None:
            self.connections.close()


class SandboxHandle:
    def __init__(
        self,
        url: str,
        fixtures_dir: str | Path,
        *,
        namespace: str | None = None,
        app=None,
        token: str | None = None,
        shared: Shared | None = None,
    ) -> None:
        """`namespace`: the test's own namespace (None: the default one, with the demo merchants); `token`: the
        sandbox's access token, if it has one; `shared`: what the session's handles share (the plugin's)."""
        self.url = url.rstrip("/")
        self.namespace = namespace
        self._shared = shared
        self.control = shared.control(namespace) if shared else Control(self.url, token=token, namespace=namespace)
        self.clock = Clock(self.control)
        self.app = app  # the Flask app when the sandbox runs in this process (None for a container)
        self._fixtures = Path(fixtures_dir)
        self._merchants: dict[str, Merchant] = {}

    @property
    def isolated(self) -> bool:
        """Whether the test has a namespace of its own (and so merchants of its own)."""
        return self.namespace is not None

    @property
    def sandbox(self):
        """The in-process Sandbox object (for white-box tests); None against a container."""
        return self.app.extensions["paysandbox"] if self.app else None

    # -- merchants -----------------------------------------------------------------------------------------------

    def merchant(self, gateway: str) -> Merchant:
        """The test's merchant on `gateway`: the demo merchant, or a fresh one in the test's namespace."""
        if gateway not in GATEWAYS:
            raise ValueError(f"gateway must be one of {', '.join(GATEWAYS)}")
        if gateway not in self._merchants:
            self._merchants[gateway] = self._fresh(gateway) if self.isolated else self._demo(gateway)
        return self._merchants[gateway]

    def merchant_id(self, gateway: str) -> str:
        return self.merchant(gateway).merchant_id

    def _demo_spec(self, gateway: str) -> dict:
        return _demo_spec(str(self._fixtures), gateway)

    def _demo(self, gateway: str) -> Merchant:
        known = self._shared.demo_merchants if self._shared else {}
        if gateway not in known:
            spec = self._demo_spec(gateway)
            answer = self.control.call("GET", f"/merchants/{gateway}/{spec['merchant_id']}")
            known[gateway] = Merchant(gateway, spec["merchant_id"], self._keys(gateway, spec["merchant_id"], answer))
        merchant = known[gateway]
        return Merchant(gateway, merchant.merchant_id, dict(merchant.keys))  # a test may change its copy

    def _fresh(self, gateway: str) -> Merchant:
        spec = self._demo_spec(gateway)
        demo = self._fixtures / gateway / "demo"
        if gateway == "alipay":
            public_key = (demo / spec["app_public_key_file"]).read_text()
            body = {"merchant_id": "2021" + _digits(12), "app_public_key": public_key}
        elif gateway == "wechatpay":
            body = {
                "merchant_id": "19" + _digits(8),
                "appid": spec["appid"],
                "merchant_serial_no": spec["merchant_serial_no"],
                "merchant_certificate": (demo / spec["merchant_certificate_file"]).read_text(),
                "apiv3_key": spec["apiv3_key"],
                "api_key": spec["api_key"],
            }
        else:
            body = {
                "merchant_id": "777" + _digits(12),
                "merchant_certificate": (demo / spec["merchant_certificate_file"]).read_text(),
            }
        answer = self.control.call("POST", "/merchants", {"gateway": gateway, "name": "pytest merchant", **body})
        return Merchant(gateway, body["merchant_id"], self._keys(gateway, body["merchant_id"], answer))

    def _keys(self, gateway: str, merchant_id: str, answer: dict) -> dict:
        """The demo merchant's credentials under this merchant's id, with the sandbox's public keys it answered."""
        keys = dict(getattr(_demo_credentials(str(self._fixtures)), gateway))
        keys[ID_NAMES[gateway]] = merchant_id
        keys.update({name: answer[wire_name] for name, wire_name in SANDBOX_KEY_NAMES[gateway].items()})
        return keys

    # -- ready clients (the reference merchant clients of sandbox.merchant) ----------------------------------------

    def alipay_client(self) -> AlipayClient:
        return demo.alipay_client(self.merchant("alipay").keys, self.url, **self._transport())

    def alipay_v3_client(self) -> AlipayV3Client:
        return demo.alipay_v3_client(self.merchant("alipay").keys, self.url, **self._transport())

    def wechatpay_client(self, notify_url: str = "") -> WechatPayClient:
        keys = self.merchant("wechatpay").keys
        return demo.wechatpay_client(keys, self.url, notify_url=notify_url, **self._transport())

    def unionpay_client(self) -> UnionPayClient:
        # txnTime must be "now" on the sandbox's clock, which tests move.
        return demo.unionpay_client(self.merchant("unionpay").keys, self.url, clock=self.clock.now, **self._transport())

    def _transport(self) -> dict:
        """The shared requests.Session, whose connections outlive the test (the sandbox sets no cookie on a gateway
        answer, and a client keeps no other state in it)."""
        return {"session": self._shared.http} if self._shared else {}

    # -- orders and the buyer ----------------------------------------------------------------------------------------

    def order(self, gateway: str, out_trade_no: str) -> dict:
        return self.control.call("GET", f"/orders/{gateway}/{self.merchant_id(gateway)}/{out_trade_no}")

    def orders(self, gateway: str = "", status: str = "") -> list[dict]:
        """The test's orders, newest first."""
        return self.control.call("GET", "/orders", params={"gateway": gateway, "status": status})["orders"]

    def pay(self, gateway: str, out_trade_no: str, outcome: str = "success", reason: str = "") -> dict:
        """Act as the buyer: the payment succeeds or fails, and notifications follow as after a real payment."""
        body = {"outcome": outcome, **({"reason": reason} if reason else {})}
        return self.control.call("POST", f"/orders/{gateway}/{self.merchant_id(gateway)}/{out_trade_no}/pay", body)

    # -- notifications ---------------------------------------------------------------------------------------------

    def notifications(self, gateway: str = "", out_trade_no: str = "", status: str = "") -> list[dict]:
        """The test's notifications, oldest first."""
        query = {"gateway": gateway, "out_trade_no": out_trade_no, "status": status}
        return self.control.call("GET", "/notifications", params=query)["notifications"]

    def replay(self, notification_id: str) -> dict:
        return self.control.call("POST", f"/notifications/{notification_id}/replay")

    def flush(self) -> dict:
        return self.control.call("POST", "/notifications/flush")

    # -- scenarios ---------------------------------------------------------------------------------------------------

    def scenario(self, **rule) -> dict:
        """Add a scenario rule (match, times, payment, notify, api); answer the stored rule.

        The rule's shape: docs/protocols/control-api-contract.md#scenario-rules."""
        return self.control.call("POST", "/scenarios", rule)["scenario"]

    def scenarios(self) -> list[dict]:
        return self.control.call("GET", "/scenarios")["scenarios"]

    def clear_scenarios(self) -> None:
        self.control.call("DELETE", "/scenarios")

    def reset(self, clock: str = "real") -> None:
        """Drop the test's orders, notifications and rules (its namespace's, or the whole in-thread sandbox's), and
        put its clock back on real time (or in mode `clock` at the wall time)."""
        self.control.call("POST", "/reset", {"clock": clock} if clock != "real" else None)


def _digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


@cache
def _demo_credentials(fixtures_dir: str) -> Credentials:
    return Credentials.demo(fixtures_dir)


@cache
def _demo_spec_text(fixtures_dir: str, gateway: str) -> str:
    return (Path(fixtures_dir) / gateway / "demo" / "merchant.json").read_text()


def _demo_spec(fixtures_dir: str, gateway: str) -> dict:
    return json.loads(_demo_spec_text(fixtures_dir, gateway))
