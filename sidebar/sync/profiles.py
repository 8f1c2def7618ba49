"""Trading-system import: validate client profiles, upsert them in chunks, link them to contacts.

Plain functions over the database session; no Flask request objects. The trading system sends the
whole profile each time, so a row replaces what we stored, except two things we accumulate:
the date of each journey stage (never forgotten) and the link to a WeCom contact (kept until a
match is found again).
"""
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from blinker import Namespace
from sqlalchemy import insert, select, update
from sqlalchemy.exc import DatabaseError, OperationalError

from ..domain.linking import contact_matches, linked_contact, normalise_mobile
from ..database import upsert, upsert_retrying
from ..extensions import db
from ..models import (EARLIEST_DAY, RISK_LEVELS, STAGES, AssetSnapshot, ClientProfile, JourneyEvent, china_today,
                      utcnow)

log = logging.getLogger(__name__)
# Sent with the accounts an import stored: the features that keep figures per client follow (the group
# snapshots, sidebar/insight/snapshot.py), without the import knowing them.
profiles_imported = Namespace().signal("profiles-imported")

CHUNK = 500  # rows per lookup and per commit: IN lists stay far below every database's parameter limit
ACCOUNT_ID = re.compile(r"[A-Za-z0-9]{4,32}")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MIX_KEYS = ("stock", "fund", "wealth", "cash")
MIX_TOLERANCE = 0.02
MAX_TAGS, MAX_TAG_LENGTH = 20, 32
MAX_AMOUNT = Decimal("1e16")  # Numeric(18, 2): PostgreSQL would refuse the whole chunk above this
CENT = Decimal("0.01")
# C0 and C1 controls (NUL among them: PostgreSQL refuses it in text) and lone surrogates (no UTF-8
# encodes them: SQLite refuses them, and one kept in JSON breaks every page that shows it)
HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
EXPIRY_YEARS = 5  # a risk assessment expires within a few years: a later expiry is a typo
PROFILE_COLUMNS = ("account_id", "unionid", "mobile", "name", "stage", "risk_level", "risk_expires",
                   "total_assets", "assets_as_of", "asset_mix", "last_trade_date", "tags", "branch")
STORED_COLUMNS = (*PROFILE_COLUMNS, "stage_dates", "external_userid")
DORMANT_DAYS = 180  # domain.facts.DORMANT_AFTER: a trade after a longer pause wins a dormant client back


@dataclass
class ImportResult:
    """How many rows were stored, and why each of the others was not."""

    accepted: int = 0
    rejected: list[dict] = field(default_factory=list)
    accounts: set[str] = field(default_factory=set)  # the account ids stored


class RowError(ValueError):
    """Why one row is refused; the message starts with the field it is about."""


# -- import ---------------------------------------------------------------------------------------

def after_import(accounts, today=None):
    """Tell the subscribers which accounts an import stored; how many groups' figures they recorded."""
    return sum(recorded or 0 for _, recorded in profiles_imported.send(sorted(accounts), today=today))


def import_profiles(rows, today=None):
    """Validate and upsert trading-system profiles; good rows are stored even when others are not."""
    rows = list(rows)
    today = today or china_today()
    result = ImportResult()
    for start in range(0, len(rows), CHUNK):
        valid = {}
        for index, row in enumerate(rows[start:start + CHUNK], start):
            try:
                valid[index] = _validated_profile(row, today)
            except RowError as error:
                result.rejected.append({"index": index, "error": str(error)})
        if valid:
            _store_chunk(valid, today, result)
    result.rejected.sort(key=lambda item: item["index"])
    return result


def _store_chunk(valid, today, result):
    """Write one chunk (index -> profile) in one transaction; if the database refuses it, row by row.

    So a row the database refuses for a reason validation does not know costs only that row.
    """
    if _store(list(valid.values()), today) is None:
        result.accepted += len(valid)
        result.accounts.update(profile["account_id"] for profile in valid.values())
        return
    for index, profile in valid.items():
        refused = _store([profile], today)
        if refused:
            log.warning("profile import: the database refused row %d (%s)", index, refused)
            result.rejected.append({"index": index,
                                    "error": f"profile: the database refused this row ({refused})"})
        else:
            result.accepted += 1
            result.accounts.add(profile["account_id"])


