"""Hypothesis settings for devlint's property tests, as profiles.

The suite must stay fast, so the default profile runs few examples; a longer hunt is one
environment variable away:

    DEVLINT_FUZZ=thorough python -m pytest tests/test_fuzz_core.py tests/test_fuzz_projects.py

Deadlines are off: the first example of a test pays for imports and plugin loading.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large]
settings.register_profile("devlint-fast", max_examples=60, deadline=None, suppress_health_check=_QUIET)
settings.register_profile("devlint-thorough", max_examples=2000, deadline=None, suppress_health_check=_QUIET)

PROFILE = "devlint-thorough" if os.environ.get("DEVLINT_FUZZ") == "thorough" else "devlint-fast"
FUZZ = settings(settings.get_profile(PROFILE))
CHEAP = settings(FUZZ, max_examples=FUZZ.max_examples * 4)  # for tests that take well under 1 ms
