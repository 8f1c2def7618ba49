"""SOP figures for the console: what was done per plan and advisor, and whether a client plan works.

The effect compares the plan's treated targets with its holdout: the share that reached the plan's
goal within its days, each with a Wilson 95% interval, and the difference with a normal-approximation
interval. Below MIN_GROUP targets in either arm no difference is claimed (样本太少). Only targets
that joined at least the goal's days ago count, so every one had its full chance.

A group plan's effect compares the groups on the plan (treated) with every other group that has daily
snapshots (sidebar/insight/snapshot.py), over the same window: from the day the plan's first group
joined (at most GROUP_WINDOW_DAYS back) to the latest snapshot. Each arm's clients and client assets
are summed over its groups on the first and the last snapshot day of the window (a group created
meanwhile counts from its first snapshot), and compared as ×N. Groups are few: below MIN_GROUPS in an
arm the page says the figures are only indicative.
"""
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, func, select

from ..domain.calendar import from_utc
from ..domain.facts import Figure
from ..extensions import db
from ..models import CHINA, GroupSnapshot, SopTarget, SopTask, china_today, utcnow

Z = 1.96
MIN_GROUP = 30
MIN_GROUPS = 5
GROUP_WINDOW_DAYS = 90
DONE_STATES = ("done", "late", "skipped", "blocked", "expired")


@dataclass
class Counts:
    """Tasks of a plan (or an advisor on it) by outcome."""

    due: int = 0
    open: int = 0
    done: int = 0
    late: int = 0
    skipped: int = 0
    blocked: int = 0
    expired: int = 0
    cancelled: int = 0
    failed: int = 0  # a mass send that did not reach the target (sidebar/sop/masssend.py)
    skip_reasons: Counter = field(default_factory=Counter)

    def add(self, task):
        """Count one task."""
        self.due += 1
        setattr(self, task.status, getattr(self, task.status) + 1)
        if task.status == "skipped":
            self.skip_reasons[task.reason or "未填写"] += 1


@dataclass
class Arm:
    """One arm of the comparison: how many targets, how many reached the goal, the rate and its interval."""

    targets: int
    reached: int

    @property
    def rate(self):
        """The share that reached the goal (None without targets)."""
        return self.reached / self.targets if self.targets else None

    @property
    def interval(self):
        """Wilson 95% interval of the rate, or None."""
        return wilson(self.reached, self.targets)


@dataclass
class Effect:
    """Treated vs holdout for a client plan's goal."""

    treated: Arm
    holdout: Arm
    within_days: int

    @property
    def enough(self):
        """Whether both arms are large enough to compare."""
        return self.treated.targets >= MIN_GROUP and self.holdout.targets >= MIN_GROUP

    @property
    def difference(self):
        """(uplift, low, high) in shares, normal approximation; None when the sample is too small."""
        if not self.enough:
            return None
        p1, p0 = self.treated.rate, self.holdout.rate
        se = math.sqrt(p1 * (1 - p1) / self.treated.targets + p0 * (1 - p0) / self.holdout.targets)
        return p1 - p0, p1 - p0 - Z * se, p1 - p0 + Z * se


def wilson(successes, n):
    """The Wilson score 95% interval (low, high) of successes out of n, or None for n = 0."""
    if not n:
        return None
    p = successes / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def task_counts(plan_id, advisors=None):
    """(Counts of the whole plan, {advisor: Counts}); only these advisors' tasks when given (a manager's scope)."""
    total, by_advisor = Counts(), {}
    query = select(SopTask).where(SopTask.plan_id == plan_id)
    if advisors is not None:
        query = query.where(SopTask.advisor.in_(advisors))
    for task in db.session.scalars(query):
        total.add(task)
        by_advisor.setdefault(task.advisor, Counts()).add(task)
    return total, by_advisor


def target_counts(plan_id, advisors=None):
    """(treated, holdout, ended) targets of a plan; only these advisors' targets when given."""
    query = select(SopTarget.holdout, SopTarget.ended_at).where(SopTarget.plan_id == plan_id)
    if advisors is not None:
        query = query.where(SopTarget.advisor.in_(advisors))
    rows = db.session.execute(query).all()
    return (sum(1 for held, _ in rows if not held), sum(1 for held, _ in rows if held),
            sum(1 for _, ended in rows if ended))


