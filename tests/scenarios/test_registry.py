"""The scenario registry inside a sandbox: the order rules are tried in, spending `times`, magic amounts, reset."""

import pytest

from sandbox.core.rules import Context

ALIPAY = Context("alipay", "query", "alipay.trade.query", "2021000000000001", "A-1", 100)


def test_one_shot_rules_are_tried_before_standing_ones_whatever_the_order_they_were_added(sandbox):
    standing = sandbox.scenarios.add({"api": {"status": 502}})
    one_shot = sandbox.scenarios.add({"times": 1, "api": {"status": 503}})
    assert [r.id for r in sandbox.scenarios.list()] == [one_shot.id, standing.id]
    assert sandbox.scenarios.take("api", ALIPAY).id == one_shot.id
    assert sandbox.scenarios.take("api", ALIPAY).id == standing.id
    assert sandbox.scenarios.take("api", ALIPAY).id == standing.id


def test_a_rule_is_gone_once_every_effect_has_used_its_times(sandbox):
    added = sandbox.scenarios.add({"times": 1, "notify": {"drop": 1}, "api": {"status": 503}})
    assert sandbox.scenarios.take("api", ALIPAY).id == added.id
    assert sandbox.scenarios.get(added.id).remaining == {"notify": 1, "api": 0}
    assert sandbox.scenarios.take("api", ALIPAY) is None
    assert sandbox.scenarios.take("notify", Context("alipay", "notify", "TRADE_SUCCESS")).id == added.id
    assert sandbox.scenarios.list() == []


def test_magic_amounts_come_after_the_rules(sandbox):
    magic = Context("alipay", "notify", "TRADE_SUCCESS", "2021000000000001", "A-1", 605)
    assert sandbox.scenarios.take("notify", magic).id == "magic_605"
    added = sandbox.scenarios.add({"notify": {"duplicate": 2}})
    assert sandbox.scenarios.take("notify", magic).id == added.id


@pytest.mark.parametrize("amount", [1, 100, 10000, 600, 610])
def test_ordinary_amounts_are_never_magic(sandbox, amount):
    for effect, operation in (("payment", "pay"), ("payment", "create"), ("notify", "notify"), ("api", "refund")):
        assert sandbox.scenarios.take(effect, Context("alipay", operation, "", "2021000000000001", "A", amount)) is None


def test_reset_drops_the_rules_and_a_restart_keeps_them(tmp_path, config):
    from sandbox.app import create_app

    config.data_path = str(tmp_path / "store.json")
    first = create_app(config).extensions["paysandbox"]
    kept = first.scenarios.add({"name": "kept", "times": 3, "api": {"status": 503}})
    first.stop()
    second = create_app(config).extensions["paysandbox"]
    assert [(r.id, r.left) for r in second.scenarios.list()] == [(kept.id, 3)]
    second.reset()
    assert second.scenarios.list() == []
    second.stop()


def test_a_code_no_gateway_knows_is_refused_with_the_known_ones(sandbox):
    from sandbox.errors import InvalidParameter

    with pytest.raises(InvalidParameter) as raised:
        sandbox.scenarios.add({"match": {"gateway": "alipay"}, "payment": {"outcome": "fail", "code": "NOTENOUGH"}})
    assert raised.value.name == "payment.code"
    assert "ACQ.BUYER_BALANCE_NOT_ENOUGH" in raised.value.message
    sandbox.scenarios.add({"payment": {"outcome": "fail", "code": "NOTENOUGH"}})  # WeChat's, no gateway given
    sandbox.scenarios.add({"payment": {"outcome": "fail", "code": "balance_not_enough"}})  # neutral


def test_loading_a_file_again_replaces_its_rules_and_a_bad_one_keeps_them(sandbox, tmp_path):
    from sandbox.errors import InvalidParameter

    path = tmp_path / "qa.json"
    path.write_text('[{"notify": {"drop": 1}}, {"api": {"status": 503}}]')
    first = sandbox.scenarios.load_file(path)
    second = sandbox.scenarios.load_file(path)
    assert [r.id for r in sandbox.scenarios.list()] == [r.id for r in second] != [r.id for r in first]
    path.write_text('[{"notify": {"drop": 1}}, {"api": {"status": 418}}]')
    with pytest.raises(InvalidParameter) as raised:
        sandbox.scenarios.load_file(path)
    assert raised.value.name == "scenarios[1].api.status"
    assert [r.id for r in sandbox.scenarios.list()] == [r.id for r in second]
