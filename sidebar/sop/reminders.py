"""Reminders: at a step's start, one app message per advisor and slot, however many chats it covers.

The tick claims each (advisor, slot) once (a unique row, so two ticks or two hosts claim it once) and
queues the message; the queued task reads the advisor's open tasks of that slot when it runs and
sends one message/send: 今天 08:45 有 3 个群待发送「每日早盘要点」. One message per slot keeps an
advisor with many groups far below WeCom's per-member limits.
"""
from collections import Counter

from sqlalchemy import select

from ..database import upsert
from ..extensions import db
from ..domain.calendar import from_utc
from ..models import CHINA, SopReminder, SopTask


def claim(tasks):
    """The (advisor, slot) pairs of newly made tasks that this caller claimed first; each is sent once."""
    claimed = []
    for advisor, due_at in sorted({(task_advisor, due) for task_advisor, due in tasks}):
        inserted = db.session.execute(upsert(db.engine, SopReminder).values(advisor=advisor, due_at=due_at)
                                      .on_conflict_do_nothing()).rowcount
        if inserted:
            claimed.append((advisor, due_at))
    return claimed


def text_for(advisor, due_at):
    """The reminder's words for the advisor's open tasks of one slot, or None when none is left."""
    rows = db.session.execute(select(SopTask.chat_kind, SopTask.plan_id).where(
        SopTask.advisor == advisor, SopTask.due_at == due_at, SopTask.status == "open")).all()
    if not rows:
        return None
    from ..models import SopPlan

    names = dict(db.session.execute(select(SopPlan.id, SopPlan.name).where(
        SopPlan.id.in_({plan_id for _, plan_id in rows}))).tuples().all())
    kinds = Counter(kind for kind, _ in rows)
    parts = [f"{count} 个{'群' if kind == 'group' else '客户'}" for kind, count in sorted(kinds.items(), reverse=True)]
    when = from_utc(due_at).astimezone(CHINA)
    plans = "、".join(f"「{names[p]}」" for p in dict.fromkeys(plan_id for _, plan_id in rows))
    return f"今天 {when:%H:%M} 有 {'、'.join(parts)}待发送{plans}，请在侧边栏「工作台」中查看。"


def send(wecom, advisor, due_at, link=None):
    """Send one slot's reminder to the advisor (nothing when its tasks are all closed by now): a text card
    opening the 工作台 at `link` when the app knows its public address, else a text."""
    text = text_for(advisor, due_at)
    if text and link:
        wecom.send_textcard_message(advisor, "SOP 待发送", text.removesuffix("请在侧边栏「工作台」中查看。"), link,
                                    "去发送")  # WeCom: at most 4 characters
    elif text:
        wecom.send_text_message(advisor, text)
    return text