def _store(profiles, today):
    """Write profiles in one transaction; None, or the driver's name of the error if the database refused.

    The name (e.g. CheckViolation) holds no SQL and no value. A database that is unreachable or busy
    fails the import instead: no row is to blame, and the sender retries the whole request.
    Boundary: the import's chunks — each is committed (or rolled back) on its own, so a refused row costs
    only its chunk's retry row by row, and a large import does not hold one transaction to the end.
    """
    try:
        upsert_retrying(_write_chunk, profiles, today)  # a concurrent import inserting the same rows: one retry
        db.session.commit()
    except OperationalError:
        db.session.rollback()
        raise
    except DatabaseError as error:
        db.session.rollback()
        return type(error.orig).__name__
    return None


def _write_chunk(profiles, today):
    """Upsert the profiles and asset snapshots of one chunk of valid rows."""
    stored = _stored_profiles({p["account_id"] for p in profiles})
    matches = contact_matches({p["unionid"] for p in profiles}, {p["mobile"] for p in profiles})
    states = {}
    for profile in profiles:  # in order: a later row for the same account wins
        before = states.get(profile["account_id"]) or stored.get(profile["account_id"])
        states[profile["account_id"]] = _next_state(before, profile, matches, today)
    _save_profiles(states, stored)
    _save_events(states, stored)
    _save_snapshots(profiles)


def _stored_profiles(account_ids):
    """account_id -> the stored columns of those accounts that exist, in one query."""
    columns = [getattr(ClientProfile, name) for name in STORED_COLUMNS]
    rows = db.session.execute(select(*columns).where(ClientProfile.account_id.in_(account_ids)))
    return {row.account_id: row._asdict() for row in rows}


def _next_state(before, profile, matches, today):
    """The row as stored columns: its own fields, merged stage dates and the best contact link."""
    before = before or {}
    state = {name: profile[name] for name in PROFILE_COLUMNS}
    state["stage_dates"] = _merged_stage_dates(before.get("stage_dates"), profile, today)
    state["external_userid"] = (linked_contact(profile["unionid"], profile["mobile"], matches)
                                or before.get("external_userid"))
    return state


def _merged_stage_dates(known, profile, today):
    """Known dates, updated by the row's; a stage first seen without a date is dated today."""
    dates = {**(known or {}), **profile["stage_dates"]}
    if profile["stage"] and profile["stage"] not in dates:
        dates[profile["stage"]] = today.isoformat()
    return {stage: dates[stage] for stage in STAGES if stage in dates}  # one key order: stable JSON


def _save_profiles(states, stored):
    """Insert new accounts and update changed ones in bulk; unchanged rows are not touched at all."""
    now = utcnow()
    new = [{**state, "updated_at": now} for account, state in states.items() if account not in stored]
    changed = [{**state, "updated_at": now} for account, state in states.items()
               if account in stored and _differs(state, stored[account])]
    if new:
        db.session.execute(insert(ClientProfile).execution_options(render_nulls=True), new)
    if changed:
        db.session.execute(update(ClientProfile), changed)


def _save_events(states, stored):
    """A journey event for each stage first dated now, and for a trade that ends 180 days and more without one.

    The branch managers' live page counts steps by the moment we learnt of them (manage/openings.py).
    """
    events = []
    for account, state in states.items():
        before = stored.get(account) or {}
        known = before.get("stage_dates") or {}
        events += [{"account_id": account, "kind": stage, "day": date.fromisoformat(day)}
                   for stage, day in state["stage_dates"].items() if stage not in known]
        woken = _woken_on(before, state)
        if woken:
            events.append({"account_id": account, "kind": "woken", "day": woken})
    if events:  # a step already recorded (an account deleted and sent again) is kept as first learnt
        db.session.execute(upsert(db.engine, JourneyEvent).on_conflict_do_nothing(), events)


def _woken_on(before, state):
    """The day of a first trade after a dormant pause (from the last trade or funding we knew), or None."""
    new, old = state["last_trade_date"], before.get("last_trade_date")
    funded = (before.get("stage_dates") or {}).get("funded")
    since = old or (date.fromisoformat(funded) if funded else None)
    if not before or new is None or since is None or new == old:
        return None
    return new if (new - since).days > DORMANT_DAYS else None


def _differs(state, stored):
    """True if any column would change (Decimal 100 equals 100.00, as it should)."""
    return any(state[name] != stored[name] for name in state)


