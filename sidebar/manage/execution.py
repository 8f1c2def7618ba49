"""SOP execution per branch and advisor (on-time rate, overdue now) and material reach over a date range.

On time = a task done by its deadline. The rate counts every task due in the range whose outcome is
settled (done, late, skipped, blocked, expired) or already overdue; an open task still within its window
may yet be on time and is left out; a cancelled one (its plan or target ended) is nobody's doing.
"""
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timezone

from sqlalchemy import select

from ..extensions import db
from ..models import CHINA, ExternalContact, GroupChat, Share, SopTask
from .journeys import advisor_labels

SETTLED = ("done", "late", "skipped", "blocked", "expired")


@dataclass
class Execution:
    """One advisor's (or branch's) SOP tasks and shares in the range."""

    key: str
    label: str
    branch: str = ""
    tasks: Counter = field(default_factory=Counter)  # status -> n, of tasks due in the range
    overdue_now: int = 0
    sent: int = 0
    clients: set = field(default_factory=set)
    groups: set = field(default_factory=set)
    opened: int = 0  # sent tracked links opened at least once

    @property
    def counted(self):
        """Tasks the on-time rate is out of."""
        return sum(self.tasks[s] for s in SETTLED) + self.tasks["overdue"]

    @property
    def on_time_rate(self):
        """Done by the deadline ÷ counted, or None."""
        return self.tasks["done"] / self.counted if self.counted else None

    def merge(self, other):
        """Add another line's figures (a branch from its advisors)."""
        self.tasks.update(other.tasks)
        self.overdue_now += other.overdue_now
        self.sent += other.sent
        self.clients |= other.clients
        self.groups |= other.groups
        self.opened += other.opened


def utc_bounds(since, until):
    """Naive UTC [start, end) of the China days since … until."""
    start = datetime.combine(since, time(), CHINA).astimezone(timezone.utc).replace(tzinfo=None)
    end = datetime.combine(until, time.max, CHINA).astimezone(timezone.utc).replace(tzinfo=None)
    return start, end


def execution(advisors, since, until, now):
    """(per advisor, per branch, total) Execution lines of the advisors, for tasks due and shares sent in the range."""
    labels = advisor_labels(advisors)
    lines = {userid: Execution(userid, name, branch) for userid, (name, branch) in labels.items()}
    start, end = utc_bounds(since, until)
    now_utc = now.astimezone(timezone.utc).replace(tzinfo=None)
    for task in db.session.execute(select(SopTask.advisor, SopTask.status, SopTask.due_at, SopTask.deadline)
                                   .where(SopTask.advisor.in_(list(advisors)))):
        overdue = task.status == "open" and task.deadline < now_utc
        lines[task.advisor].overdue_now += overdue
        if start <= task.due_at <= end and task.status != "cancelled":
            lines[task.advisor].tasks["overdue" if overdue else task.status] += 1
    for share in db.session.execute(select(Share.advisor, Share.target_type, Share.target_id, Share.first_opened_at)
                                    .where(Share.advisor.in_(list(advisors)), Share.status == "sent",
                                           Share.result_at.between(start, end))):
        line = lines[share.advisor]
        line.sent += 1
        (line.clients if share.target_type == "contact" else line.groups).add(share.target_id)
        line.opened += share.first_opened_at is not None
    branches, total = {}, Execution("all", "合计")
    for line in lines.values():
        branches.setdefault(line.branch, Execution(line.branch, line.branch)).merge(line)
        total.merge(line)
    active = [line for line in lines.values() if line.tasks or line.sent or line.overdue_now]
    return (sorted(active, key=lambda line: (line.branch, line.key)),
            [branches[name] for name in sorted(branches)], total)


ROW_FIGURES = {"counted": "计入按时率的任务", "overdue": "当前逾期的任务", "reach": "期间发送"}


def _chat_names(chat_ids):
    """{chat_id: the group's name or the contact's name} (masked in the template)."""
    names = dict(db.session.execute(select(GroupChat.chat_id, GroupChat.name)
                                    .where(GroupChat.chat_id.in_(chat_ids))).tuples().all())
    names.update(db.session.execute(select(ExternalContact.external_userid, ExternalContact.name)
                                    .where(ExternalContact.external_userid.in_(chat_ids))).tuples().all())
    return names


def rows_behind(advisors, since, until, now, figure, advisor=None, branch=None):
    """The tasks (counted, overdue) or shares (reach) behind one line's figure, as (advisor, chat kind, chat id, at,
    status) rows, and the chats' names; the same selection execution() counts."""
    labels = advisor_labels(advisors)
    chosen = [a for a in advisors if (not advisor or a == advisor) and (not branch or labels[a][1] == branch)]
    start, end = utc_bounds(since, until)
    now_utc = now.astimezone(timezone.utc).replace(tzinfo=None)
    rows = []
    if figure == "reach":
        for share in db.session.scalars(select(Share).where(Share.advisor.in_(chosen), Share.status == "sent",
                                                            Share.result_at.between(start, end))):
            rows.append((share.advisor, share.target_type, share.target_id, share.result_at,
                         "已打开" if share.first_opened_at else "未打开"))
    else:
        for task in db.session.scalars(select(SopTask).where(SopTask.advisor.in_(chosen))):
            overdue = task.status == "open" and task.deadline < now_utc
            counted = start <= task.due_at <= end and task.status != "cancelled" and (
                overdue or task.status in SETTLED)
            if overdue if figure == "overdue" else counted:
                rows.append((task.advisor, task.chat_kind, task.chat_id, task.due_at, "overdue" if overdue else task.status))
    rows.sort(key=lambda row: (row[3], row[0]))
    return rows, _chat_names({row[2] for row in rows}), {a: labels[a][0] for a in chosen}
