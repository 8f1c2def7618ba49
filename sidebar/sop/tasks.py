"""An advisor's SOP tasks: what is due in a chat and in their day, sending a task, skipping it.

A task's messages go through the library's share path (sidebar/materials/sharing.py): each material
is checked for suitability at that moment and recorded as a share; the step's text, reviewed with
the plan, is recorded as a share without a material. Each share carries the task's id. The task is
done when every share of its latest preparation is reported `sent` — on time by its deadline, late
after — never because the advisor says so. A material the gate refuses blocks the task with the reason.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..domain.access import NotVisible
from ..materials import sharing
from ..materials.audience import audience_for
from ..models import CHINA, ExternalContact, Follow, Material, Share, SopTask, Staff, china_today, utcnow
from ..domain.calendar import as_utc
from .tick import expires_at

REASON_MAX = 200
STATUS_LABELS = {"open": "待发送", "done": "按时完成", "late": "逾期完成", "skipped": "已跳过", "blocked": "已拦截",
                 "expired": "已过期", "cancelled": "已结束", "failed": "未送达"}
SKIP_REASONS = ("客户近期已沟通", "内容不适合该群/客户", "客户要求勿扰", "其他")


# Built once: every client panel asks (building a select costs more than running this one).
HAS_DUE = select(SopTask.id).where(SopTask.chat_id == bindparam("chat_id"), SopTask.chat_kind == bindparam("chat_kind"),
                                   SopTask.advisor == bindparam("advisor"), SopTask.status == "open",
                                   SopTask.due_at <= bindparam("moment"), SopTask.mass_send_id.is_(None)).limit(1)


class WrongState(Exception):
    """The task is not open any more; the message says what it is."""


class InvalidInput(Exception):
    """The skip reason is missing or too long."""


@dataclass
class TaskView:
    """A task as the sidebar shows it: the plan, what will be sent, when, how overdue."""

    task: SopTask
    plan_name: str
    text: str
    materials: list
    overdue: bool

    @property
    def id(self):
        """The task's id."""
        return self.task.id


def due_for_chat(advisor, chat_kind, chat_id, now=None):
    """The advisor's open tasks in one chat that are due now (overdue ones included), oldest first."""
    return _due(advisor, now, SopTask.chat_kind == chat_kind, SopTask.chat_id == chat_id)


def has_due(advisor, chat_kind, chat_id, now=None):
    """Whether the advisor has an open task due in this chat (one indexed query)."""
    moment = as_utc(now or datetime.now(CHINA))
    found = db.session.connection().execute(HAS_DUE, {"chat_id": chat_id, "chat_kind": chat_kind, "advisor": advisor,
                                                      "moment": moment}).first()
    return found is not None


def due_for_advisor(advisor, now=None):
    """Every open task of the advisor due now or overdue, oldest first (the 工作台)."""
    return _due(advisor, now)


def done_today(advisor, now=None):
    """The advisor's tasks closed today (done, late, skipped, blocked), newest first."""
    now = now or datetime.now(CHINA)
    start = as_utc(datetime.combine(now.astimezone(CHINA).date(), datetime.min.time(), CHINA))
    rows = db.session.scalars(select(SopTask).where(SopTask.advisor == advisor, SopTask.done_at >= start)
                              .options(selectinload(SopTask.plan)).order_by(SopTask.done_at.desc())).all()
    return rows


def _due(advisor, now, *where):
    """Open tasks of advisor with due_at ≤ now and not past expiry, as TaskViews."""
    now = now or datetime.now(CHINA)
    moment = as_utc(now)
    rows = db.session.scalars(select(SopTask).where(SopTask.advisor == advisor, SopTask.status == "open",
                                                    SopTask.due_at <= moment, SopTask.mass_send_id.is_(None), *where)
                              .options(selectinload(SopTask.plan), selectinload(SopTask.version))
                              .order_by(SopTask.due_at, SopTask.id)).all()
    return [_view(task, moment, advisor) for task in rows if expires_at(task) > moment]


def _view(task, moment, advisor):
    """The task with its step's text as it will be sent, and its material titles."""
    step = task.version.spec["steps"][task.step]
    titles = [m.live.title for m in _materials(step["materials"]) if m.live]
    return TaskView(task, task.plan.name, _preview(step["text"], advisor, task), titles, task.deadline < moment)


def _preview(text, advisor, task):
    """The text with its placeholders filled from what is stored (the send fills them again, authorised)."""
    if "{" not in text:
        return text
    greeting = "各位"
    if task.chat_kind == "contact":
        row = db.session.execute(select(Follow.remark, ExternalContact.name).join(ExternalContact).where(
            Follow.userid == advisor, Follow.external_userid == task.chat_id)).first()
        greeting = (row.remark or row.name) if row else "客户"
    name = db.session.scalar(select(Staff.name).where(Staff.userid == advisor)) or ""
    return text.replace("{客户称呼}", greeting).replace("{顾问姓名}", name)