def _save_snapshots(profiles):
    """One snapshot per account and day: insert the new days, update the values that changed."""
    latest = {(p["account_id"], p["assets_as_of"]): p["total_assets"]
              for p in profiles if p["total_assets"] is not None}
    if not latest:
        return
    stored = dict(((row.account_id, row.day), row.total_assets) for row in db.session.execute(
        select(AssetSnapshot.account_id, AssetSnapshot.day, AssetSnapshot.total_assets).where(
            AssetSnapshot.account_id.in_({account for account, _ in latest}),
            AssetSnapshot.day.in_({day for _, day in latest}))))
    new = [{"account_id": account, "day": day, "total_assets": value}
           for (account, day), value in latest.items() if (account, day) not in stored]
    changed = [{"account_id": account, "day": day, "total_assets": value}
               for (account, day), value in latest.items() if stored.get((account, day), value) != value]
    if new:
        db.session.execute(insert(AssetSnapshot), new)
    if changed:
        db.session.execute(update(AssetSnapshot), changed)


# -- validation -----------------------------------------------------------------------------------

def _validated_profile(row, today):
    """The row as clean column values, or RowError naming the first field that is wrong."""
    if not isinstance(row, dict):
        raise RowError(f"profile: must be an object, got {_json_type(row)}")
    if row.get("account_id") is None:
        raise RowError("account_id: required")
    profile = {name: check(name, row.get(name)) for name, check in CHECKS.items()}
    if profile["total_assets"] is not None and profile["assets_as_of"] is None:
        profile["assets_as_of"] = today
    for name, latest in _latest_dates(today).items():
        _within(name, profile[name], latest)
    _in_journey_order(profile["stage_dates"], today)
    return profile


def _latest_dates(today):
    """The latest date each date field may hold: an expiry within a few years, everything else today."""
    return {"risk_expires": date(today.year + EXPIRY_YEARS, 12, 31), "assets_as_of": today,
            "last_trade_date": today}


def _within(name, day, latest):
    """RowError unless the date is absent or between EARLIEST_DAY and latest."""
    if day is not None and not EARLIEST_DAY <= day <= latest:
        raise RowError(f"{name}: must be between {EARLIEST_DAY.isoformat()} and {latest.isoformat()}")


def _in_journey_order(dates, today):
    """RowError unless each stage's date is in range and none comes before an earlier stage's."""
    previous = None
    for stage in (s for s in STAGES if s in dates):
        day = date.fromisoformat(dates[stage])
        _within(f"stage_dates.{stage}", day, today)
        if previous and day < previous[1]:
            raise RowError(f"stage_dates: {stage} ({day.isoformat()}) must not come before "
                           f"{previous[0]} ({previous[1].isoformat()})")
        previous = (stage, day)


def _json_type(value):
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float, Decimal)):
        return "number"
    return {str: "string", dict: "object", list: "array"}.get(type(value), type(value).__name__)


def _shown(value):
    """A short representation of a bad value (never a whole long string)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_number(value):
    """A JSON number: int, float or Decimal, but not a boolean."""
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _account_id(name, value):
    """Required: 4 to 32 ASCII letters or digits."""
    if not isinstance(value, str):
        raise RowError(f"{name}: must be a string, got {_json_type(value)}")
    if not ACCOUNT_ID.fullmatch(value):
        raise RowError(f"{name}: must be 4 to 32 letters or digits")
    return value


def _plain(name, value):
    """RowError if a string holds a control character or an unpaired surrogate (never echoed)."""
    if HIDDEN.search(value):
        raise RowError(f"{name}: must not contain control characters or unpaired surrogates")


def _text(limit):
    """A check for an optional string of at most limit characters; '' counts as absent."""
    def check(name, value):
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise RowError(f"{name}: must be a string, got {_json_type(value)}")
        _plain(name, value)
        if len(value) > limit:
            raise RowError(f"{name}: must be at most {limit} characters, got {len(value)}")
        return value
    return check


def _mobile(name, value):
    """Optional mainland mobile, stored as its 11 digits; the number itself is never echoed."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RowError(f"{name}: must be a string, got {_json_type(value)}")
    _plain(name, value)
    digits = normalise_mobile(value)
    if digits is None:
        raise RowError(f"{name}: must be a mainland mobile number, 11 digits starting with 1")
    return digits


