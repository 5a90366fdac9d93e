"""Fuzzing every gateway through the Flask test client: each mutated request gets the gateway's native answer, never
a 5xx, and no `paysandbox` logger records an error (a crash is logged with its traceback even when it is answered).

The cases are valid signed requests of each gateway's methods, mutated (fields dropped, repeated, retyped; hostile
values; broken bytes and headers) and mostly re-signed so they reach the handlers. Case i of a seed is the same on
every run: a failure names its case, and `python bench/fuzz.py --seed 20240601 --gateway NAME --show I` prints it.
"""

from __future__ import annotations

import pytest

from sandbox.testing.fuzz import FUZZERS, runner

CASES = 300
SEED = 20240601


@pytest.mark.parametrize("gateway", sorted(FUZZERS))
def test_mutated_requests_get_native_answers_and_log_no_error(client, gateway):
    with runner.logged_errors() as errors:
        report = runner.run(FUZZERS[gateway](), runner.flask_sender(client), CASES, SEED)
    assert report.requests > CASES
    assert not report.problems, "\n".join(report.problems[:10])
    assert not errors.records, "\n".join(errors.summary()[:5])