def _materials(ids):
    """Materials by id, in the step's order."""
    found = {m.id: m for m in db.session.scalars(select(Material).where(Material.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]


def prepare(wecom, storage, advisor, task_id, links, now=None):
    """The task's messages prepared as shares: [(share, message, follow_up)], or sharing.Blocked."""
    task = _own_open(advisor, task_id)
    step = task.version.spec["steps"][task.step]
    target = f"{task.chat_kind}:{task.chat_id}"
    audience = audience_for(wecom, advisor, target, china_today())  # NotVisible unless theirs
    prepared, first = [], None
    for material_id in step["materials"]:
        try:
            done = sharing.prepare_share(wecom, storage, advisor, material_id, target, links)
        except sharing.Blocked as blocked:
            _attach(blocked.share, task)
            _block(task, blocked.share.reason)
            raise
        _attach(done.share, task)
        first = first or done.share.id
        prepared.append((done.share, done.message, done.follow_up))
    if step["text"].strip():
        share = _text_share(task, advisor, audience, fill(step["text"], advisor, audience))
        first = first or share.id
        prepared.append((share, share.message["message"], None))
    task.batch_from = first
    db.session.flush()
    return prepared


def fill(text, advisor, audience):
    """The step's text with its placeholders: 客户称呼 (the remark, or 各位 in a group) and 顾问姓名."""
    name = db.session.scalar(select(Staff.name).where(Staff.userid == advisor)) or ""
    greeting = audience.name if audience.type == "contact" else "各位"
    return text.replace("{客户称呼}", greeting).replace("{顾问姓名}", name)


def _text_share(task, advisor, audience, text):
    """A prepared share of the step's own text (no material), carrying the task."""
    message = {"msgtype": "text", "text": {"content": text}}
    share = Share(advisor=advisor, material_id=None, version_id=None, target_type=audience.type,
                  target_id=audience.id, target_name=audience.name, client_class=audience.client_class,
                  checks={"sop_task": task.id}, status="prepared", message={"message": message, "follow_up": None},
                  task_id=task.id)
    db.session.add(share)
    db.session.flush()
    return share


def _attach(share, task):
    """Record the task on a share the library path made.

    Boundary: committed at once, as the share itself was (materials.sharing._record): the step's next
    material may be uploaded to WeCom now, and no write may be held across that call (on SQLite it
    would lock out the token cache's own connection).
    """
    db.session.execute(update(Share).where(Share.id == share.id).values(task_id=task.id))
    db.session.commit()


def _block(task, reason):
    """The gate refused a message: the task is blocked with its reason.

    Boundary: committed here, because the request then fails (403) and rolls back its work.
    """
    task.status, task.reason, task.done_at = "blocked", reason, utcnow()
    db.session.commit()


@sharing.share_reported.connect
def reported(share):
    """After the page reported a share of a task: the task is done when its whole batch was sent."""
    if not share.task_id:
        return None
    task = db.session.get(SopTask, share.task_id)
    if task is None or task.status != "open" or task.batch_from is None:
        return None
    batch = select(Share.status).where(Share.task_id == task.id, Share.id >= task.batch_from)
    statuses = db.session.scalars(batch).all()
    if not statuses or any(status != "sent" for status in statuses):
        return task
    now = utcnow()
    status = "done" if now <= task.deadline else "late"
    db.session.execute(update(SopTask).where(SopTask.id == task.id, SopTask.status == "open")
                       .values(status=status, done_at=now))
    return task


def skip(advisor, task_id, reason):
    """The advisor skips an open task, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("跳过时请填写原因")
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"原因最多 {REASON_MAX} 字")
    task = _own_open(advisor, task_id)
    task.status, task.reason, task.done_at = "skipped", reason, utcnow()
    db.session.flush()
    return task


def _own_open(advisor, task_id):
    """The advisor's own task (NotVisible otherwise), open (WrongState otherwise)."""
    task = db.session.get(SopTask, task_id)
    if task is None or task.advisor != advisor:
        raise NotVisible
    if task.status != "open":
        raise WrongState(f"该任务{STATUS_LABELS[task.status]}")
    return task


def counts_by_chat(views):
    """[(chat_kind, chat_id, [TaskView])] grouped in order of their first task."""
    groups = {}
    for view in views:
        groups.setdefault((view.task.chat_kind, view.task.chat_id), []).append(view)
    return [(kind, chat_id, items) for (kind, chat_id), items in groups.items()]


def late_by(task, moment=None):
    """How long past its deadline an open task is (a timedelta, zero if not)."""
    moment = moment or utcnow()
    return max(moment - task.deadline, timedelta(0))


__all__ = ["due_for_chat", "due_for_advisor", "done_today", "prepare", "reported", "skip", "func"]
