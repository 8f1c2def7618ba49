"""The workbench's charts, drawn on the server as inline SVG numbers (like insight/charts.py): no library."""
from dataclasses import dataclass

BAR_HEIGHT, BAR_GAP, LABEL_WIDTH, VALUE_WIDTH = 22, 8, 64, 48  # VALUE_WIDTH: room for the number after the longest bar
CHART_WIDTH = 320


@dataclass
class Bar:
    """One horizontal bar: its row, its length on the chart, and what it says."""

    label: str
    value: float
    shown: str
    y: float
    width: float


def bars(items, width=CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH):
    """(label, value, shown) triples as bars scaled to the largest value; the chart's height with them."""
    top = max((value for _, value, _ in items), default=0) or 1
    drawn = [Bar(label, value, shown, round(index * (BAR_HEIGHT + BAR_GAP), 1), round(max(value, 0) / top * width, 1))
             for index, (label, value, shown) in enumerate(items)]
    return drawn, len(items) * (BAR_HEIGHT + BAR_GAP)
