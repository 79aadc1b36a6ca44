"""What every panel module shares: the panel itself and the small formatting helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

TOP_FEATURES = 6  # features shown by default on the insights page: the most associated
CLASS_COLOURS = {2: ["#1d7a46", "#b42318"], 3: ["#1d7a46", "#e08a00", "#b42318"]}


@dataclass
class Panel:
    name: str
    title: str
    svg: str
    columns: list[str]
    rows: list[list]
    note: str = ""
    wide: bool = False  # chart and table across the whole page, one under the other
    stack: bool = False  # chart above its table (tables with many columns)
    collapsed: bool = False  # long tables start folded; the CSV has every row
    extra: dict = field(default_factory=dict)


def pct(value) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def num(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def period_label(period, weekly: bool) -> str:
    if not hasattr(period, "strftime"):
        return str(period)
    return period.strftime("w/c %d %b %Y") if weekly else period.strftime("%b %Y")


def pivot(
    rows: list[dict], key: str, series: list[str], weekly: bool
) -> tuple[list[str], dict[str, list]]:
    periods = sorted({r["period"] for r in rows})
    labels = [period_label(p, weekly) for p in periods]
    values = {s: [0] * len(periods) for s in series}
    index = {p: i for i, p in enumerate(periods)}
    for r in rows:
        values.setdefault(r[key], [0] * len(periods))[index[r["period"]]] += r["n"]
    return labels, {k: v for k, v in values.items() if any(v)}


def field_label(scorecard, name: str) -> str:
    try:
        return scorecard.field(name).label
    except KeyError:
        return name
