"""Server-side SVG charts with matplotlib (Agg backend: no display, no browser library, no CDN).

Each function takes plain numbers and returns an SVG string. Charts are cached by a hash of
their name and data, so a page drawn from stored figures renders its charts once.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from django.core.cache import caches  # noqa: E402

PALETTE = ["#1f5f8b", "#e08a00", "#1d7a46", "#b42318", "#6b4fa0", "#5b6b7c", "#2a9d8f"]
RECOMMENDATION_COLOURS = {"approve": "#1d7a46", "refer": "#e08a00", "decline": "#b42318"}
CACHE_SECONDS = 7 * 24 * 3600
_lock = threading.Lock()  # pyplot's figure manager is not thread-safe

plt.rcParams.update(
    {
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": "#e3e8ee",
        "grid.linewidth": 0.8,
        "axes.axisbelow": True,
        "svg.fonttype": "none",  # text stays text: smaller files, crisp and selectable
        "font.family": "DejaVu Sans",
        # Labels are the lender's data (officers' names, categories): a `$` is a dollar,
        # never the start of mathtext, which fails on `$\frac{$` and would break the chart.
        "text.parse_math": False,
    }
)


def _svg(figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    # The SVG keeps its natural size (so text reads alike in every chart); CSS only shrinks it.
    return text.replace("<svg", '<svg class="chart-svg" role="img"', 1)


# A change to this module (colours, sizes) must not serve SVGs drawn by its older self.
_STYLE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def cached(name: str, draw: Callable[..., str], **data) -> str:
    """`draw(**data)` through the charts cache, keyed by the chart's name and data."""
    payload = json.dumps(data, sort_keys=True, default=str)
    key = f"chart:{_STYLE}:{name}:{hashlib.sha256(payload.encode()).hexdigest()}"
    cache = caches["charts"]
    svg = cache.get(key)
    if svg is None:
        with _lock:
            svg = draw(**data)
        cache.set(key, svg, CACHE_SECONDS)
    return svg


WIDTH = 6.4  # inches; every chart is drawn this wide so its text scales alike on the page
WIDE = 10.0  # charts of full-width panels


def _figure(width: float = WIDTH, height: float = 3.6):
    return plt.subplots(figsize=(width, height), dpi=100)


