"""Service activity figures for a manager's department tree: WeCom's daily statistics added up over a period per
advisor, and WeCom coverage (funded clients reachable on WeCom ÷ all funded clients) per branch."""
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from ..domain.access import advisors_managed_by, departments_managed_by, staff_names
from ..extensions import db
from ..insight import charts
from ..models import (AdvisorActivity, ClientProfile, Department, ExternalContact, Follow, GroupActivity,
                      china_today)

FUNDED = ("funded", "traded")
MAX_PERIOD_DAYS = 180  # WeCom keeps no older statistics
PRESETS = (7, 30, 90)


class InvalidPeriod(Exception):
    """A period that ends before it starts or is longer than WeCom keeps."""


@dataclass
class AdvisorActivityRow:
    """One advisor's figures over the period; a rate or time is None without a chat to measure it by."""

    userid: str
    name: str
    days: int = 0
    chats: int = 0
    messages: int = 0
    reply_rate: float | None = None  # 0–1
    first_reply: float | None = None  # minutes
    new_contacts: int = 0
    lost_contacts: int = 0
    group_messages: int = 0
    funded_on_wecom: int = 0


@dataclass
class Coverage:
    """A branch's funded clients and how many of them an advisor can reach on WeCom."""

    department_id: int | None
    name: str
    funded: int = 0
    reachable: int = 0

    @property
    def rate(self):
        """reachable ÷ funded, or None without funded clients."""
        return self.reachable / self.funded if self.funded else None


@dataclass
class ActivityReport:
    """The page: the period, a row per advisor in scope, the scope's totals and daily messages, coverage."""

    since: object
    until: object
    rows: list
    total: AdvisorActivityRow
    trend: object
    coverage: list = field(default_factory=list)
    coverage_total: Coverage | None = None

    @property
    def presets(self):
        """(days, since) of the periods offered: the last 7, 30 and 90 days up to the report's end."""
        return [(days, self.until - timedelta(days=days - 1)) for days in PRESETS]


def period(since, until, today=None):
    """(since, until) with the defaults: the 30 days up to yesterday (T+1); InvalidPeriod when reversed or too long."""
    yesterday = (today or china_today()) - timedelta(days=1)
    until = until or yesterday
    since = since or until - timedelta(days=29)
    if since > until:
        raise InvalidPeriod("开始日期晚于结束日期")
    if (until - since).days >= MAX_PERIOD_DAYS:
        raise InvalidPeriod(f"区间最长 {MAX_PERIOD_DAYS} 天（企业微信只保留这么久的统计）")
    return since, until


def activity_report(manager, since, until):
    """The manager's department tree's service activity from since to until (China days, inclusive)."""
    scope = advisors_managed_by(manager)
    days = db.session.scalars(select(AdvisorActivity).where(
        AdvisorActivity.userid.in_(scope), AdvisorActivity.day.between(since, until))).all()
    names = staff_names({row.userid for row in days})
    rows = {}
    for row in days:
        rows.setdefault(row.userid, _Sums(row.userid, names.get(row.userid, row.userid))).add(row)
    total = _Sums("", "合计")
    for row in days:
        total.add(row)
    groups = db.session.execute(select(GroupActivity.owner, GroupActivity.msg_total).where(
        GroupActivity.owner.in_(scope), GroupActivity.day.between(since, until))).tuples().all()
    for owner, messages in groups:
        if owner in rows:
            rows[owner].group_messages += messages
        total.group_messages += messages
    reached = funded_reached_by(set(rows))
    for userid, sums in rows.items():
        sums.funded_on_wecom = reached.get(userid, 0)
    coverage = coverage_by_branch(manager)
    return ActivityReport(since, until, sorted((s.row() for s in rows.values()), key=lambda r: r.userid),
                          total.row(), _trend(days), coverage,
                          _sum_coverage(coverage) if coverage else None)


class _Sums:
    """Running sums of one advisor's (or the scope's) days; rates weighted by the day's chats."""

    def __init__(self, userid, name):
        self.figures = AdvisorActivityRow(userid, name)
        self.group_messages = self.funded_on_wecom = 0
        self.rated = self.rate_sum = self.timed = self.time_sum = 0

    def add(self, day):
        """Count one stored day."""
        figures = self.figures
        figures.days += 1
        figures.chats += day.chat_cnt
        figures.messages += day.message_cnt
        figures.new_contacts += day.new_contact_cnt
        figures.lost_contacts += day.negative_feedback_cnt
        if day.reply_percentage is not None and day.chat_cnt:
            self.rated += day.chat_cnt
            self.rate_sum += day.reply_percentage * day.chat_cnt
        if day.avg_reply_time is not None and day.chat_cnt:
            self.timed += day.chat_cnt
            self.time_sum += day.avg_reply_time * day.chat_cnt

    def row(self):
        """The figures, with the weighted reply rate (0–1) and first-reply minutes."""
        figures = self.figures
        figures.reply_rate = self.rate_sum / self.rated / 100 if self.rated else None
        figures.first_reply = self.time_sum / self.timed if self.timed else None
        figures.group_messages, figures.funded_on_wecom = self.group_messages, self.funded_on_wecom
        return figures


