"""The start-up and plugin life-cycle benchmarks at a tiny size: each runs against real server processes (or the
plugin's real in-thread server) and every answer succeeds. Figures are printed, never asserted."""

from __future__ import annotations

from tests.test_bench import run


def test_startup_bench_starts_serve_and_the_container_command_and_reports_both():
    out = run("startup.py", "--quick")
    for server in ("serve ", "gunicorn "):
        assert server in out
    assert "spawn to healthy" in out and "first precreate" in out and "target: median spawn to healthy" in out


def test_plugin_lifecycle_bench_runs_life_cycle_tests_through_the_plugin():
    out = run("plugin_lifecycle.py", "--quick")
    assert "1 pytest runs of 5 life-cycle tests" in out and "per test, ms (min / median / max):" in out
    assert "CPU of the pytest process per test" in out and "target: median under 25 ms per test" in out
