"""The GitHub Actions workflows, which cannot run here: linted by zizmor (GitHub's workflow schema and its security
audits, offline), which must also refuse broken copies of them, and read for what the release depends on (the job
order, each job's permissions, pinned actions, the image's platforms and tags)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sysconfig
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
PINNED = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")


def zizmor(workflows: Path) -> subprocess.CompletedProcess:
    """zizmor over a folder of workflows, offline (no GitHub API), failing on any file it cannot read as one."""
    program = Path(sysconfig.get_path("scripts")) / "zizmor"
    if not program.exists():
        pytest.fail("zizmor is missing: pip install -e '.[test]' (scripts/test.sh installs it)", pytrace=False)
    return subprocess.run(
        [program, "--offline", "--strict-collection", "--no-progress", str(workflows)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as true
    return workflow


def steps_using(job: dict, action: str) -> list[dict]:
    return [step for step in job.get("steps", []) if step.get("uses", "").startswith(f"{action}@")]


@pytest.fixture
def broken(tmp_path) -> Path:
    """A copy of the workflows to break, in a folder of its own."""
    copy = tmp_path / ".github" / "workflows"
    shutil.copytree(WORKFLOWS, copy)
    return copy


def test_zizmor_finds_nothing_in_the_workflows():
    linted = zizmor(WORKFLOWS)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "No findings" in linted.stdout


def test_zizmor_refuses_a_workflow_that_breaks_githubs_schema(broken):
    ci = broken / "ci.yml"
    ci.write_text(ci.read_text().replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest"))
    linted = zizmor(broken)
    assert linted.returncode != 0 and "runs_on" in linted.stderr, linted.stdout + linted.stderr


def test_zizmor_refuses_a_workflow_that_runs_what_a_pull_request_wrote(broken):
    ci = broken / "ci.yml"
    ci.write_text(ci.read_text().replace("run: bash .ci/run", 'run: echo "${{ github.event.pull_request.title }}"'))
    linted = zizmor(broken)
    assert linted.returncode != 0 and "template-injection" in linted.stdout, linted.stdout + linted.stderr


def test_ci_runs_the_test_command_on_pushes_and_pull_requests_in_debian_as_root():
    ci = load("ci.yml")
    assert {"push", "pull_request", "workflow_call"} <= set(ci["on"])
    [job] = ci["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    assert job["container"]["image"].startswith("python:3.11-bookworm")  # the platform scripts/test.sh is for
    assert [step["run"] for step in job["steps"] if "run" in step] == ["bash .ci/run"]
    assert ci["permissions"] == {"contents": "read"}


def test_a_v_tag_runs_the_tests_then_the_build_then_pypi_and_the_image():
    release = load("release.yml")
    assert release["on"] == {"push": {"tags": ["v*"]}}
    assert release["permissions"] == {}  # each job asks for what it needs
    jobs = release["jobs"]
    assert jobs["test"]["uses"] == "./.github/workflows/ci.yml"
    needs = {name: job.get("needs") for name, job in jobs.items()}
    assert needs == {"test": None, "build": "test", "publish-pypi": "build", "image": "build"}
    assert {name: job["permissions"] for name, job in jobs.items()} == {
        "test": {"contents": "read"},
        "build": {"contents": "read"},
        "publish-pypi": {"id-token": "write"},
        "image": {"contents": "read", "packages": "write"},
    }


def test_pypi_is_published_by_trusted_publishing_from_the_pypi_environment():
    job = load("release.yml")["jobs"]["publish-pypi"]
    assert job["environment"]["name"] == "pypi"
    [publish] = steps_using(job, "pypa/gh-action-pypi-publish")
    assert "password" not in publish.get("with", {})  # no stored token: PyPI trusts the workflow's OIDC token


def test_the_build_checks_the_tag_against_the_version_and_the_metadata_with_twine():
    build = load("release.yml")["jobs"]["build"]
    script = "\n".join(step.get("run", "") for step in build["steps"])
    assert "python -m build" in script and "twine check --strict" in script
    assert "${TAG#v}" in script and "dist/paysandbox-" in script


def test_the_image_is_built_for_amd64_and_arm64_and_tagged_version_minor_and_latest():
    image = load("release.yml")["jobs"]["image"]
    for action in ("docker/setup-qemu-action", "docker/setup-buildx-action", "docker/login-action"):
        assert steps_using(image, action), action
    [login] = steps_using(image, "docker/login-action")
    assert login["with"] == {
        "registry": "ghcr.io",
        "username": "${{ github.actor }}",
        "password": "${{ secrets.GITHUB_TOKEN }}",
    }
    [meta] = steps_using(image, "docker/metadata-action")
    tags = meta["with"]["tags"].split()
    assert tags == ["type=semver,pattern={{version}}", "type=semver,pattern={{major}}.{{minor}}"]
    assert meta["with"]["flavor"] == "latest=auto"  # latest for a release tag, not for a pre-release
    [push] = steps_using(image, "docker/build-push-action")
    assert set(push["with"]["platforms"].split(",")) == {"linux/amd64", "linux/arm64"}
    assert push["with"]["push"] is True
    assert push["with"]["tags"] == "${{ steps.meta.outputs.tags }}"
    assert push["with"]["labels"] == "${{ steps.meta.outputs.labels }}"


def test_every_action_is_pinned_to_a_commit_with_its_version_beside_it():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for line in path.read_text().splitlines():
            uses = re.match(r"\s*(?:- )?uses: (\S+)(.*)", line)
            if uses and not uses.group(1).startswith("./"):
                assert PINNED.fullmatch(uses.group(1)), f"{path.name}: {line.strip()}"
                assert re.match(r"\s+# v\d", uses.group(2)), f"{path.name}: {line.strip()} (say which version)"


def test_the_image_labels_name_the_licences_and_source_pyproject_names():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    dockerfile = (REPO / "Dockerfile").read_text()
    assert f'org.opencontainers.image.licenses="{project["license"]}"' in dockerfile
    assert f'org.opencontainers.image.source="{project["urls"]["Source"]}"' in dockerfile
    [meta] = steps_using(load("release.yml")["jobs"]["image"], "docker/metadata-action")
    assert meta["with"]["labels"] == f"org.opencontainers.image.licenses={project['license']}"