def _trend(days):
    """The scope's messages a day as a trend line (None with fewer than two days)."""
    per_day = {}
    for row in days:
        per_day[row.day] = per_day.get(row.day, 0) + row.message_cnt
    return charts.trend(sorted(per_day.items()))


def funded_reached_by(userids):
    """userid -> how many funded clients (linked profiles) the advisor follows on WeCom now."""
    if not userids:
        return {}
    pairs = db.session.execute(select(Follow.userid, ClientProfile.account_id).join(
        ClientProfile, ClientProfile.external_userid == Follow.external_userid).where(
        Follow.userid.in_(userids), Follow.ended_at.is_(None), ClientProfile.stage.in_(FUNDED))).tuples().all()
    counts = {}
    for userid, _ in set(pairs):
        counts[userid] = counts.get(userid, 0) + 1
    return counts


def coverage_by_branch(manager):
    """Coverage of each department in the manager's tree that has funded clients (profile.branch names it)."""
    rows = {}
    for department, name, _, _, reachable in _funded_in_scope(manager):
        coverage = rows.setdefault((department, name), Coverage(department, name))
        coverage.funded += 1
        coverage.reachable += reachable
    return sorted(rows.values(), key=lambda c: (c.department_id is None, c.department_id or 0, c.name))


def coverage_clients(manager, branch=None):
    """(name, account_id, reachable) of the funded clients behind a branch's coverage (every branch's without
    one): the rows coverage_by_branch counts, in the manager's tree."""
    rows = [(client, account_id, reachable) for _, label, client, account_id, reachable in _funded_in_scope(manager)
            if not branch or label == branch]
    return sorted(rows, key=lambda row: (not row[2], row[1] or ""))


def _funded_in_scope(manager):
    """(department id or None, branch label, client name, account_id, reachable) of each funded profile of the
    manager's tree."""
    tree = {d.id: d for d in db.session.scalars(select(Department))}
    scope = departments_managed_by(manager)
    by_name = _branch_names(tree)
    reachable = set(db.session.scalars(select(Follow.external_userid).where(Follow.ended_at.is_(None))))
    query = select(ClientProfile.branch, ClientProfile.external_userid, ClientProfile.account_id,
                   ExternalContact.name).outerjoin(
        ExternalContact, ExternalContact.external_userid == ClientProfile.external_userid).where(
        ClientProfile.stage.in_(FUNDED))
    for branch, external_userid, account_id, name in db.session.execute(query).tuples():
        department = by_name.get(branch or "")
        if scope is not None and department not in scope:
            continue
        label = tree[department].name if department is not None else (branch or "未注明营业部")
        yield department, label, name, account_id, external_userid in reachable


def _branch_names(tree):
    """A profile's branch text -> department id: the names from below the root down (上海分公司浦东营业部),
    or the department's own name."""
    def path(department):
        names = []
        while department is not None and department.parentid:
            names.append(department.name)
            department = tree.get(department.parentid)
        return "".join(reversed(names))
    names = {d.name: d.id for d in tree.values()}
    names.update({path(d): d.id for d in tree.values() if d.parentid})
    return names


def _sum_coverage(rows):
    """The scope's coverage: every branch's added up."""
    total = Coverage(None, "合计")
    for row in rows:
        total.funded += row.funded
        total.reachable += row.reachable
    return total


def advisor_days(userids, since, until):
    """The stored statistics days of the advisors in the period, the rows the page's figures add up."""
    return db.session.scalars(select(AdvisorActivity).where(
        AdvisorActivity.userid.in_(userids), AdvisorActivity.day.between(since, until))
        .order_by(AdvisorActivity.day, AdvisorActivity.userid)).all()


def group_days(userids, since, until):
    """The stored group statistics days of the owners in the period, the rows behind 群消息."""
    return db.session.scalars(select(GroupActivity).where(
        GroupActivity.owner.in_(userids), GroupActivity.day.between(since, until))
        .order_by(GroupActivity.day, GroupActivity.owner)).all()


def days_total(days):
    """The days added up as the page adds them: the reply rate and first-reply time weighted by each day's chats."""
    sums = _Sums("", "合计")
    for day in days:
        sums.add(day)
    return sums.row()


def funded_reached(userids):
    """(name, account_id, advisor) of the funded clients the advisors follow on WeCom now: funded_reached_by's rows."""
    rows = db.session.execute(select(ExternalContact.name, ClientProfile.account_id, Follow.userid).select_from(
        Follow).join(ClientProfile, ClientProfile.external_userid == Follow.external_userid).outerjoin(
        ExternalContact, ExternalContact.external_userid == Follow.external_userid).where(
        Follow.userid.in_(userids), Follow.ended_at.is_(None), ClientProfile.stage.in_(FUNDED))).tuples().all()
    return sorted(set(rows), key=lambda row: (row[2], row[1] or ""))
