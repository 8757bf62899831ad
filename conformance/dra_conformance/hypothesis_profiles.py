"""Named hypothesis settings for the suite: a quick CI run and a thorough certification run.

Socket and cluster examples are slow (real gRPC calls, real pods), so the budgets are small
numbers of examples with no deadline; failing examples are printed as reproducible blobs so a
report's seed and blob replay exactly what failed.
"""

from __future__ import annotations

PROFILES = {"ci": 20, "thorough": 200, "dev": 5}  # max_examples


def register() -> None:
    """Register the profiles with hypothesis (idempotent)."""
    from hypothesis import HealthCheck, Phase, settings  # noqa: PLC0415

    for name, examples in PROFILES.items():
        settings.register_profile(
            f"dra-{name}", max_examples=examples, deadline=None, print_blob=True,
            stateful_step_count=30 if name == "thorough" else 10,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                   HealthCheck.function_scoped_fixture],
            phases=tuple(Phase) if name != "dev" else (Phase.explicit, Phase.generate))


def load(name: str) -> None:
    """Make profile ``name`` (ci, thorough, dev) the current hypothesis settings."""
    from hypothesis import settings  # noqa: PLC0415

    if name not in PROFILES:
        raise ValueError(f"unknown hypothesis profile {name!r}; use one of: "
                         f"{', '.join(PROFILES)}")
    register()
    settings.load_profile(f"dra-{name}")
