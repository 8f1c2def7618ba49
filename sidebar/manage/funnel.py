"""The funnel: WeCom contacts added in a period → registered → opened → funded → traded, per branch and
advisor, with conversion rates and the median days between steps; dormant clients and those won back.

A cohort funnel: the contacts whose owner added them in the period, and how far each had come by the
period's last day. A step reached without the earlier ones dated (a funded client whose registration the
trading system never sent) counts for the earlier steps too. Days between two steps are measured only
where both are dated, and only forward (a client who registered before the advisor added them was not
converted on WeCom).
"""
from dataclasses import dataclass
from statistics import median

from sqlalchemy import select

from ..acquisition.attribution import first_channels
from ..domain.facts import STAGE_LABELS, is_dormant
from ..extensions import db
from ..models import JourneyEvent
from .journeys import FUNNEL_STEPS, advisor_labels, journeys
from .openings import UNKNOWN_CHANNEL

STEPS = ("added", *FUNNEL_STEPS)
STEP_LABELS = {"added": "企微客户", **{step: STAGE_LABELS[step] for step in FUNNEL_STEPS}}


@dataclass
class Step:
    """One step of a funnel: how many reached it, the rate from the step before, the days it took."""

    key: str
    label: str
    count: int
    rate: float | None  # of the step before; None for the first step or when that was 0
    median_days: float | None  # from the step before, where both are dated


@dataclass
class FunnelLine:
    """The funnel of one advisor, one branch or everyone."""

    key: str
    label: str
    steps: list[Step]
    branch: str = ""


@dataclass
class Funnel:
    """The whole page: the total, per branch, per advisor, and the dormant figures."""

    total: FunnelLine
    branches: list[FunnelLine]
    advisors: list[FunnelLine]
    dormant: int
    won_back: int
    since: object = None
    until: object = None
    channels: list = None  # [ChannelLine]: the cohort by the channel that brought each contact


@dataclass
class ChannelLine:
    """The cohort of one channel: added → opened → funded, and the median days from added to opened."""

    label: str
    added: int
    opened: int
    funded: int
    median_days: float | None


def in_cohort(journey, since, until):
    """Added by its owner within the period."""
    return journey.added is not None and since <= journey.added <= until


def step_rows(journeys_, step, until):
    """The journeys of a cohort that reached step by `until`."""
    return [j for j in journeys_ if step == "added" or j.reached(step, until)]


def funnel(advisors, since, until):
    """The funnel of the advisors' contacts added from since to until (China days, inclusive)."""
    everyone = journeys(advisors)
    cohort = [j for j in everyone if in_cohort(j, since, until)]
    labels = advisor_labels(advisors)
    per_advisor = [_line(userid, name, [j for j in cohort if j.advisor == userid], until, branch)
                   for userid, (name, branch) in sorted(labels.items(), key=lambda item: (item[1][1], item[0]))]
    branch_names = sorted({branch for _, branch in labels.values()})
    per_branch = [_line(branch, branch, [j for j in cohort if labels[j.advisor][1] == branch], until)
                  for branch in branch_names]
    won = _won_back({j.account_id for j in everyone if j.account_id}, since, until)
    return Funnel(total=_line("all", "合计", cohort, until), branches=per_branch,
                  advisors=[line for line in per_advisor if line.steps[0].count], since=since, until=until,
                  dormant=sum(1 for j in everyone if is_dormant(j.profile, until)), won_back=won,
                  channels=by_channel(cohort, until))


def by_channel(cohort, until):
    """ChannelLines of a cohort, largest first, 未知渠道 (no channel brought them) last."""
    firsts = first_channels({j.external_userid for j in cohort})
    groups = {}
    for journey in cohort:
        groups.setdefault(firsts.get(journey.external_userid, UNKNOWN_CHANNEL), []).append(journey)
    lines = [ChannelLine(name, len(rows), len(step_rows(rows, "opened", until)), len(step_rows(rows, "funded", until)),
                         _median_days(rows, "added", "opened", until)) for name, rows in groups.items()]
    return sorted(lines, key=lambda line: (line.label == UNKNOWN_CHANNEL, -line.added, line.label))


def _line(key, label, cohort, until, branch=""):
    """A FunnelLine over one cohort."""
    steps, previous = [], None
    for step in STEPS:
        count = len(step_rows(cohort, step, until))
        rate = count / previous.count if previous and previous.count else None
        days = _median_days(cohort, previous.key, step, until) if previous else None
        steps.append(Step(step, STEP_LABELS[step], count, rate, days))
        previous = steps[-1]
    return FunnelLine(key, label, steps, branch)


def _median_days(cohort, before, after, until):
    """Median days from the step before to this one, over the journeys with both dated (forward only)."""
    gaps = []
    for journey in cohort:
        start = journey.added if before == "added" else journey.stage_dates.get(before)
        end = journey.stage_dates.get(after)
        if start and end and end <= until and end >= start:
            gaps.append((end - start).days)
    return median(gaps) if gaps else None


def _won_back(accounts, since, until):
    """How many of the accounts traded again in the period after 180 days and more without a trade."""
    if not accounts:
        return 0
    return len(set(db.session.scalars(select(JourneyEvent.account_id).where(
        JourneyEvent.kind == "woken", JourneyEvent.day.between(since, until),
        JourneyEvent.account_id.in_(list(accounts))))))


def rows_behind(advisors, since, until, step, advisor=None, branch=None, dormant=False):
    """The journeys behind one figure of the page: a step of one line, or the dormant clients."""
    everyone = journeys(advisors)
    labels = advisor_labels(advisors)
    if advisor:
        everyone = [j for j in everyone if j.advisor == advisor]
    if branch:
        everyone = [j for j in everyone if labels[j.advisor][1] == branch]
    if dormant:
        return [j for j in everyone if is_dormant(j.profile, until)]
    return step_rows([j for j in everyone if in_cohort(j, since, until)], step, until)
