"""When periodic jobs run: minutes of hours in China time (Asia/Shanghai, UTC+8 all year), whatever the
host's zone; optionally on trading days only."""
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from ..models import CHINA
from ..domain.calendar import as_utc, from_utc, is_trading_day  # noqa: F401  (as_utc, from_utc: the jobs' clock)

LOOK_AHEAD_DAYS = 20  # the longest exchange closure (Spring Festival and its weekends) is about ten days


@dataclass(frozen=True)
class Schedule:
    """At each of `minutes` past each of `hours` (every hour when None), China time."""

    minutes: tuple
    hours: tuple | None = None
    trading_days: bool = False

    def moments(self, day):
        """This schedule's moments on one China calendar day, in order."""
        if self.trading_days and not is_trading_day(day):
            return []
        hours = range(24) if self.hours is None else self.hours
        return [datetime.combine(day, time(hour, minute), CHINA) for hour in sorted(hours)
                for minute in sorted(self.minutes)]

    def latest(self, now, since):
        """The newest moment in (since, now], or None; both aware datetimes."""
        today = now.astimezone(CHINA).date()
        for back in range((now - since).days + 2):
            for moment in reversed(self.moments(today - timedelta(days=back))):
                if moment <= now:
                    return moment if moment > since else None
        return None

    def next_after(self, now):
        """The first moment after now, or None beyond LOOK_AHEAD_DAYS."""
        today = now.astimezone(CHINA).date()
        for ahead in range(LOOK_AHEAD_DAYS):
            for moment in self.moments(today + timedelta(days=ahead)):
                if moment > now:
                    return moment
        return None

    def describe(self):
        """In words, for the console: 每天 23:55, 每 5 分钟, 每小时 20 分, 交易日 08:45."""
        days = "交易日" if self.trading_days else "每天"
        if self.hours is None:
            step = 60 // len(self.minutes) if len(self.minutes) > 1 else None
            return f"每 {step} 分钟" if step else f"每小时 {self.minutes[0]:02d} 分"
        return days + " " + "、".join(f"{h:02d}:{m:02d}" for h in sorted(self.hours) for m in sorted(self.minutes))


def every(minutes):
    """Every `minutes` minutes from the hour (a divisor of 60)."""
    return Schedule(minutes=tuple(range(0, 60, minutes)))

