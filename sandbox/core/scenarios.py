"""The scenario registry: rules kept in the store (so they survive a restart), tried in the contract's order
(docs/protocols/control-api-contract.md#scenario-rules).

Order: one-shot rules (with `times`) before standing ones, each in the order they were added; then the
magic amounts. Taking a rule for an effect uses one of that effect's `times`; a rule is gone once every
effect it has is used up.

Processes sharing a store share the rules. Each keeps them sorted in memory: adding, deleting or clearing rules is
announced (`scenarios:<namespace>`), so the others sort them again on their next request; and taking a one-shot
rule reads (and holds) its stored document first, so its uses are spent once however many processes race for them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sandbox.core import magic, scoped
from sandbox.core.ids import Ids
from sandbox.core.outcomes import check_codes
from sandbox.core.rules import Context, Rule, check_operation, check_probes, parse_rule
from sandbox.core.store import Store
from sandbox.errors import InvalidParameter, NotFound

COLLECTION = "scenarios"
ORDER = "scenario_order"  # a key per namespace, held while rules are numbered (no document is stored under it)


def topic(namespace: str) -> str:
    return f"scenarios:{namespace}"


def read_file(path: str | Path) -> list:
    """The rules in a JSON or YAML file: a list of rules, or {"scenarios": [...]} as GET /_sandbox/scenarios answers."""
    text = Path(path).read_text(encoding="utf-8")
    import yaml  # here, not at import: only a scenario file needs it (14 ms of every start)

    try:
        content = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        kind = "JSON" if str(path).endswith(".json") else "YAML"
        raise InvalidParameter("file", f"{path} is not valid {kind}: {exc}") from None
    if isinstance(content, dict) and "scenarios" in content:
        content = content["scenarios"]
    if not isinstance(content, list):
        raise InvalidParameter("file", f'{path} must hold a list of rules, or {{"scenarios": [...]}}')
    return content


def declare_indexes(store: Store) -> None:
    scoped.declare(store, COLLECTION)


class Scenarios:
    """One namespace's rules."""

    def __init__(self, store: Store, namespace: str, ids: Ids, gateways: dict) -> None:
        self._store, self._namespace, self._ids = store, namespace, ids
        self._gateways = gateways  # the Sandbox's own dict of adapters, so gateways added later count
        self._magic: list[Rule] | None = None
        # Parsed and sorted once per change: every gateway call looks rules up (bench/scenarios.py).
        self._sorted: list[Rule] | None = None

    def add(self, payload, source: str = "api") -> Rule:
        return self._keep([self._parse(payload, source)])[0]

    def add_all(self, payloads, source: str = "api") -> list[Rule]:
        """Several rules, all or none: a bad one is named by its place, e.g. scenarios[2].notify.drop."""
        return self._keep(self._parse_all(payloads, source))

    def load_file(self, path: str | Path) -> list[Rule]:
        """Load a scenarios file at start; loading the same file again replaces what it loaded before."""
        source = f"file:{Path(path).name}"
        rules = self._parse_all(read_file(path), source)  # a bad file leaves the rules it loaded before
        with self._store.transaction():
            self.clear(source)
            return self._keep(rules)

    def _parse(self, payload, source: str) -> Rule:
        rule = parse_rule(payload, tuple(self._gateways), f"scn_{self._ids.hex(12)}", source)
        check_codes(rule, self._gateways)
        check_probes(rule, self._gateways)
        check_operation(rule, self._gateways)
        return rule

    def _parse_all(self, payloads, source: str) -> list[Rule]:
        if not isinstance(payloads, list):
            raise InvalidParameter("scenarios", "scenarios must be a list of rules")
        rules = []
        for index, payload in enumerate(payloads):
            try:
                rules.append(self._parse(payload, source))
            except InvalidParameter as exc:
                raise InvalidParameter(f"scenarios[{index}].{exc.name}", f"scenarios[{index}]: {exc.message}") from None
        return rules

    def _keep(self, rules: list[Rule]) -> list[Rule]:
        """Store parsed rules after every rule already there, in their order."""
        with self._store.transaction():
            self._store.get(ORDER, self._namespace)  # holds the numbering: two processes adding at once take turns
            last = max((r.seq for r in self._read()), default=0)
            for seq, rule in enumerate(rules, start=last + 1):
                rule.seq = seq
                self._put(rule)
            self._changed()
        return rules

    def list(self) -> list[Rule]:
        """As stored: with the uses other processes spent."""
        with self._store.transaction():
            return self._read()

    def _read(self) -> list[Rule]:
        rules = [Rule.from_doc(d) for d in scoped.documents(self._store, COLLECTION, self._namespace)]
        return sorted(rules, key=lambda r: (r.times is None, r.seq))

    def _rules(self) -> list[Rule]:
        """The live, sorted rules (callers are inside a store transaction and must not hand them out)."""
        if self._sorted is None:
            self._sorted = self._read()
        return self._sorted

    def _changed(self) -> None:
        """After adding or removing rules (inside the transaction): sort them again here, and in other processes."""
        self._sorted = None
        self._store.announce(topic(self._namespace))

    def forget(self) -> None:
        """Another process changed the rules: sort them again on the next look."""
        with self._store.transaction():  # not while a lookup here is filling the cache from what it read before
            self._sorted = None

    def get(self, rule_id: str) -> Rule:
        doc = scoped.own(self._store.get(COLLECTION, rule_id), self._namespace)
        if doc is None:
            raise NotFound(f"no scenario {rule_id!r}")
        return Rule.from_doc(doc)

    def delete(self, rule_id: str) -> None:
        with self._store.transaction():
            self.get(rule_id)
            self._store.delete(COLLECTION, rule_id)
            self._changed()

    def clear(self, source: str = "") -> None:
        """Remove every rule, or those loaded from one source (e.g. a scenarios file being loaded again)."""
        with self._store.transaction():
            self._changed()
            for doc in scoped.documents(self._store, COLLECTION, self._namespace):
                if not source or doc.get("source") == source:
                    self._store.delete(COLLECTION, doc["id"])

    def take(self, effect: str, ctx: Context, only: Callable[[Rule], bool] | None = None) -> Rule | None:
        """The first rule whose `effect` matches `ctx`, with one use of that effect spent; else a magic amount.
        `only` passes over the rules it refuses, unspent (the control API takes only an api rule's errors)."""
        if self._sorted == []:  # known to hold no rule (another process adding one makes it None): no transaction
            return self._magic_match(effect, ctx, only)
        with self._store.transaction():
            for rule in list(self._rules()):  # a copy: finding a rule spent elsewhere drops the sorted list
                wanted = only is None or only(rule)
                if wanted and rule.matches(effect, ctx) and self._still_matches(rule, effect, ctx):
                    self._spend(rule, effect)
                    return Rule.from_doc(rule.to_doc())
        return self._magic_match(effect, ctx, only)

    def _magic_match(self, effect: str, ctx: Context, only: Callable[[Rule], bool] | None) -> Rule | None:
        return next((r for r in self.magic_rules() if (only is None or only(r)) and r.matches(effect, ctx)), None)

    def may_match(self, effect: str, ctx: Context) -> bool:
        """Whether a rule, or a magic amount, that matches by amount could match `ctx`: if none, looking up the
        amount of the order a call names is wasted work (rules without an amount match whatever it is)."""
        rules = self._sorted
        if rules is None:
            with self._store.transaction():
                rules = list(self._rules())
        return any(
            "amount" in rule.match and rule.matches_whatever_amount(effect, ctx)
            for rule in (*rules, *self.magic_rules())
        )

    def _still_matches(self, rule: Rule, effect: str, ctx: Context) -> bool:
        """A one-shot rule as stored, held till the transaction ends (so the database decides who spends its last
        use): its uses spent through other processes count, and one they used up is gone."""
        if rule.times is None:
            return True
        stored = self._store.get(COLLECTION, rule.id)
        if stored is None:
            self._sorted = None
            return False
        rule.remaining = Rule.from_doc(stored).remaining
        return rule.matches(effect, ctx)

    def magic_rules(self) -> list[Rule]:
        if self._magic is None:
            self._magic = magic.rules(tuple(self._gateways))
        return self._magic

    def _spend(self, rule: Rule, effect: str) -> None:
        if rule.times is None:
            return
        rule.remaining[effect] -= 1
        if rule.left == 0:
            self._store.delete(COLLECTION, rule.id)
            self._sorted = None
        else:
            self._put(rule)

    def _put(self, rule: Rule) -> None:
        self._store.put(COLLECTION, rule.id, {**rule.to_doc(), "namespace": self._namespace})
