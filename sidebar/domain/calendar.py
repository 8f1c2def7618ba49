"""Trading days of the Shanghai and Shenzhen exchanges, for SOP steps and reports.

A trading day is a weekday that is not a public holiday: the exchanges close on the State Council's
holidays, and a make-up working Saturday or Sunday (调休上班) is still closed. The holidays come from
chinesecalendar (maintained, a small table), loaded only when first asked — web workers never pay
for it. Unscheduled closures (a typhoon, a national day of mourning) are added in /console/jobs.
"""
import logging
from datetime import date, timedelta, timezone

from sqlalchemy import select

from ..extensions import db
from ..models import TradingClosure

# Closures the exchanges kept beyond the State Council's holidays (checked against exchange_calendars'
# XSHG for 2015–2026): 除夕 2024 was a working day, yet the exchanges closed. Since 2025 除夕 is a holiday.
EXCHANGE_ONLY = {date(2024, 2, 9): "除夕休市"}
log = logging.getLogger(__name__)
_warned = set()


def is_trading_day(day):
    """Whether the exchanges trade on `day` (a date in China)."""
    return bool(trading_days(day, day))


def trading_days(first, last):
    """The trading days from first to last inclusive, in order (one query for the closures)."""
    closed = set(db.session.scalars(select(TradingClosure.day).where(TradingClosure.day.between(first, last))))
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [day for day in days if day.weekday() < 5 and day not in closed and day not in EXCHANGE_ONLY
            and not _holiday(day)]


def next_trading_day(after):
    """The first trading day after the date `after`."""
    while True:
        found = trading_days(after + timedelta(days=1), after + timedelta(days=20))
        if found:
            return found[0]
        after += timedelta(days=20)


def calendar_covers(year):
    """Whether the installed calendar knows that year's holidays (published each November for the next year)."""
    import chinese_calendar

    try:
        chinese_calendar.is_holiday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _holiday(day):
    """A public holiday; a year the package does not know yet counts weekdays only, with a warning."""
    import chinese_calendar

    try:
        return chinese_calendar.is_holiday(day)
    except NotImplementedError:
        if day.year not in _warned:
            _warned.add(day.year)
            log.warning("chinesecalendar has no holidays for %d yet: upgrade it, or add closures in "
                        "/console/jobs; until then every weekday counts as a trading day", day.year)
        return False


def as_utc(moment):
    """An aware moment as the naive UTC datetime the database keeps."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def from_utc(naive):
    """A naive UTC datetime from the database as an aware moment."""
    return naive.replace(tzinfo=timezone.utc)
