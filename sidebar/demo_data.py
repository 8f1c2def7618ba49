"""The demo's trading-system data: profiles for the emulator's contacts, in every state.

Deterministic for a seed and a day, so tests can recompute what the sidebar must show. The rows go
through the real import (`import_profiles`), 90 daily rows per funded account for the trend.
"""
import random
from datetime import date, datetime, timedelta, timezone

from .models import STAGES, china_today

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
    return {s: (added + timedelta(days=d)).isoformat() for s, d in zip(reached, days)}


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
