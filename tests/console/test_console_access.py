"""Who sees the console: the access token's login, the namespace chosen at the top, and forms only from its pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from sandbox.config import Config
from tests.console.screens import save

TOKEN = "console-test-token-0123456789"


def csrf_of(client) -> str:
    """The CSRF token the console's pages carry (the cookie a first page sets)."""
    client.get("/_sandbox/console/clock")
    return client.get_cookie("paysandbox_csrf", path="/_sandbox").value


class TestWithAnAccessToken:
    @pytest.fixture
    def config(self) -> Config:
        return Config(seed=1234, token=TOKEN)

    @pytest.mark.browser
    def test_it_asks_for_the_token_once_and_refuses_a_wrong_one(self, page: Page, live):
        page.goto(f"{live.url}/_sandbox/console/clock")
        expect(page.get_by_role("heading", name="Log in to the console")).to_be_visible()
        page.get_by_test_id("field-token").fill("not-the-token")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_test_id("error-token")).to_contain_text("not this sandbox's access token")
        save(page, "console-login")
        page.get_by_test_id("field-token").fill(TOKEN)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Clock")).to_be_visible()  # back where it was going
        cookie = next(c for c in page.context.cookies() if c["name"] == "paysandbox_console")
        assert TOKEN not in cookie["value"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("heading", name="Log in to the console")).to_be_visible()

    def test_nothing_shows_and_nothing_changes_without_logging_in(self, client):
        assert client.get("/_sandbox/").status_code == 302
        answer = client.post("/_sandbox/console/clock", data={"action": "reset", "csrf": csrf_of(client)})
        assert answer.status_code == 401 and b"Log in first" in answer.data


def test_a_form_without_the_pages_csrf_token_or_from_another_site_is_refused(client, sandbox):
    sandbox.clock.set_mode("manual")
    csrf = csrf_of(client)
    assert client.post("/_sandbox/console/clock", data={"action": "reset"}).status_code == 403
    other_site = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
    refused = client.post("/_sandbox/console/clock", data={"action": "reset", "csrf": csrf}, headers=other_site)
    assert refused.status_code == 403 and b"another site" in refused.data
    assert sandbox.clock.mode == "manual"
    assert client.post("/_sandbox/console/clock", data={"action": "reset", "csrf": csrf}).status_code == 200
    assert sandbox.clock.mode == "real"


def test_the_root_leads_to_the_dashboard(client):
    answer = client.get("/")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/_sandbox/")


@pytest.mark.browser
def test_the_namespace_selector_shows_one_namespace_and_nothing_of_another(page: Page, live, http, space):
    team = space("team-a")
    team.register("alipay", "2021000000000777")
    team.api(
        "POST",
        "/orders",
        json={"gateway": "alipay", "merchant_id": "2021000000000777", "amount": 100, "out_trade_no": "TEAM-A-1"},
    )
    space(None).api("POST", "/orders", json={"gateway": "alipay", "amount": 100, "out_trade_no": "DEFAULT-1"})
    page.goto(f"{live.url}/_sandbox/")
    rows = page.get_by_test_id("order-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-out-trade-no", "DEFAULT-1")
    page.get_by_test_id("namespace-select").select_option("team-a")
    expect(page).to_have_url(f"{live.url}/_sandbox/?ns=team-a")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-out-trade-no", "TEAM-A-1")
    page.get_by_role("link", name="Clock").click()  # the namespace stays with every link
    expect(page).to_have_url(f"{live.url}/_sandbox/console/clock?ns=team-a")