def _legend_outside(axes) -> None:
    axes.legend(frameon=False, fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _empty(message: str) -> str:
    figure, axes = _figure(6.4, 1.2)
    axes.axis("off")
    axes.text(0.5, 0.5, message, ha="center", va="center", color="#5b6b7c")
    return _svg(figure)


def stacked_bars(
    *,
    categories: Sequence[str],
    series: dict[str, Sequence[float]],
    title: str = "",
    ylabel: str = "",
    colours: dict[str, str] | None = None,
    percent: bool = False,
    horizontal: bool = False,
    width: float = WIDTH,
    legend_below: bool = False,
) -> str:
    """Bars per category, one stacked segment per series."""
    if not categories:
        return _empty("No data yet.")
    height = max(2.4, 0.32 * len(categories) + 1.0) if horizontal else 3.6
    figure, axes = _figure(width, height)
    positions = np.arange(len(categories))
    bottom = np.zeros(len(categories))
    for i, (name, values) in enumerate(series.items()):
        values = np.asarray(values, dtype=float)
        colour = (colours or {}).get(name, PALETTE[i % len(PALETTE)])
        if horizontal:
            axes.barh(positions, values, left=bottom, label=name, color=colour, height=0.7)
        else:
            axes.bar(positions, values, bottom=bottom, label=name, color=colour, width=0.75)
        bottom += values
    if not horizontal and len(categories) < 6:
        axes.set_xlim(-0.6, 5.4)  # a lone month is a bar, not a wall
    if horizontal:
        axes.set_yticks(positions, categories)
        axes.invert_yaxis()
        axes.set_xlabel(ylabel)
        if percent:
            axes.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    else:
        step = max(1, len(categories) // 12)
        axes.set_xticks(positions[::step], [categories[i] for i in positions[::step]])
        plt.setp(axes.get_xticklabels(), rotation=30 if len(categories) > 6 else 0, ha="right")
        axes.set_ylabel(ylabel)
        if percent:
            axes.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    if title:
        axes.set_title(title, loc="left")
    if len(series) > 1 and legend_below:
        axes.legend(
            frameon=False,
            fontsize=9,
            loc="upper center",
            ncol=len(series),
            bbox_to_anchor=(0.4, -0.18 if horizontal else -0.25),
        )
    elif len(series) > 1:
        _legend_outside(axes)
    return _svg(figure)


def grouped_bars(
    *,
    categories: Sequence[str],
    series: dict[str, Sequence[float | None]],
    title: str = "",
    ylabel: str = "",
    percent: bool = False,
    reference_line: float | None = None,
    reference_label: str = "",
) -> str:
    """Side-by-side bars per category, one bar per series."""
    if not categories:
        return _empty("No data yet.")
    figure, axes = _figure(6.4, 3.6)
    positions = np.arange(len(categories))
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        values = np.asarray([np.nan if v is None else v for v in values], dtype=float)
        axes.bar(
            positions + (i - (len(series) - 1) / 2) * width,
            values,
            width,
            label=name,
            color=PALETTE[i % len(PALETTE)],
        )
    if reference_line is not None:
        axes.axhline(
            reference_line,
            color="#b42318",
            linestyle="--",
            linewidth=1.2,
            label=reference_label or None,
        )
    axes.set_xticks(positions, categories)
    plt.setp(axes.get_xticklabels(), rotation=30 if len(categories) > 5 else 0, ha="right")
    axes.set_ylabel(ylabel)
    if percent:
        axes.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    if title:
        axes.set_title(title, loc="left")
    if len(series) > 1 or reference_line is not None:
        axes.legend(frameon=False, fontsize=9, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _svg(figure)


def lines(
    *,
    curves: dict[str, tuple[Sequence[float], Sequence[float]]],
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    diagonal: bool = False,
    markers: Sequence[tuple[float, float, str]] = (),
    vlines: Sequence[tuple[float, str]] = (),
    hlines: Sequence[tuple[float, str]] = (),
    unit_square: bool = False,
    xticks: Sequence[str] | None = None,
    wide: bool = False,
) -> str:
    """Line chart of named (x, y) curves, with optional marked points and reference lines."""
    if not curves:
        return _empty("No data yet.")
    if wide:
        figure, axes = _figure(WIDE, 3.6)
    else:
        figure, axes = _figure(WIDTH if not unit_square else 5.6, 4.2 if unit_square else 3.6)
    for i, (name, (x, y)) in enumerate(curves.items()):
        x = np.asarray([np.nan if v is None else v for v in x], dtype=float)
        y = np.asarray([np.nan if v is None else v for v in y], dtype=float)
        axes.plot(
            x,
            y,
            label=name,
            color=PALETTE[i % len(PALETTE)],
            linewidth=1.8,
            marker="o" if len(x) <= 24 else None,
            markersize=3,
        )
    if diagonal:
        axes.plot([0, 1], [0, 1], color="#9aa7b4", linestyle=":", linewidth=1, label="chance")
    for j, (x, label) in enumerate(vlines):
        axes.axvline(
            x, color=PALETTE[(j + 3) % len(PALETTE)], linestyle="--", linewidth=1.2, label=label
        )
    for j, (x, label) in enumerate(hlines):
        colour = "#b42318" if j == len(hlines) - 1 else "#e08a00"
        axes.axhline(x, color=colour, linestyle="--", linewidth=1.1, label=label)
    for x, y, label in markers:
        axes.plot(
            [x], [y], marker="D", color="#b42318", markersize=7, linestyle="none", label=label
        )
    if unit_square:
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1.02)
    if xticks is not None:
        step = max(1, len(xticks) // 10)
        axes.set_xticks(range(0, len(xticks), step), list(xticks)[::step])
        plt.setp(axes.get_xticklabels(), rotation=30, ha="right")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    if title:
        axes.set_title(title, loc="left")
    entries = len(curves) + diagonal + len(vlines) + len(hlines) + len(markers)
    if entries > 2:
        _legend_outside(axes)
    else:
        axes.legend(frameon=False, fontsize=9, loc="best")
    return _svg(figure)


def heatmap(
    *,
    matrix: Sequence[Sequence[float | None]],
    rows: Sequence[str],
    columns: Sequence[str],
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    diverging: bool = False,
    value_format: str = "{:.0f}",
) -> str:
    """A matrix as coloured cells, with the value written in each cell when it fits."""
    values = np.asarray([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)
    if values.size == 0:
        return _empty("No data yet.")
    size = max(len(rows), len(columns))
    width = WIDE if size > 10 else WIDTH
    height = min(9.0, max(3.0, 0.36 * len(rows) + 1.6))
    figure, axes = _figure(width, height)
    axes.grid(False)
    aspect = "equal" if size > 4 else "auto"  # a 3 x 3 matrix fills its figure
    if diverging:
        image = axes.imshow(values, cmap="RdBu_r", vmin=-1, vmax=1, aspect=aspect)
    else:
        image = axes.imshow(values, cmap="Blues", aspect=aspect)
    axes.set_xticks(range(len(columns)), columns)
    axes.set_yticks(range(len(rows)), rows)
    plt.setp(axes.get_xticklabels(), rotation=45 if len(columns) > 3 else 0, ha="right")
    if size <= 14:
        high = np.nanmax(np.abs(values)) if np.isfinite(values).any() else 1
        for (i, j), v in np.ndenumerate(values):
            if np.isnan(v):
                continue
            dark = abs(v) > 0.6 * high
            axes.text(
                j,
                i,
                value_format.format(v),
                ha="center",
                va="center",
                fontsize=9,
                color="white" if dark else "#1d2733",
            )
    figure.colorbar(image, ax=axes, shrink=0.8)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    if title:
        axes.set_title(title, loc="left")
    return _svg(figure)


def scatter(
    *,
    x: Sequence[float],
    y: Sequence[float],
    groups: Sequence[int],
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
) -> str:
    """Points coloured by group (segment)."""
    if not x:
        return _empty("No data yet.")
    figure, axes = _figure(WIDE, 4.6)
    groups = np.asarray(groups)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    for i, group in enumerate(sorted(set(groups.tolist()))):
        mask = groups == group
        axes.scatter(
            x[mask],
            y[mask],
            s=8,
            alpha=0.6,
            color=PALETTE[i % len(PALETTE)],
            label=f"segment {group}",
            rasterized=False,
            linewidths=0,
        )
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    if title:
        axes.set_title(title, loc="left")
    _legend_outside(axes)
    return _svg(figure)


def horizontal_bars(
    *,
    labels: Sequence[str],
    values: Sequence[float],
    title: str = "",
    xlabel: str = "",
    colours: Sequence[str] | None = None,
    vlines: Sequence[tuple[float, str]] = (),
) -> str:
    """One horizontal bar per label (importances, PSI per input)."""
    if not labels:
        return _empty("No data yet.")
    figure, axes = _figure(6.4, max(2.4, 0.3 * len(labels) + 1.0))
    positions = np.arange(len(labels))
    axes.barh(positions, np.asarray(values, dtype=float), color=colours or PALETTE[0], height=0.7)
    for j, (x, label) in enumerate(vlines):
        axes.axvline(
            x, color=["#e08a00", "#b42318"][j % 2], linestyle="--", linewidth=1.1, label=label
        )
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()
    axes.set_xlabel(xlabel)
    if vlines:
        axes.legend(frameon=False, fontsize=9, loc="lower right")
    if title:
        axes.set_title(title, loc="left")
    return _svg(figure)
