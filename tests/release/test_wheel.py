"""The release as a user gets it: `python -m build` makes an sdist and a wheel (the wheel built from the sdist, so the
sdist is complete), both pass `twine check --strict`, and the wheel alone, installed in a fresh virtualenv with its
dependencies from the package index, serves the sandbox and passes the README's nutshell test against it.

Slow (marked `release`): a build in an isolated environment and a fresh virtualenv installed from the index take a
minute or more; CI runs it all the same, since nothing else proves the published package works.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import requests
from packaging.requirements import Requirement

from sandbox import __version__
from tests.examples.test_readme_nutshell import nutshell
from tests.test_cli import free_port

pytestmark = pytest.mark.release

REPO = Path(__file__).resolve().parents[2]
DEMO_ALIPAY_APP = "2021000000000001"
# What the repository holds that is no source of the package; copying the rest keeps the build out of the checkout.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "venv", "node_modules", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
    ".ruff_cache", "artifacts", "site",
)  # fmt: skip


def run(argv: list, cwd: Path, timeout: float = 600, env: dict | None = None) -> str:
    done = subprocess.run([str(arg) for arg in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{argv}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def user_environment() -> dict[str, str]:
    """This environment without what ties a process to the checkout (PYTHONPATH, VIRTUAL_ENV) or to a sandbox."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("PYTHONPATH", "VIRTUAL_ENV") and not name.startswith("SANDBOX_")
    }
    return {**env, "no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost"}


def pinned(name: str) -> str:
    """A requirement of the `test` extra, as pyproject.toml pins it."""
    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    [requirement] = [r for r in extra if Requirement(r).name == name]
    return requirement


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source") / "paysandbox"
    shutil.copytree(REPO, source, symlinks=True, ignore=NOT_SOURCE)
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", out, source], cwd=source)
    return out


def test_build_makes_an_sdist_and_a_wheel_of_this_version_that_pass_twine_check(dist):
    assert sorted(path.name for path in dist.iterdir()) == [
        f"paysandbox-{__version__}-py3-none-any.whl",
        f"paysandbox-{__version__}.tar.gz",
    ]
    checked = run([sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir())], cwd=dist)
    assert checked.count("PASSED") == 2, checked


def test_the_wheel_holds_every_file_the_sandbox_reads_at_run_time(dist):
    [wheel] = dist.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    # Templates, static files and the TEST-ONLY fixtures (sandbox/fixtures links to fixtures/): every file of the
    # package directory that is not Python source, followed through the link as the build follows it.
    data = {
        (Path(folder) / name).relative_to(REPO).as_posix()
        for folder, _, files in os.walk(REPO / "sandbox", followlinks=True)
        if "__pycache__" not in Path(folder).parts
        for name in files
        if not name.endswith(".py")
    }
    assert any(name.startswith("sandbox/fixtures/alipay/demo/") for name in data)
    assert data <= names, sorted(data - names)
    assert f"paysandbox-{__version__}.dist-info/licenses/LICENSE" in names


def test_the_wheel_alone_in_a_fresh_virtualenv_serves_and_passes_the_readme_nutshell(dist, tmp_path):
    [wheel] = dist.glob("*.whl")
    work = tmp_path / "work"  # the current directory: nothing of the checkout is importable from it
    work.mkdir()
    env = user_environment()
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv], cwd=work, env=env)
    python, paysandbox = venv / "bin" / "python", venv / "bin" / "paysandbox"
    # The wheel's dependencies come from the package index, as a user's do; pytest and the SDK the nutshell uses go
    # beside it, at the versions the test extra pins.
    run(
        [python, "-m", "pip", "install", "--quiet", wheel, pinned("pytest"), pinned("python-alipay-sdk")],
        cwd=work,
        env=env,
    )
    where = run([python, "-c", "import sandbox; print(sandbox.__file__)"], cwd=work, env=env)
    assert Path(where.strip()).is_relative_to(venv), where  # the installed package, not the checkout
    assert run([paysandbox, "--version"], cwd=work, env=env) == f"paysandbox {__version__}\n"

    port = free_port()
    server = subprocess.Popen(
        [paysandbox, "serve", "--port", str(port)],
        cwd=work,
        env={**env, "SANDBOX_LOG_LEVEL": "WARNING"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        banner = server.stdout.readline()  # printed once the socket listens
        assert "serving on" in banner, banner + server.stdout.read()
        with requests.Session() as http:
            http.trust_env = False
            assert http.get(f"{url}/_sandbox/health", timeout=10).json() == {"status": "ok", "version": __version__}
            # The demo merchants are registered from the fixtures inside the wheel.
            merchants = http.get(f"{url}/_sandbox/merchants", timeout=10).json()
            assert DEMO_ALIPAY_APP in str(merchants), merchants

        (work / "test_nutshell.py").write_text(nutshell())
        done = subprocess.run(
            [python, "-m", "pytest", "-p", "no:cacheprovider", "--sandbox-url", url, "test_nutshell.py"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout + done.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            log, _ = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            log, _ = server.communicate()
    assert server.returncode == 0 and "Traceback" not in log, log
