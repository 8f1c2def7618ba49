"""分支机构考核: head office's indicators, targets and weights; each branch scored and ranked for a month.

An indicator's contribution is its weight × actual ÷ target, capped at CAP × weight (beating a target
counts, but one indicator cannot carry a branch); the score is the sum of the contributions. Indicators:

* new_funded: clients of the branch's advisors whose funding is dated in the month;
* net_new_assets: the change in the total assets of those clients over the month, from the asset
  snapshots (the last snapshot on or before the month's last day minus the last one before its first);
* coverage: of the branch's funded clients, the share an advisor still follows on WeCom (a relation
  that ended does not count: the verified relationship the scorecard rewards, not raw adds);
* sop_on_time: the SOP on-time rate of tasks due in the month (execution.py's rule).
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select

from ..extensions import db
from ..models import AssetSnapshot, CHINA, Follow, ScoreIndicator
from .execution import execution
from .journeys import advisor_labels, journeys

CAP = Decimal("1.2")
INDICATORS = {  # key: (label, unit, default target, default weight)
    "new_funded": ("新增有效户", "户", Decimal(10), Decimal(40)),
    "net_new_assets": ("净新增资产", "元", Decimal(5000000), Decimal(30)),
    "coverage": ("企微覆盖率", "%", Decimal("0.8"), Decimal(20)),
    "sop_on_time": ("SOP按时率", "%", Decimal("0.9"), Decimal(10)),
}


class InvalidIndicator(ValueError):
    """A target or weight head office typed that cannot be used; the message says which."""


@dataclass
class Part:
    """One indicator of one branch: the actual figure and what it contributes."""

    key: str
    label: str
    unit: str
    actual: Decimal | None
    target: Decimal
    weight: Decimal
    contribution: Decimal


@dataclass
class BranchScore:
    """A branch's month: its parts, score and rank."""

    branch: str
    parts: list[Part]
    score: Decimal
    rank: int = 0


def month_bounds(month):
    """(first day, last day) of 'YYYY-MM'."""
    first = date.fromisoformat(f"{month}-01")
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return first, last


def indicators():
    """key -> (label, unit, target, weight): head office's settings, the defaults where none was set."""
    stored = {row.key: row for row in db.session.scalars(select(ScoreIndicator))}
    return {key: (label, unit, stored[key].target if key in stored else target,
                  stored[key].weight if key in stored else weight)
            for key, (label, unit, target, weight) in INDICATORS.items()}


def save_indicators(form, userid):
    """Store the targets and weights of a form {target_<key>, weight_<key>}; InvalidIndicator names a bad field."""
    values = {}
    for key, (label, *_rest) in INDICATORS.items():
        target, weight = _decimal(form.get(f"target_{key}"), label, "目标"), _decimal(form.get(f"weight_{key}"), label, "权重")
        if target <= 0 or weight < 0 or weight > 100:
            raise InvalidIndicator(f"{label}：目标须大于 0，权重须在 0 到 100 之间")
        values[key] = (target, weight)
    for key, (target, weight) in values.items():
        db.session.merge(ScoreIndicator(key=key, target=target, weight=weight, updated_by=userid))
    db.session.flush()


def _decimal(text, label, what):
    """A decimal number from a form field, or InvalidIndicator."""
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        raise InvalidIndicator(f"{label}的{what}应为数字") from None
    if not value.is_finite():
        raise InvalidIndicator(f"{label}的{what}应为数字")
    return value


def scorecard(advisors, month):
    """The branches of the advisors scored for the month, best first, with their ranks."""
    first, last = month_bounds(month)
    settings = indicators()
    labels = advisor_labels(advisors)
    by_branch = {}
    for userid, (_, branch) in labels.items():
        by_branch.setdefault(branch, set()).add(userid)
    scores = [_branch_score(branch, members, first, last, settings) for branch, members in by_branch.items()]
    scores.sort(key=lambda s: (-s.score, s.branch))
    for rank, score in enumerate(scores, 1):
        score.rank = rank
    return scores


