"""The demo's trading-system data: profiles for the emulator's contacts, in every state.

Deterministic for a seed and a day, so tests can recompute what the sidebar must show. The rows go
through the real import (`import_profiles`), 90 daily rows per funded account for the trend.
"""
import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from .models import CHINA, STAGES, china_today

HISTORY_DAYS = 90
STAGE_WEIGHTS = {"registered": 10, "applying": 8, "opened": 10, "funded": 22, "traded": 50}
RISK_WEIGHTS = {"C1": 10, "C2": 20, "C3": 35, "C4": 25, "C5": 10}
NO_PROFILE_SHARE = 0.12  # contacts who never registered: 未开户
UNMATCHED_ACCOUNTS = 5  # accounts whose unionid and mobile match no contact yet


def demo_profiles(world, today=None, seed=20261126):
    """Import rows for the world's contacts: history first, each account's current row last."""
    today = today or china_today()
    rng = random.Random(seed)
    rows = []
    for index, contact in enumerate(world["contacts"]):
        follow = next(f for f in world["follows"] if f["external_userid"] == contact["external_userid"])
        if rng.random() < NO_PROFILE_SHARE:
            continue
        rows.extend(_account_rows(rng, today, f"8800{index:08d}", contact, follow))
    for extra in range(UNMATCHED_ACCOUNTS):
        stranger = {"external_userid": None, "unionid": f"oUnmatched{extra:06d}", "name": None, "type": 1}
        rows.extend(_account_rows(rng, today, f"8899{extra:08d}", stranger, {"remark_mobiles": []}))
    return rows


def _account_rows(rng, today, account_id, contact, follow):
    """The daily history and the current row of one account."""
    stage = _pick(rng, STAGE_WEIGHTS)
    added = datetime.fromtimestamp(follow.get("createtime") or 0, timezone.utc).date() \
        if follow.get("createtime") else today - timedelta(days=rng.randint(30, 360))
    dormant = stage in ("funded", "traded") and rng.random() < 0.15
    stage_dates = _stage_dates(rng, today, added, stage, dormant)
    current = {
        "account_id": account_id,
        **_link_keys(rng, contact, follow),
        "name": contact.get("name"),
        "stage": stage,
        "stage_dates": stage_dates,
        **_risk(rng, today, stage),
        "last_trade_date": _last_trade(rng, today, stage, dormant, stage_dates),
        "branch": rng.choice(["上海分公司浦东营业部", "上海分公司徐汇营业部"]),
    }
    if stage not in ("funded", "traded"):
        return [{**current, "total_assets": 0 if stage == "opened" else None,
                 "assets_as_of": today.isoformat() if stage == "opened" else None, "tags": _tags(today, current, 0, {})}]
    total = round(rng.lognormvariate(12.3, 1.0), 2)
    mix = _mix(rng, stage)
    history = _history(rng, today, total, stage_dates[stage])
    rows = [{**current, "total_assets": value, "assets_as_of": day.isoformat(), "asset_mix": mix,
             "tags": _tags(today, current, value, mix, dormant)} for day, value in history]
    return rows


def _link_keys(rng, contact, follow):
    """unionid for most WeChat contacts; the noted mobile for WeCom contacts and a few others."""
    mobiles = follow.get("remark_mobiles") or []
    by_mobile = mobiles and (not contact.get("unionid") or rng.random() < 0.1)
    mobile = mobiles[0] if by_mobile else f"13{rng.randint(0, 999999999):09d}"
    return {"unionid": None if by_mobile else contact.get("unionid") or None, "mobile": mobile}


def _stage_dates(rng, today, added, stage, dormant):
    """Dates of the stages reached, in order, between the add date and today."""
    reached = STAGES[:STAGES.index(stage) + 1]
    span = max((today - added).days, len(reached))
    if dormant:  # funded long ago for the 180-day rule to bite
        added = min(added, today - timedelta(days=260))
        span = max((today - added).days - 200, len(reached))
    days = sorted(rng.sample(range(1, span + 1), len(reached)))
    # a contact added in the last few days still has every step dated, none after today (the import refuses those)
    return {s: min(added + timedelta(days=d), today).isoformat() for s, d in zip(reached, days)}


