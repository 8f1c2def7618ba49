"""A plan step sent as one enterprise mass send (客户群发) to every target due, instead of chat by chat.

Every target goes through the same path as a one-tap send first (tasks.prepare: the suitability gate
at that moment, one share per message in the audit, carrying the task): a target the gate refuses is
blocked and listed, not sent, and so is one that already received this month's 群发 allowance from
us. The rest go in one `add_msg_template` with the advisor as sender; nothing reaches a client until
the advisor confirms it in WeCom. Its results close the tasks: the SOP job (every minute) reads
`get_groupmsg_task` until the advisor sent it, then `get_groupmsg_send_result` page by page, keeping
the cursor, so an interrupted run resumes where it stopped; checks back off from 2 to 30 minutes.
A client reached (1) makes the task done (on time or late by the send time); one no longer a friend
(2) or over WeCom's monthly cap (3) makes it failed, with the reason.

A mass send carries one text for all: {客户称呼} becomes 尊敬的客户 (各位 in groups). Materials go as
attachments (image, video, file, link); a mini-program needs its cover as media, so a step with one
is sent chat by chat.
"""
import calendar
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from ..domain.access import NotVisible
from ..domain.calendar import as_utc
from ..extensions import db
from ..materials import sharing
from ..models import CHINA, ExternalContact, Follow, GroupChat, Share, SopMassSend, SopPlan, SopTask, Staff, utcnow
from ..wecom import WeComError
from . import tasks
from .tick import expires_at

log = logging.getLogger(__name__)
MIN_TARGETS = 2  # one target is a chat: sent from the chat
FIRST_CHECK = timedelta(minutes=2)
LAST_PACE = timedelta(minutes=30)
GIVE_UP = timedelta(hours=72)  # an unconfirmed mass send after this is over (its tasks expired long before)
PAGE_LIMIT = 1000
PAGES_PER_RUN = 10
SENDS_PER_RUN = 20
GREETING = {"contact": "尊敬的客户", "group": "各位"}
RESULT_REASONS = {2: "客户已不是你的好友，群发未送达", 3: "本月已收到过群发（企业微信每月上限），未送达"}
MONTHLY_FULL = "本月已达企业微信的群发上限，请在聊天中单独发送"


class NothingToSend(Exception):
    """No task of this step is due for the advisor, or every one was left out; the message says which."""


class NotMassSendable(Exception):
    """The step cannot go as a mass send (a mini-program); the message says why."""


@dataclass
class Candidate:
    """A step with several targets due for the advisor: what the 工作台 offers to mass-send."""

    plan_id: int
    plan_name: str
    step: int
    chat_kind: str
    count: int


@dataclass
class PollResult:
    """What one poll read."""

    checked: int = 0
    closed: int = 0

    def describe(self):
        """In words, for /console/jobs."""
        return f"群发检查 {self.checked}，关闭任务 {self.closed}"


# -- the 工作台 ---------------------------------------------------------------------------------------

def candidates(advisor, now=None):
    """The steps with at least MIN_TARGETS tasks due for the advisor and not in a mass send yet."""
    counts = Counter((v.task.plan_id, v.plan_name, v.task.step, v.task.chat_kind)
                     for v in tasks.due_for_advisor(advisor, now))
    return [Candidate(plan_id, name, step, kind, count)
            for (plan_id, name, step, kind), count in counts.items() if count >= MIN_TARGETS]


def recent(advisor, now=None):
    """The advisor's mass sends of the last 3 days, newest first (waiting ones can be reminded or cancelled)."""
    since = as_utc(now or datetime.now(CHINA)) - GIVE_UP
    return db.session.scalars(select(SopMassSend).where(SopMassSend.advisor == advisor, SopMassSend.created_at >= since)
                              .order_by(SopMassSend.id.desc())).all()


def outcome(mass):
    """{task status: count} of a mass send's tasks."""
    return dict(db.session.execute(select(SopTask.status, func.count()).where(SopTask.mass_send_id == mass.id)
                                   .group_by(SopTask.status)).tuples().all())


# -- starting one -------------------------------------------------------------------------------------

