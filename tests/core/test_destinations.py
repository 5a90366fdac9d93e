"""Notify URLs parsed as the sender connects, and SANDBOX_NOTIFY_ALLOW entries matched against resolved addresses."""

from __future__ import annotations

import pytest

from sandbox.core.destinations import Allowlist, DeliveryFailed, DestinationNotAllowed, addresses_to_reach, parse_url


def reach(url: str, allow: str) -> list[str]:
    return [sockaddr[0] for _, sockaddr in addresses_to_reach(parse_url(url), Allowlist.parse(allow))]


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "0177.0.0.1", "127.1", "127.0.0.1", "[::ffff:127.0.0.1]"])
def test_numeric_spellings_of_loopback_are_checked_as_the_address_they_reach(host):
    assert reach(f"http://{host}:8080/", "127.0.0.0/8") in (["127.0.0.1"], ["::ffff:127.0.0.1"])
    with pytest.raises(DestinationNotAllowed, match=r"^destination not allowed: .* resolves to .*127\.0\.0\.1"):
        reach(f"http://{host}:8080/", "10.0.0.0/8, shop.example")


def test_a_name_entry_allows_that_name_only_and_only_on_its_port_when_it_names_one():
    assert reach("http://LocalHost.:8010/notify", "localhost:8010")
    with pytest.raises(DestinationNotAllowed, match=r"^destination not allowed: localhost "):
        reach("http://localhost:8011/notify", "localhost:8010")
    with pytest.raises(DestinationNotAllowed, match=r"^destination not allowed: 127\.0\.0\.1 "):
        reach("http://127.0.0.1:8010/notify", "localhost:8010")


def test_userinfo_is_not_the_host():
    assert parse_url("http://shop.example@127.0.0.1:8080/x?y=1").host == "127.0.0.1"
    with pytest.raises(DestinationNotAllowed, match=r"^destination not allowed: 127\.0\.0\.1 "):
        reach("http://localhost@127.0.0.1:8080/", "localhost")


def test_an_address_entry_with_a_port_allows_that_port_only():
    assert reach("http://127.0.0.1:8010/", "127.0.0.1:8010, [::1]:8010") == ["127.0.0.1"]
    with pytest.raises(DestinationNotAllowed):
        reach("http://127.0.0.1:8011/", "127.0.0.1:8010")


def test_the_url_is_sent_to_as_parsed():
    target = parse_url("https://Shop.Example.:8443/pay/notify?a=1&b=2")
    assert (target.scheme, target.host, target.port) == ("https", "shop.example", 8443)
    assert target.path == "/pay/notify?a=1&b=2"
    assert (target.authority, target.destination) == ("shop.example:8443", "shop.example:8443")
    assert parse_url("http://[::1]/").authority == "[::1]"


@pytest.mark.parametrize(
    "url", ["ftp://shop.example/", "shop.example/notify", "http:///notify", "http://shop.example:99999/", "http://a b/"]
)
def test_a_url_that_cannot_be_sent_to_is_a_delivery_failure(url):
    with pytest.raises(DeliveryFailed):
        parse_url(url)


@pytest.mark.parametrize("entry", ["2130706433", "0x7f.1", "127.1", "shop.example:0", "shop.example:x", "a b", "[::1"])
def test_an_allow_entry_that_is_no_name_host_port_or_cidr_is_refused_at_start(entry):
    with pytest.raises(ValueError, match="notify allow list"):
        Allowlist.parse(f"localhost, {entry}")


def test_no_allow_list_means_any_destination():
    assert Allowlist.parse(None) is None and Allowlist.parse(" ") is None
    assert reach("http://127.0.0.1:9/", "") == ["127.0.0.1"]