def effect(plan, now=None):
    """The client plan's effect on its goal, or None (a group plan, or no goal)."""
    goal = plan.live.spec.get("goal") if plan.live else None
    if plan.kind != "client" or not goal:
        return None
    days = goal.get("within_days", 30)
    cutoff = (now or utcnow()) - timedelta(days=days)
    arms = {True: [0, 0], False: [0, 0]}
    for target in db.session.scalars(select(SopTarget).where(SopTarget.plan_id == plan.id,
                                                             SopTarget.started_at <= cutoff)):
        arm = arms[target.holdout]
        arm[0] += 1
        arm[1] += bool(target.goal_at and target.goal_at - target.started_at <= timedelta(days=days))
    return Effect(Arm(*arms[False]), Arm(*arms[True]), days)


@dataclass
class GroupArm:
    """The groups of one arm: how many, their clients and client assets summed at the window's ends."""

    groups: int = 0
    clients_start: int = 0
    clients_end: int = 0
    assets_start: float = 0.0
    assets_end: float = 0.0

    @property
    def clients(self):
        """×N of the clients (a Figure: .times, .ratio)."""
        return Figure("clients", "客户数", self.clients_end, self.clients_start, None)

    @property
    def assets(self):
        """×N of the client assets."""
        return Figure("assets", "客户资产", self.assets_end, self.assets_start, None)


@dataclass
class GroupEffect:
    """A group plan's groups vs the other groups over one window of daily snapshots."""

    start: object
    end: object
    on_plan: GroupArm
    others: GroupArm

    @property
    def enough(self):
        """Whether both arms have enough groups to read the comparison as more than an indication."""
        return self.on_plan.groups >= MIN_GROUPS and self.others.groups >= MIN_GROUPS


def group_effect(plan, today=None):
    """The group plan's effect by the group snapshots, or None (a client plan, no group yet, no snapshots)."""
    if plan.kind != "group":
        return None
    rows = db.session.execute(select(SopTarget.target_id, SopTarget.holdout, SopTarget.started_at)
                              .where(SopTarget.plan_id == plan.id)).all()
    treated = {target_id for target_id, held, _ in rows if not held}
    if not treated:
        return None
    first_joined = min(from_utc(started).astimezone(CHINA).date() for _, held, started in rows if not held)
    today = today or china_today()
    start = max(first_joined, today - timedelta(days=GROUP_WINDOW_DAYS))
    ends = _snapshot_ends(start, today)
    if not ends:
        return None
    arms = {True: GroupArm(), False: GroupArm()}
    for chat_id, (first, last) in ends.items():
        arm = arms[chat_id in treated]
        arm.groups += 1
        arm.clients_start += first.clients
        arm.clients_end += last.clients
        arm.assets_start += float(first.client_assets)
        arm.assets_end += float(last.client_assets)
    end = max(last.day for _, last in ends.values())
    return GroupEffect(start, end, arms[True], arms[False])


def _snapshot_ends(start, end):
    """{chat_id: (its first snapshot on or after start, its last on or before end)} (two queries)."""
    bounds = (select(GroupSnapshot.chat_id, func.min(GroupSnapshot.day).label("first"),
                     func.max(GroupSnapshot.day).label("last"))
              .where(GroupSnapshot.day >= start, GroupSnapshot.day <= end).group_by(GroupSnapshot.chat_id).subquery())
    found = {}
    for column in (bounds.c.first, bounds.c.last):
        query = select(GroupSnapshot).join(bounds, and_(GroupSnapshot.chat_id == bounds.c.chat_id,
                                                        GroupSnapshot.day == column))
        for snapshot in db.session.scalars(query):
            found.setdefault(snapshot.chat_id, []).append(snapshot)
    return {chat_id: (pair[0], pair[-1]) for chat_id, pair in found.items()}
