"""Test-suite settings shared by every test module."""

import os

from hypothesis import HealthCheck, settings

# Property tests call mpmath at 50 digits and run beside a book build on two cores: a
# per-example deadline would make them fail for the machine's load, not for the maths.
settings.register_profile(
    "dev", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
# CI explores the same examples on every run, so that a red run is reproducible.
settings.register_profile(
    "ci",
    parent=settings.get_profile("dev"),
    derandomize=True,
    database=None,
    print_blob=True,
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