def start(wecom, storage, advisor, plan_id, step, chat_kind, links, now=None):
    """Gate every due target of the step, then one add_msg_template for those that passed; the SopMassSend.

    Boundary: what the gate prepared (each target's shares, linked to its task) is committed before WeCom
    is called, and a content WeCom cannot mass-send cancels them, kept though the request then fails:
    no share is left "prepared" with a live link, and no write is held across the call.
    """
    now = now or datetime.now(CHINA)
    due = _due_tasks(advisor, plan_id, step, chat_kind, now)
    if not due:
        raise NothingToSend("这一步没有待发送的对象")
    excluded, passed = [], []
    full = _over_cap([t.chat_id for t in due], chat_kind, now)
    for task in due:
        if task.chat_id in full:
            excluded.append({"chat_id": task.chat_id, "reason": MONTHLY_FULL})
            continue
        try:
            prepared = tasks.prepare(wecom, storage, advisor, task.id, links, now=now)
        except sharing.Blocked as blocked:  # the task is blocked with the reason (tasks.prepare)
            excluded.append({"chat_id": task.chat_id, "reason": blocked.share.reason})
            continue
        except NotVisible:
            excluded.append({"chat_id": task.chat_id, "reason": "你已无法联系该客户"})
            continue
        passed.append((task, prepared))
    if not passed:
        raise NothingToSend("没有可以群发的对象：" + "；".join(sorted({e["reason"] for e in excluded})))
    db.session.commit()
    try:
        text, attachments = _content(passed[0][1], _step_text(advisor, due[0], chat_kind))
    except NotMassSendable:
        _close_shares([t.id for t, _ in passed], "cancelled")
        db.session.commit()
        raise
    return _create(wecom, advisor, due[0], passed, excluded, text, attachments, now)


def _due_tasks(advisor, plan_id, step, chat_kind, now):
    """The advisor's open tasks of the step due now and not in a mass send, as rows."""
    moment = as_utc(now)
    rows = db.session.scalars(select(SopTask).where(
        SopTask.advisor == advisor, SopTask.plan_id == plan_id, SopTask.step == step, SopTask.chat_kind == chat_kind,
        SopTask.status == "open", SopTask.due_at <= moment, SopTask.mass_send_id.is_(None)).order_by(SopTask.id)).all()
    return [task for task in rows if expires_at(task) > moment]


def _over_cap(chat_ids, chat_kind, now):
    """The targets that already received as many of our mass sends this month as WeCom allows."""
    local = now.astimezone(CHINA)
    first = as_utc(local.replace(day=1, hour=0, minute=0, second=0, microsecond=0))
    cap = calendar.monthrange(local.year, local.month)[1]
    rows = db.session.execute(select(SopTask.chat_id, func.count()).join(SopMassSend, SopTask.mass_send_id == SopMassSend.id)
                              .where(SopTask.chat_id.in_(chat_ids), SopTask.chat_kind == chat_kind,
                                     SopTask.status.in_(("done", "late")), SopMassSend.sent_at >= first)
                              .group_by(SopTask.chat_id)).tuples().all()
    return {chat_id for chat_id, count in rows if count >= cap}


def _step_text(advisor, task, chat_kind):
    """The step's text as one message for every target: the greeting generic, the advisor's name filled."""
    text = task.version.spec["steps"][task.step]["text"]
    name = db.session.scalar(select(Staff.name).where(Staff.userid == advisor)) or ""
    return text.replace("{客户称呼}", GREETING[chat_kind]).replace("{顾问姓名}", name).strip()


def _content(prepared, step_text):
    """(text, attachments) of the mass send from one target's prepared messages."""
    texts, attachments = [], []
    for share, message, follow_up in prepared:
        if share.material_id is None:
            continue  # the step's own text: step_text, with the generic greeting
        kind = message["msgtype"]
        if kind == "text":
            texts.append(message["text"]["content"])
        elif kind in ("image", "video", "file"):
            attachments.append({"msgtype": kind, kind: {"media_id": message[kind]["mediaid"]}})
        elif kind == "news":
            news = message["news"]
            link = {"title": news["title"], "url": news["link"], "desc": news["desc"]}
            if news["imgUrl"]:
                link["picurl"] = news["imgUrl"]
            attachments.append({"msgtype": "link", "link": link})
        else:
            raise NotMassSendable("小程序物料不能群发，请在聊天中逐个发送")
        if follow_up:
            texts.append(follow_up["text"]["content"])
    return "\n\n".join(filter(None, [step_text, *texts])), attachments