def _risk(rng, today, stage):
    """Assessment for accounts from 'opened' on; a share of them expired or never done."""
    if stage in ("registered", "applying") or rng.random() < 0.06:
        return {"risk_level": None, "risk_expires": None}
    expired = rng.random() < 0.1
    expires = today - timedelta(days=rng.randint(5, 200)) if expired else today + timedelta(days=rng.randint(30, 700))
    return {"risk_level": _pick(rng, RISK_WEIGHTS), "risk_expires": expires.isoformat()}


def _last_trade(rng, today, stage, dormant, stage_dates):
    """Recent for active traders, over 180 days ago for dormant ones, none before trading."""
    if stage != "traded":
        return None
    first = date.fromisoformat(stage_dates["traded"])
    if dormant:
        return min(first, today - timedelta(days=rng.randint(190, 400))).isoformat()
    return max(first, today - timedelta(days=rng.randint(0, 40))).isoformat()


def _mix(rng, stage):
    """Shares of stock, fund, wealth and cash that sum to 1."""
    if stage == "funded":
        return {"cash": 1.0}
    weights = [rng.random() ** 2 + 0.01 for _ in range(4)]
    points = [int(100 * w / sum(weights)) for w in weights]  # whole percent, summing to 100
    points[points.index(max(points))] += 100 - sum(points)
    return dict(zip(("stock", "fund", "wealth", "cash"), (p / 100 for p in points)))


def _history(rng, today, total, since):
    """Daily totals over the last 90 days (from funding on), a random walk ending at total."""
    start = max(today - timedelta(days=HISTORY_DAYS - 1), date.fromisoformat(since))
    days = (today - start).days + 1
    values, value = [], total
    for _ in range(days):
        values.append(round(value, 2))
        value = max(value / (1 + rng.gauss(0.0008, 0.012)), 0.0)
    return list(zip((start + timedelta(days=i) for i in range(days)), reversed(values)))


def _tags(today, current, total, mix, dormant=False):
    """Profile tags as the trading system derives them."""
    tags = []
    opened = current["stage_dates"].get("opened")
    if opened and (today - date.fromisoformat(opened)).days <= 30:
        tags.append("新开户")
    if (total or 0) >= 1_000_000:
        tags.append("高净值")
    if dormant:
        tags.append("沉睡客户")
    if mix.get("fund", 0) >= 0.3:
        tags.append("基金持有")
    if mix.get("stock", 0) >= 0.4 and current["risk_level"] in ("C4", "C5"):
        tags.append("两融客户")
    return tags


def _pick(rng, weights):
    """A key drawn by weight."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


# -- group insight: the showroom's converted prospects and every group's daily history -----------

SHOWROOM = "样板间·新客福利群"
GROUP_SEED = 20261127  # draws of their own: the contacts' rows above stay exactly as they were
PROSPECT_PROFILE_SHARE = 0.4  # of the showroom's prospects, how many have opened an app account since
PROSPECT_MIN_DAYS = 7  # last week's joiners are still prospects: conversion takes time
SHOWROOM_GROWTH = {"members": 3, "clients": 5, "client_assets": 15}  # the pilot's figures (brokerage.md)
GROWTH = {"members": (1.05, 1.5), "clients": (1.1, 1.8), "client_assets": (1.1, 2.2)}


def showroom(world):
    """The seed's showroom group (样板间)."""
    return next(g for g in world["groups"] if g["name"] == SHOWROOM)


def prospect_profiles(world, today=None, seed=GROUP_SEED):
    """Import rows for a share of the showroom's prospects, most of them converted after joining; by unionid.

    The share is trimmed so that the showroom's client count today is a multiple of five: its history
    then starts at exactly a fifth of it.
    """
    today = today or china_today()
    rng = random.Random(seed)
    group = showroom(world)
    prospects = {p["external_userid"]: p for p in world["prospects"]}
    cutoff = today - timedelta(days=PROSPECT_MIN_DAYS)
    candidates = [m for m in group["members"] if m["userid"] in prospects
                  and datetime.fromtimestamp(m["join_time"], CHINA).date() <= cutoff]
    clients = _group_figures(world, group, _current(demo_profiles(world, today)))["clients"]
    count = round(len(candidates) * PROSPECT_PROFILE_SHARE)
    count = max(count - (clients + count) % 5, 0)
    rows = []
    for index, member in enumerate(sorted(rng.sample(candidates, count), key=lambda m: m["join_time"])):
        follow = {"createtime": member["join_time"], "remark_mobiles": []}
        rows.extend(_account_rows(rng, today, f"8801{index:08d}", prospects[member["userid"]], follow))
    return rows


