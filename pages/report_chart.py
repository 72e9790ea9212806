"""The leadership report's chart: each indicator's baseline, target and actual as bars,
one row of bars per indicator on a scale of its own (indicators measure different things),
drawn by matplotlib as SVG for the PDF to embed as vectors.

Labels come in the reader's language, already translated and formatted by the caller;
matplotlib lays out Arabic itself (shaped, right to left). On a right-to-left page the
bars grow from the right and the names stand on the right.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import BytesIO

from matplotlib.figure import Figure
from picycle.engine.read_models import IndicatorResult

COLOURS = {"baseline": "#8c8c8c", "target": "#1f5f99", "actual": "#2e7d32"}
ROW_INCHES = 0.62
WIDTH_INCHES = 7.0
TITLE_LENGTH = 100  # characters of an indicator's name over its bars


@dataclass(frozen=True)
class ChartWords:
    """What the chart says, in the reader's language."""

    baseline: str
    target: str
    actual: str
    not_measured: str


def indicator_chart(
    indicators: Sequence[IndicatorResult],
    words: ChartWords,
    number: Callable[[float], str],
    rtl: bool,
) -> bytes:
    """The chart as SVG text (bytes); one row per indicator, in the order given."""
    figure = Figure(figsize=(WIDTH_INCHES, 0.5 + ROW_INCHES * len(indicators)))
    axes = figure.subplots(len(indicators), 1, squeeze=False)[:, 0]
    series = [("baseline", words.baseline), ("target", words.target), ("actual", words.actual)]
    for ax, indicator in zip(axes, indicators, strict=True):
        values = [getattr(indicator, key) for key, _ in series]
        drawn = [value if value is not None else 0 for value in values]
        ax.barh(
            [label for _, label in series],
            drawn,
            color=[COLOURS[key] for key, _ in series],
            height=0.7,
        )
        # Each figure just past its bar's end, towards the open side of the page.
        for row, value in enumerate(values):
            ax.annotate(
                number(value) if value is not None else words.not_measured,
                (drawn[row], row),
                xytext=(-3 if rtl else 3, 0),
                textcoords="offset points",
                ha="right" if rtl else "left",
                va="center",
                fontsize=7,
            )
        # Someone's own words: a "$" is a dollar, not the start of a formula to typeset.
        title = (
            indicator.name
            if len(indicator.name) <= TITLE_LENGTH
            else indicator.name[: TITLE_LENGTH - 1] + "…"
        )
        ax.set_title(title, fontsize=8, loc="right" if rtl else "left", pad=3, parse_math=False)
        ax.invert_yaxis()  # baseline on top, as the table reads
        ax.set_xlim(0, max(drawn + [1]) * 1.25)
        ax.tick_params(labelsize=7, length=0)
        ax.set_xticks([])
        for side in ("top", "right", "left", "bottom"):
            ax.spines[side].set_visible(False)
        if rtl:
            ax.invert_xaxis()
            ax.yaxis.tick_right()
    figure.tight_layout(pad=0.3, h_pad=0.4)
    svg = BytesIO()
    # No metadata: nothing for the PDF to skip, and the same chart for the same figures.
    figure.savefig(
        svg, format="svg", metadata={"Creator": None, "Date": None, "Format": None, "Type": None}
    )
    return svg.getvalue()
