"""Small charts drawn on the server as inline SVG numbers: no chart library, no JavaScript."""
from dataclasses import dataclass

TREND_WIDTH, TREND_HEIGHT, TREND_PAD = 300, 64, 4
# The value axis spans at least this share of the largest value: a −0.1 % dip stays a ripple
# instead of filling the box as a deep V. Larger moves still use the whole height.
MIN_SPAN = 0.2
MIX_LABELS = {"stock": "股票", "fund": "基金", "wealth": "理财", "cash": "现金"}


@dataclass
class Trend:
    """A polyline over a series of (day, value), with its ends and range."""

    points: str
    area: str
    first: float
    last: float
    low: float
    high: float
    start_day: object
    end_day: object

    @property
    def change(self):
        """Relative change from the first to the last value, or None when it started at zero."""
        return (self.last - self.first) / self.first if self.first else None


def trend(series):
    """Scale (day, value) pairs, oldest first, into the SVG box; None with fewer than two."""
    if len(series) < 2:
        return None
    values = [float(v) for _, v in series]
    low, high = min(values), max(values)
    first_day, last_day = series[0][0], series[-1][0]
    span_days = max((last_day - first_day).days, 1)
    bottom, span_value = _axis(low, high)
    coords = []
    for (day, _), value in zip(series, values):
        x = TREND_PAD + (day - first_day).days / span_days * (TREND_WIDTH - 2 * TREND_PAD)
        y = TREND_HEIGHT - TREND_PAD - (value - bottom) / span_value * (TREND_HEIGHT - 2 * TREND_PAD)
        coords.append(f"{x:.1f},{y:.1f}")
    base = TREND_HEIGHT - TREND_PAD
    area = f"{coords[0].split(',')[0]},{base} " + " ".join(coords) + f" {coords[-1].split(',')[0]},{base}"
    return Trend(points=" ".join(coords), area=area, first=values[0], last=values[-1], low=low, high=high,
                 start_day=first_day, end_day=last_day)


def _axis(low, high):
    """(bottom, span) of the value axis: the data's range, widened around its middle to MIN_SPAN.

    For data that is never negative the bottom is not either (the widening is at most 20 % of high).
    """
    span = max(high - low, MIN_SPAN * max(abs(high), abs(low))) or 1.0
    return (low + high - span) / 2, span


@dataclass
class MixPart:
    """One slice of the asset mix, placed on a 0–100 bar."""

    key: str
    label: str
    share: float
    x: float
    width: float


def mix_bar(mix):
    """Stacked-bar slices of an asset mix {kind: share}, in a fixed order; empty when unknown."""
    return _stacked([(key, label, float((mix or {}).get(key) or 0)) for key, label in MIX_LABELS.items()])


def share_bar(counts, labels):
    """Stacked-bar slices of {key: count} in the order of labels {key: label}; empty when all are zero."""
    total = sum(counts.get(key, 0) for key in labels)
    return _stacked([(key, label, counts.get(key, 0) / total) for key, label in labels.items()]) if total else []


def _stacked(shares):
    """(key, label, share) triples placed side by side on a 0–100 bar; zero shares are left out."""
    parts, x = [], 0.0
    for key, label, share in shares:
        if share > 0:
            parts.append(MixPart(key=key, label=label, share=share, x=round(x, 2), width=round(share * 100, 2)))
            x += share * 100
    return parts