def _branch_score(branch, advisors, first, last, settings):
    """One branch's parts and score."""
    owned = [j for j in journeys(advisors) if j.account_id]
    actual = {"new_funded": Decimal(sum(1 for j in owned if first <= j.stage_dates.get("funded", date.max) <= last)),
              "net_new_assets": _asset_change({j.account_id for j in owned}, first, last),
              "coverage": _coverage(owned, advisors, last),
              "sop_on_time": _on_time(advisors, first, last)}
    parts = []
    for key, (label, unit, target, weight) in settings.items():
        value = actual[key]
        contribution = Decimal(0) if value is None else min(value / target, CAP) * weight
        parts.append(Part(key, label, unit, value, target, weight, contribution.quantize(Decimal("0.01"))))
    return BranchScore(branch, parts, sum((p.contribution for p in parts), Decimal(0)))


def _asset_change(accounts, first, last):
    """Sum over the accounts of (last snapshot by the month's end) − (last snapshot before its start)."""
    return sum((end - start for start, end in asset_changes(accounts, first, last).values()), Decimal(0))


def asset_changes(accounts, first, last):
    """account -> (assets before the month, assets at its end), for the accounts with a snapshot by its end."""
    if not accounts:
        return {}
    start, end = _assets_on(accounts, first - timedelta(days=1)), _assets_on(accounts, last)
    return {account: (start.get(account, Decimal(0)), value) for account, value in end.items()}


def _assets_on(accounts, day):
    """account -> total assets as of day: each one's latest snapshot on or before it."""
    latest = (select(AssetSnapshot.account_id, func.max(AssetSnapshot.day).label("day"))
              .where(AssetSnapshot.account_id.in_(list(accounts)), AssetSnapshot.day <= day)
              .group_by(AssetSnapshot.account_id).subquery())
    rows = db.session.execute(select(AssetSnapshot.account_id, AssetSnapshot.total_assets).join(
        latest, (latest.c.account_id == AssetSnapshot.account_id) & (latest.c.day == AssetSnapshot.day)))
    return {account: Decimal(value) for account, value in rows}


def rows_behind(advisors, month, branch, key):
    """(journey, detail) of the clients behind a branch's indicator: funded in the month, their asset change,
    or the funded clients with whether an advisor still follows them."""
    first, last = month_bounds(month)
    members = {userid for userid, (_, label) in advisor_labels(advisors).items() if label == branch}
    owned = [j for j in journeys(members) if j.account_id]
    if key == "new_funded":
        return [(j, j.stage_dates["funded"]) for j in owned if first <= j.stage_dates.get("funded", date.max) <= last]
    if key == "net_new_assets":
        changes = asset_changes({j.account_id for j in owned}, first, last)
        return [(j, changes[j.account_id]) for j in owned if j.account_id in changes]
    funded = [j for j in owned if j.reached("funded", last)]
    followed = _followed(members, funded)
    return [(j, j.external_userid in followed) for j in funded]


def _followed(advisors, funded):
    """external_userids of the funded clients an advisor of the branch still follows."""
    return set(db.session.scalars(select(Follow.external_userid).where(
        Follow.userid.in_(list(advisors)), Follow.ended_at.is_(None),
        Follow.external_userid.in_([j.external_userid for j in funded]))))


def _coverage(owned, advisors, last):
    """Funded (by the month's end) clients an advisor of the branch still follows ÷ all of them; None without any."""
    funded = [j for j in owned if j.reached("funded", last)]
    if not funded:
        return None
    followed = _followed(advisors, funded)
    return Decimal(sum(1 for j in funded if j.external_userid in followed)) / len(funded)


def _on_time(advisors, first, last):
    """The SOP on-time rate of the month, or None without tasks."""
    _, _, total = execution(advisors, first, last, datetime.now(CHINA))
    rate = total.on_time_rate
    return None if rate is None else Decimal(str(round(rate, 6)))