def group_history(world, rows, today=None, seed=GROUP_SEED):
    """Daily snapshots of every group from 90 days ago (or its creation) to today, as dicts.

    Today's row is what the sidebar computes from the world's members and the import rows (matched
    by unionid, as before any contact is fetched); the showroom starts at a fifth of its clients and
    a fifteenth of their assets, the other groups grow more quietly.
    """
    today = today or china_today()
    rng = random.Random(seed + 1)
    current = _current(rows)
    history = []
    for group in world["groups"]:
        end = _group_figures(world, group, current)
        created = datetime.fromtimestamp(group["create_time"], CHINA).date()
        first = max(today - timedelta(days=HISTORY_DAYS), created)
        growth = SHOWROOM_GROWTH if group["name"] == SHOWROOM else \
            {key: rng.uniform(*bounds) for key, bounds in GROWTH.items()}
        start = _start_figures(end, growth) if first > created else _new_group_figures(end)
        history.extend(_daily_figures(rng, group["chat_id"], first, today, start, end))
    return history


def _current(rows):
    """account_id -> the account's current (last) import row."""
    return {row["account_id"]: row for row in rows}


def _group_figures(world, group, current):
    """Today's figures of a group: members, staff, clients (matched by unionid) and their assets."""
    unionids = {p["external_userid"]: p["unionid"] for p in world["contacts"] + world["prospects"]}
    by_unionid = {row["unionid"]: row for row in current.values() if row["unionid"]}
    figures = {"members": len(group["members"]), "staff": 0, "clients": 0, "opened": 0, "funded": 0,
               "client_assets": Decimal("0.00")}
    for member in group["members"]:
        if member["type"] == 1:
            figures["staff"] += 1
            continue
        row = by_unionid.get(unionids.get(member["userid"]) or None)
        if row is None:
            continue
        figures["clients"] += 1
        figures["opened"] += row["stage"] in ("opened", "funded", "traded")
        figures["funded"] += row["stage"] in ("funded", "traded")
        figures["client_assets"] += Decimal(str(row["total_assets"] or 0)).quantize(Decimal("0.01"))
    figures["externals"] = figures["members"] - figures["staff"]
    return figures


def _start_figures(end, growth):
    """Figures at the start of the history: today's divided by the growth, consistent with each other."""
    clients = round(end["clients"] / growth["clients"])
    members = max(round(end["members"] / growth["members"]), end["staff"] + clients)
    share = clients / end["clients"] if end["clients"] else 0
    opened = min(round(end["opened"] * share), clients)
    assets = end["client_assets"] / Decimal(str(growth["client_assets"]))
    return {"members": members, "staff": end["staff"], "externals": members - end["staff"], "clients": clients,
            "opened": opened, "funded": min(round(end["funded"] * share), opened),
            "client_assets": assets.quantize(Decimal("0.01"))}


def _new_group_figures(end):
    """A group on the day it was created: its staff, nobody else yet."""
    return {"members": end["staff"], "staff": end["staff"], "externals": 0, "clients": 0, "opened": 0,
            "funded": 0, "client_assets": Decimal("0.00")}


def _daily_figures(rng, chat_id, first, today, start, end):
    """One row a day from first to today, growing from start to end, faster towards the end."""
    days = (today - first).days
    rows = []
    for offset in range(days + 1):
        t = offset / days if days else 1.0
        row = {"chat_id": chat_id, "day": first + timedelta(days=offset), "staff": end["staff"]}
        for key in ("members", "clients", "opened", "funded"):
            row[key] = end[key] if offset == days else round(_grown(start[key], end[key], t))
        row["members"] = max(row["members"], row["staff"] + row["clients"])
        row["externals"] = row["members"] - row["staff"]
        row["opened"] = min(row["opened"], row["clients"])
        row["funded"] = min(row["funded"], row["opened"])
        assets = _grown(float(start["client_assets"]), float(end["client_assets"]), t)
        assets *= 1 + rng.gauss(0, 0.01)  # markets move a little every day
        row["client_assets"] = end["client_assets"] if offset == days else \
            start["client_assets"] if offset == 0 else Decimal(f"{max(assets, 0):.2f}")
        rows.append(row)
    return rows


def _grown(start, end, t):
    """A value between start (t=0) and end (t=1): geometric when it can be, accelerating either way."""
    if start > 0 and end > 0:
        return start * (end / start) ** (t ** 1.3)
    return start + (end - start) * t ** 1.5