def _create(wecom, advisor, first, passed, excluded, text, attachments, now):
    """add_msg_template for the passed targets; their tasks join the mass send, refused ones are listed.

    Boundary: the mass send is committed right after WeCom made it — its msgid must not be lost, or the tasks
    would be sent again; a failure's shares are recorded failed and committed though the request then fails.
    """
    mass = SopMassSend(advisor=advisor, plan_id=first.plan_id, step=first.step, chat_kind=first.chat_kind,
                       text=text, attachments=attachments, excluded=excluded, targets=0)
    chat_type = "single" if first.chat_kind == "contact" else "group"
    try:
        mass.msgid, refused = wecom.add_msg_template(advisor, chat_type, [t.chat_id for t, _ in passed], text,
                                                     attachments)
    except WeComError:  # nothing written since start's commit: the shares' failure is kept, the request fails
        _close_shares([t.id for t, _ in passed], "failed")
        db.session.commit()
        raise
    refused = set(refused)
    carried = [t for t, _ in passed if t.chat_id not in refused]
    excluded += [{"chat_id": t.chat_id, "reason": "企业微信拒绝：不是你的客户或客户群"} for t, _ in passed
                 if t.chat_id in refused]
    _close_shares([t.id for t, _ in passed if t.chat_id in refused], "failed")
    mass.status = "waiting" if carried else "refused"
    mass.targets, mass.excluded = len(carried), excluded
    mass.next_check_at = as_utc(now) + FIRST_CHECK
    db.session.add(mass)
    db.session.flush()
    ids = [t.id for t in carried]
    db.session.execute(update(SopTask).where(SopTask.id.in_(ids)).values(mass_send_id=mass.id))
    # what the audit says was sent: the one text every client got, not the personal greeting of a chat
    db.session.execute(update(Share).where(Share.task_id.in_(ids), Share.material_id.is_(None),
                                           Share.status == "prepared")
                       .values(message={"message": {"msgtype": "text", "text": {"content": text}}, "follow_up": None}))
    db.session.commit()
    return mass


def _close_shares(task_ids, status):
    """The prepared shares of these tasks get a final status (sent, failed or cancelled)."""
    if task_ids:
        db.session.execute(update(Share).where(Share.task_id.in_(task_ids), Share.status == "prepared")
                           .values(status=status, result_at=utcnow()))


# -- the advisor's other actions ----------------------------------------------------------------------

def _own_waiting(advisor, mass_id):
    """The advisor's own mass send (NotVisible otherwise), still waiting for confirmation (tasks.WrongState)."""
    mass = db.session.get(SopMassSend, mass_id)
    if mass is None or mass.advisor != advisor:
        raise NotVisible
    if mass.status != "waiting":
        raise tasks.WrongState("该群发已不在等待确认")
    return mass


def remind(wecom, advisor, mass_id):
    """WeCom reminds the advisor to confirm (at most 3 times a day, WeCom counts)."""
    mass = _own_waiting(advisor, mass_id)
    wecom.remind_groupmsg_send(mass.msgid)
    mass.reminded += 1
    return mass


def cancel(wecom, advisor, mass_id):
    """Cancel a mass send not confirmed yet: its tasks are open again, to send chat by chat."""
    mass = _own_waiting(advisor, mass_id)
    wecom.cancel_groupmsg_send(mass.msgid)
    ids = list(db.session.scalars(select(SopTask.id).where(SopTask.mass_send_id == mass.id)))
    mass.status, mass.finished_at = "cancelled", utcnow()
    db.session.execute(update(SopTask).where(SopTask.id.in_(ids), SopTask.status == "open").values(mass_send_id=None))
    _close_shares(ids, "cancelled")
    return mass


# -- reading the results (the SOP job) ----------------------------------------------------------------

def poll(wecom, now=None, page_limit=PAGE_LIMIT, pages_per_run=PAGES_PER_RUN):
    """Check the mass sends due for a check (a few per run, pages_per_run pages each); returns what was read.

    Boundary: each mass send's check is a unit of its own — a WeCom failure rolls back that check only (what
    it read before is committed page by page) and its next check is paced and committed.
    """
    now = now or datetime.now(CHINA)
    result = PollResult()
    due = db.session.scalars(select(SopMassSend).where(SopMassSend.status.in_(("waiting", "sent")),
                                                       SopMassSend.next_check_at <= as_utc(now))
                             .order_by(SopMassSend.next_check_at).limit(SENDS_PER_RUN)).all()
    for mass in due:
        result.checked += 1
        try:
            result.closed += check(wecom, mass, now, page_limit, pages_per_run)
        except WeComError as error:  # this one waits its next check; the others go on
            db.session.rollback()
            log.warning("mass send %s: %s", mass.id, type(error).__name__)
            _pace(mass, now)
            db.session.commit()
    return result


