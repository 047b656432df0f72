"""The dashboard's charts as PNG bytes: pure drawing, numbers in, image out.

matplotlib's object API on the Agg canvas (no pyplot, no global figure state, no display), so
two requests can draw at once in worker threads. DejaVu Sans (matplotlib's own) prints the
Vietnamese labels.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

INK = "#1d2330"
MUTED = "#5b6475"
TARGET_RED = "#a11d21"
GROUP_COLOURS = ("#0b57a4", "#2e9d57", "#b7bcc8")  # citizen, volunteer, counter


@dataclass(frozen=True, slots=True)
class ChannelSeries:
    label: str
    values: tuple[int, ...]


def _figure(width: float, height: float) -> Figure:
    # Fixed margins: a layout engine (constrained, tight) doubles the drawing time.
    figure = Figure(figsize=(width, height), dpi=100)
    figure.subplots_adjust(left=0.09, right=0.98, top=0.88, bottom=0.12)
    figure.patch.set_facecolor("white")
    return figure


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.savefig(out, format="png")
    return out.getvalue()


def _style(axes: object) -> None:
    from matplotlib.axes import Axes

    assert isinstance(axes, Axes)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.spines["left"].set_color(MUTED)
    axes.spines["bottom"].set_color(MUTED)
    axes.tick_params(colors=INK, labelsize=9)
    axes.grid(axis="y", color="#e3e6ec", linewidth=0.8)
    axes.set_axisbelow(True)


def ratio_chart(
    labels: Sequence[str],
    ratios: Sequence[float | None],
    *,
    target: float,
    title: str,
    target_label: str,
    width: float = 6.4,
    height: float = 3.2,
) -> bytes:
    """The online ratio by quarter as bars, with the target as a red line; a quarter with no
    dossier has no bar."""
    figure = _figure(width, height)
    axes = figure.add_subplot()
    _style(axes)
    shown = [0.0 if r is None else 100 * r for r in ratios]
    colours = [
        "#d7dbe3" if r is None else ("#2e9d57" if r >= target else "#e0a100") for r in ratios
    ]
    bars = axes.bar(range(len(labels)), shown, color=colours, width=0.6)
    for bar, ratio in zip(bars, ratios, strict=True):
        text = "—" if ratio is None else f"{100 * ratio:.1f}%".replace(".", ",")
        axes.annotate(
            text,
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=9,
            color=INK,
        )
    axes.axhline(100 * target, color=TARGET_RED, linewidth=1.6, linestyle="--", label=target_label)
    axes.legend(fontsize=8, frameon=False, loc="upper left")
    axes.set_ylim(0, min(105.0, max([100 * target, *shown]) * 1.25 + 2))
    axes.set_xticks(range(len(labels)), list(labels))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0f}%"))
    axes.set_title(title, fontsize=11, color=INK, loc="left")
    return _png(figure)


def channel_chart(
    labels: Sequence[str],
    series: Sequence[ChannelSeries],
    *,
    title: str,
    width: float = 6.4,
    height: float = 3.2,
) -> bytes:
    """Dossiers received by channel group, stacked per quarter."""
    figure = _figure(width, height)
    axes = figure.add_subplot()
    _style(axes)
    bottoms = [0] * len(labels)
    for colour, one in zip(GROUP_COLOURS, series, strict=False):
        axes.bar(
            range(len(labels)), one.values, bottom=bottoms, color=colour, width=0.6, label=one.label
        )
        bottoms = [b + v for b, v in zip(bottoms, one.values, strict=True)]
    for x, total in enumerate(bottoms):
        axes.annotate(
            str(total),
            (x, total),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=9,
            color=INK,
        )
    axes.set_ylim(0, max([1, *bottoms]) * 1.18)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xticks(range(len(labels)), list(labels))
    axes.legend(fontsize=8, frameon=False, loc="upper left", ncols=1)
    axes.set_title(title, fontsize=11, color=INK, loc="left")
    return _png(figure)
