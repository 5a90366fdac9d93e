"""The QA cookbook (docs/qa-cookbook.md), run as tests: every rule of its curl lines is accepted, every Python recipe
passes, against a sandbox with an access token (so every control call must carry it)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from sandbox.config import Config

REPOSITORY = Path(__file__).resolve().parents[2]
COOKBOOK = REPOSITORY / "docs" / "qa-cookbook.md"
TOKEN = "cookbook-token"


@pytest.fixture
def config() -> Config:
    return Config(seed=1234, token=TOKEN)


def cookbook() -> str:
    return COOKBOOK.read_text(encoding="utf-8")


def blocks(language: str, text: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def recipes() -> list[tuple[str, str]]:
    """(title, python code) for every numbered recipe."""
    found = []
    for section in re.split(r"\n## ", cookbook())[1:]:
        title = section.splitlines()[0]
        [code] = blocks("python", section)
        found.append((title, code))
    return found


def curl_rules() -> list[dict]:
    import json

    rules = []
    for script in blocks("bash", cookbook()):
        for line in script.splitlines():
            if "/_sandbox/scenarios" in line and " -d " in line:
                words = shlex.split(line.replace("$J", ""))
                rules.append(json.loads(words[words.index("-d") + 1]))
    return rules


def test_the_cookbook_has_at_least_ten_recipes_each_with_curl_and_python():
    sections = re.split(r"\n## ", cookbook())[1:]
    assert len(sections) >= 10
    for section in sections:
        assert blocks("bash", section) and blocks("python", section), section.splitlines()[0]


def test_every_curl_rule_is_accepted(client):
    rules = curl_rules()
    assert len(rules) >= 10
    for rule in rules:
        reply = client.post("/_sandbox/scenarios", json=rule, headers={"Authorization": f"Bearer {TOKEN}"})
        assert reply.status_code == 201, (rule, reply.get_json())


def test_every_curl_line_to_the_control_api_sends_the_token():
    lines = [line for script in blocks("bash", cookbook()) for line in script.splitlines() if "/_sandbox/" in line]
    assert lines and all(' -H "$A"' in line for line in lines)
    assert 'A="Authorization: Bearer $SANDBOX_TOKEN"' in cookbook()


@pytest.mark.parametrize(("title", "code"), recipes(), ids=[t.split(".")[0] for t, _ in recipes()])
def test_recipe(title, code, live, receiver, sandbox, monkeypatch):
    monkeypatch.chdir(REPOSITORY)  # the prelude reads fixtures/ relative to the repository root
    monkeypatch.setenv("SANDBOX_TOKEN", TOKEN)
    [prelude] = blocks("python", cookbook().split("\n## ")[0])
    namespace: dict = {}
    for source in (prelude, code):
        source = source.replace("http://127.0.0.1:8008", live.url).replace("http://127.0.0.1:5000", receiver.url)
        exec(compile(source, f"cookbook recipe {title}", "exec"), namespace)