def check(wecom, mass, now, page_limit=PAGE_LIMIT, pages_per_run=PAGES_PER_RUN):
    """One check of a mass send: confirmed yet? then its results, from the stored cursor; tasks closed.

    Boundary: each page read is committed with its cursor, so a crash resumes from it and no write transaction
    is held across the next call to WeCom.
    """
    if mass.status == "waiting" and not _confirmed(wecom, mass, now):
        return 0
    closed, pages = 0, 0
    while pages < pages_per_run:
        rows, mass.cursor = wecom.get_groupmsg_send_result(mass.msgid, mass.advisor, mass.cursor or "", page_limit)
        closed += _apply(mass, rows)
        db.session.commit()  # a page read is kept: a crash resumes from the cursor
        pages += 1
        if not mass.cursor:
            break
    if mass.cursor:
        mass.next_check_at = as_utc(now)  # more pages: the next run goes on
    elif _open_tasks(mass) and as_utc(now) - mass.created_at < GIVE_UP:
        _pace(mass, now)  # some recipients not decided yet: read them all again later
    else:
        mass.status, mass.finished_at = "done", utcnow()
    db.session.commit()
    return closed


def _confirmed(wecom, mass, now):
    """Whether the advisor sent it (status 2), recorded; otherwise the next check is paced or it is given up.

    Boundary: the answer is committed before check() calls WeCom again (see check).
    """
    cursor = ""
    while True:
        members, cursor = wecom.get_groupmsg_task(mass.msgid, cursor)
        mine = next((m for m in members if m.get("userid") == mass.advisor), None)
        if mine or not cursor:
            break
    if mine and mine.get("status") == 2:
        mass.status = "sent"
        mass.sent_at = as_utc(datetime.fromtimestamp(mine.get("send_time") or now.timestamp(), CHINA))
        db.session.commit()
        return True
    if as_utc(now) - mass.created_at >= GIVE_UP:
        mass.status, mass.finished_at = "unconfirmed", utcnow()
        ids = list(db.session.scalars(select(SopTask.id).where(SopTask.mass_send_id == mass.id)))
        db.session.commit()
        _close_shares(ids, "cancelled")
    else:
        _pace(mass, now)
        db.session.commit()
    return False


def _pace(mass, now):
    """The next check: 2, 4, 8 … up to 30 minutes after this one."""
    mass.checks += 1
    mass.next_check_at = as_utc(now) + min(FIRST_CHECK * 2 ** (mass.checks - 1), LAST_PACE)


def _apply(mass, rows):
    """Close the tasks of one page of results; returns how many were closed."""
    closed = 0
    for row in rows:
        target, status = row.get("external_userid") or row.get("chat_id"), row.get("status")
        task = db.session.scalar(select(SopTask).where(SopTask.mass_send_id == mass.id, SopTask.chat_id == target,
                                                       SopTask.status.in_(("open", "expired"))))
        if task is None or status not in (1, 2, 3):
            continue
        if status == 1:
            sent = as_utc(datetime.fromtimestamp(row["send_time"], CHINA)) if row.get("send_time") else mass.sent_at
            values = {"status": "done" if sent <= task.deadline else "late", "done_at": sent, "reason": None}
        else:
            values = {"status": "failed", "done_at": utcnow(), "reason": RESULT_REASONS[status]}
        closed += db.session.execute(update(SopTask).where(SopTask.id == task.id, SopTask.status == task.status)
                                     .values(**values)).rowcount
        db.session.execute(update(Share).where(Share.task_id == task.id, Share.status == "prepared")
                           .values(status="sent" if status == 1 else "failed", result_at=utcnow()))
    return closed


def _open_tasks(mass):
    """How many of the mass send's tasks have no result yet."""
    return db.session.scalar(select(func.count()).select_from(SopTask).where(
        SopTask.mass_send_id == mass.id, SopTask.status.in_(("open", "expired"))))


def target_names(advisor, chat_ids):
    """{chat_id: the group's name or the advisor's remark of the contact} for listing targets."""
    names = dict(db.session.execute(select(GroupChat.chat_id, GroupChat.name).where(
        GroupChat.chat_id.in_(chat_ids))).tuples().all())
    rows = db.session.execute(select(Follow.external_userid, Follow.remark, ExternalContact.name).join(ExternalContact)
                              .where(Follow.userid == advisor, Follow.external_userid.in_(chat_ids))).all()
    names.update({external_userid: remark or name for external_userid, remark, name in rows})
    return names


def plan_names(ids):
    """{plan id: name}."""
    return dict(db.session.execute(select(SopPlan.id, SopPlan.name).where(SopPlan.id.in_(ids))).tuples().all())


