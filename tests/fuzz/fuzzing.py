"""Hypothesis settings of the fuzz suites, fixed for CI: derandomized (the same cases on every run), no example
database, no deadline, and a budget of examples per test (`VESTIBULE_FUZZ_SCALE=10` multiplies it for a longer
hunt on a workstation)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_PROFILE = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much, HealthCheck.large_base_example],
)
SCALE = max(1, int(os.environ.get("VESTIBULE_FUZZ_SCALE", "1")))


def budget(examples: int) -> settings:
    return settings(_PROFILE, max_examples=examples * SCALE)
