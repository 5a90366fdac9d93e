"""bench/notifications.py at a tiny size: it runs against real server processes and every notification verifies.

Figures are never checked (speed is measured by running the script): only that the pays were answered and each
notification (Alipay and WeChat Pay v3) reached the receiver process and verified there."""

from __future__ import annotations

from tests.test_bench import run


def test_notifications_bench_pays_through_real_servers_and_every_notification_verifies():
    out = run("notifications.py", "--quick")
    assert "receiver alone" in out
    assert "delivery floor (signed here" in out
    for kind in ("alipay", "wechatpay"):
        for server in ("serve", "gunicorn"):
            assert f"  {kind} {server}: deliveries/s" in out
    assert "all 180 notifications verified" in out
    assert "did not verify" not in out
