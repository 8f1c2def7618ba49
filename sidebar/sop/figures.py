"""SOP figures for the console: what was done per plan and advisor, and whether a client plan works.

The effect compares the plan's treated targets with its holdout: the share that reached the plan's
goal within its days, each with a Wilson 95% interval, and the difference with a normal-approximation
interval. Below MIN_GROUP targets in either arm no difference is claimed (样本太少). Only targets
that joined at least the goal's days ago count, so every one had its full chance.
"""
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import SopTarget, SopTask, utcnow

Z = 1.96
MIN_GROUP = 30
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


def task_counts(plan_id):
    """(Counts of the whole plan, {advisor: Counts})."""
    total, by_advisor = Counts(), {}
    for task in db.session.scalars(select(SopTask).where(SopTask.plan_id == plan_id)):
        total.add(task)
        by_advisor.setdefault(task.advisor, Counts()).add(task)
    return total, by_advisor


def target_counts(plan_id):
    """(treated, holdout, ended) targets of a plan."""
    rows = db.session.execute(select(SopTarget.holdout, SopTarget.ended_at).where(SopTarget.plan_id == plan_id)).all()
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
