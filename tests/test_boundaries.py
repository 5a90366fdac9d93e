"""The core imports no Flask and no gateway; the merchant client imports nothing server-side."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sandbox"


def imports_of(folder: Path) -> dict[str, set[str]]:
    found = {}
    for path in folder.rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[str(path.relative_to(PACKAGE))] = names
    return found


@pytest.mark.parametrize(("path", "names"), sorted(imports_of(PACKAGE / "core").items()))
def test_core_imports_no_flask_and_no_gateway(path, names):
    bad = {
        n for n in names if n.startswith(("flask", "werkzeug", "sandbox.gateways", "sandbox.pages", "sandbox.admin"))
    }
    assert not bad, f"{path} imports {bad}"


@pytest.mark.parametrize(("path", "names"), sorted(imports_of(PACKAGE / "merchant").items()))
def test_merchant_client_imports_only_shared_helpers(path, names):
    # sandbox.favicon: the icon every page of the package shows, the demo shop's included (no sandbox state).
    allowed = {"sandbox.core.crypto", "sandbox.core.canonical", "sandbox.core", "sandbox.favicon"}
    server_side = {
        n for n in names if n.startswith("sandbox") and n not in allowed and not n.startswith("sandbox.merchant")
    }
    assert not server_side, f"{path} imports {server_side}"
