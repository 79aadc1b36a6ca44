"""The security suite: one module per class of attack, each test written against a hole
that was really there. Dashboard pages draw charts: they stay in this process's memory."""

from tests.dashboard.conftest import _charts_cache_in_memory  # noqa: F401