def _choice(options, described):
    """A check for one of options, or null."""
    def check(name, value):
        if value is None or value in options:
            return value
        raise RowError(f"{name}: must be one of {described} or null, got {_shown(value)}")
    return check


def _iso_date(name, value):
    """Optional date as YYYY-MM-DD (a date object from Python callers too)."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if not isinstance(value, str):
        raise RowError(f"{name}: must be an ISO date string (YYYY-MM-DD) or null, got {_json_type(value)}")
    if ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise RowError(f"{name}: must be an ISO date (YYYY-MM-DD) or null, got {_shown(value)}")


def _amount(name, value):
    """Optional non-negative amount of money, rounded to the cent."""
    if value is None:
        return None
    if not _is_number(value):
        raise RowError(f"{name}: must be a number or null, got {_json_type(value)}")
    amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not amount.is_finite():
        raise RowError(f"{name}: must be a finite number")
    if amount < 0:
        raise RowError(f"{name}: must not be negative")
    if amount >= MAX_AMOUNT:
        raise RowError(f"{name}: must be below 10^16")
    return amount.quantize(CENT, ROUND_HALF_UP)


def _float(value):
    """A JSON number as a float, or None (also for an integer too large for one, or a signalling NaN)."""
    if not _is_number(value):
        return None
    try:
        return float(value)
    except (OverflowError, ValueError):
        return None


def _asset_mix(name, value):
    """Optional shares of stock/fund/wealth/cash, each in [0, 1], summing to 1 (±0.02)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RowError(f"{name}: must be an object or null, got {_json_type(value)}")
    unknown = sorted(str(key) for key in value if key not in MIX_KEYS)
    if unknown:
        raise RowError(f"{name}: unknown key {_shown(unknown[0])}; keys are {', '.join(MIX_KEYS)}")
    shares = {}
    for key in (k for k in MIX_KEYS if k in value):
        share = _float(value[key])
        if share is None or not 0 <= share <= 1:  # NaN fails both comparisons
            raise RowError(f"{name}.{key}: must be a number between 0 and 1")
        shares[key] = share
    total = sum(shares.values())
    if abs(total - 1) > MIX_TOLERANCE + 1e-9:  # float sums of exact edges land a hair outside
        raise RowError(f"{name}: shares must sum to 1 (±{MIX_TOLERANCE}), got {total:.4g}")
    return shares


def _tags(name, value):
    """Optional list of up to 20 non-empty strings of at most 32 characters; repeats dropped."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise RowError(f"{name}: must be an array of strings, got {_json_type(value)}")
    if len(value) > MAX_TAGS:
        raise RowError(f"{name}: at most {MAX_TAGS} tags, got {len(value)}")
    for position, tag in enumerate(value):
        if not isinstance(tag, str) or not tag.strip():
            raise RowError(f"{name}[{position}]: must be a non-empty string")
        _plain(f"{name}[{position}]", tag)
        if len(tag.strip()) > MAX_TAG_LENGTH:
            raise RowError(f"{name}[{position}]: must be at most {MAX_TAG_LENGTH} characters")
    return list(dict.fromkeys(tag.strip() for tag in value))


def _stage_dates(name, value):
    """Optional {stage: ISO date}: when each journey step happened (an extension of the contract)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RowError(f"{name}: must be an object or null, got {_json_type(value)}")
    dates = {}
    for stage, day in value.items():
        if stage not in STAGES:
            raise RowError(f"{name}: unknown stage {_shown(stage)}; stages are {', '.join(STAGES)}")
        day = _iso_date(f"{name}.{stage}", day)
        if day is not None:
            dates[stage] = day.isoformat()
    return dates


CHECKS = {
    "account_id": _account_id,
    "unionid": _text(64),
    "mobile": _mobile,
    "name": _text(64),
    "stage": _choice(STAGES, ", ".join(STAGES)),
    "risk_level": _choice(RISK_LEVELS, "C1…C5"),
    "risk_expires": _iso_date,
    "total_assets": _amount,
    "assets_as_of": _iso_date,
    "asset_mix": _asset_mix,
    "last_trade_date": _iso_date,
    "tags": _tags,
    "branch": _text(64),
    "stage_dates": _stage_dates,
}

