"""Horizontal bar charts as plain geometry for the SVG macro (templates/stats/_chart.html).

Positions are computed here so that the template only places shapes and the page needs no script. Each row's
label stands on a line of its own above its bars: long names (powiats, legal forms) are never cut short, and
the chart keeps one layout on a phone and on a desk.
"""
from dataclasses import dataclass

WIDTH = 400  # the viewBox's width; the SVG scales to the column (at most 30rem wide)
PAD = 8
LEGEND_LINE = 22  # one line per series when there are several
LABEL_HEIGHT = 20  # the row's label, above its bars
BAR_HEIGHT = 16
BAR_GAP = 3
ROW_GAP = 12
VALUE_ROOM = 56  # right of the longest bar, for its number
SERIES_CLASSES = ("stats-bar-1", "stats-bar-2")


@dataclass(frozen=True)
class Bar:
    y: float
    width: float
    value: int
    css_class: str
    text_x: float  # the number, just right of the bar
    text_y: float
    height: float = BAR_HEIGHT


@dataclass(frozen=True)
class ChartRow:
    label: str
    label_y: float
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class LegendItem:
    label: str
    y: float
    css_class: str


@dataclass(frozen=True)
class Chart:
    name: str  # the element ids' stem
    width: int
    height: float
    x: float  # where bars start
    legend: tuple[LegendItem, ...]
    rows: tuple[ChartRow, ...]


def _legend(series) -> tuple[LegendItem, ...]:
    """A key only when bars of several series share a row; one series is named by the caption."""
    if len(series) < 2:
        return ()
    return tuple(LegendItem(str(label), PAD + i * LEGEND_LINE, SERIES_CLASSES[i % len(SERIES_CLASSES)])
                 for i, label in enumerate(series))


def _bars(values, top: float, scale: float) -> tuple[Bar, ...]:
    bars = []
    for i, value in enumerate(values):
        y = top + i * (BAR_HEIGHT + BAR_GAP)
        width = round(value * scale, 1) if value else 0.0
        width = max(width, 1.0) if value else 0.0  # the smallest count still shows
        bars.append(Bar(y, width, value, SERIES_CLASSES[i % len(SERIES_CLASSES)], PAD + width + 4,
                        y + BAR_HEIGHT - 4))
    return tuple(bars)


def bar_chart(name: str, series, rows) -> Chart:
    """The chart of rows that have a `label` and `values` (one per series), scaled to the largest value."""
    legend = _legend(series)
    top = PAD + len(legend) * LEGEND_LINE + (PAD if legend else 0)
    largest = max((v for row in rows for v in row.values), default=0)
    scale = (WIDTH - 2 * PAD - VALUE_ROOM) / largest if largest else 0.0
    row_height = LABEL_HEIGHT + len(series) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP + ROW_GAP
    shaped = tuple(ChartRow(row.label, top + i * row_height + 14,
                            _bars(row.values, top + i * row_height + LABEL_HEIGHT, scale))
                   for i, row in enumerate(rows))
    return Chart(name, WIDTH, top + len(rows) * row_height - ROW_GAP + PAD, PAD, legend, shaped)
