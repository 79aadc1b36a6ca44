"""The checks `/health/` runs beyond the database, broker and workers: the apps above this one
register theirs when they start (`AppConfig.ready`), so that this project-level view needs
no import of them."""

from collections.abc import Callable

# name -> a check returning {item: "ok" or why not}
_checks: dict[str, Callable[[], dict[str, str]]] = {}


def register(name: str, check: Callable[[], dict[str, str]]) -> None:
    _checks[name] = check


def run_checks() -> dict[str, dict[str, str]]:
    return {name: check() for name, check in _checks.items()}
