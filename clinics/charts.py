"""Bar charts drawn on the server as inline SVG: no JavaScript, no chart library, no CDN.

`BarChart` holds what a chart says (categories, one or more series, a title and a description
for screen readers); `bar_chart_svg` turns it into the shapes `clinics/partials/_chart.html`
draws. Every chart sits beside a table with the same numbers, so nothing is only in the picture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 34
MAX_X_LABELS = 12
# Series colours come from CSS classes (static/css/vaidya.css), in this order.
SERIES_CLASSES = ("chart-s1", "chart-s2", "chart-s3")


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float]


@dataclass(frozen=True)
class BarChart:
    title: str
    desc: str
    labels: list[str]
    series: list[Series]
    unit: str = ""


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    tip: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class XLabel:
    x: float
    label: str


@dataclass
class ChartShapes:
    chart: BarChart
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    baseline: float = HEIGHT - BOTTOM
    label_y: float = HEIGHT - BOTTOM + 16
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    x_labels: list[XLabel] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)


def nice_ceiling(value: float) -> float:
    """The next 1, 2, 2.5 or 5 times a power of ten at or above `value` (1 for nothing)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bar_chart_svg(chart: BarChart) -> ChartShapes:
    """The bars, y-axis ticks (0, half, top) and at most MAX_X_LABELS category labels."""
    shapes = ChartShapes(chart=chart)
    count = len(chart.labels)
    top = nice_ceiling(max((v for s in chart.series for v in s.values), default=0))
    plot_height = shapes.baseline - TOP
    plot_width = shapes.right_edge - LEFT
    shapes.ticks = [
        Tick(y=shapes.baseline - plot_height * part, label=_number(top * part))
        for part in (0, 0.5, 1)
    ]
    shapes.legend = [
        (s.name, SERIES_CLASSES[i % len(SERIES_CLASSES)]) for i, s in enumerate(chart.series)
    ]
    if not count:
        return shapes
    group = plot_width / count
    gap = group * 0.15 if count > 1 else group * 0.3
    bar_width = (group - gap) / max(len(chart.series), 1)
    unit = f" {chart.unit}" if chart.unit else ""
    for i, label in enumerate(chart.labels):
        for j, series in enumerate(chart.series):
            value = series.values[i]
            height = plot_height * value / top
            shapes.bars.append(
                Bar(
                    x=round(LEFT + i * group + gap / 2 + j * bar_width, 2),
                    y=round(shapes.baseline - height, 2),
                    width=round(max(bar_width, 0.5), 2),
                    height=round(height, 2),
                    css=SERIES_CLASSES[j % len(SERIES_CLASSES)],
                    tip=f"{label}: {_number(value)}{unit} {series.name.lower()}",
                )
            )
    every = math.ceil(count / MAX_X_LABELS)
    shapes.x_labels = [
        XLabel(x=round(LEFT + i * group + group / 2, 2), label=label)
        for i, label in enumerate(chart.labels)
        if i % every == 0
    ]
    return shapes
