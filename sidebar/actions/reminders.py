"""跟进提醒: "remind me" about a client at a chosen moment. At that moment one app message per advisor
(however many of their reminders fall due in the same minute), and the reminder stays on the advisor's
工作台 until done or moved.

The periodic job claims each due reminder once (an UPDATE that only one caller wins, so two workers or
hosts claim it once) and queues the message; moving a reminder makes it due, and sent, again.
"""
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ..domain.access import NotVisible
from ..domain.calendar import as_utc, from_utc
from ..extensions import db
from ..masking import mask_free_text
from ..materials.audience import mask_name
from ..models import CHINA, ExternalContact, Follow, FollowUpReminder, utcnow
from .service import InvalidInput, own_follow

TEXT_MAX = 200
FURTHEST = timedelta(days=366)  # a reminder a year out is a calendar entry, not a follow-up
GRACE = timedelta(minutes=5)  # a moment picked "now" on a slow phone is not refused as past


def add(wecom, advisor, external_userid, at, text, now=None):
    """A reminder on a client the advisor follows; InvalidInput with the reason for a bad moment or text."""
    follow = own_follow(wecom, advisor, external_userid)
    now = now or datetime.now(CHINA)
    reminder = FollowUpReminder(advisor=advisor, external_userid=follow.external_userid,
                                due_at=parse_moment(at, now), text=_checked_text(text))
    db.session.add(reminder)
    db.session.flush()
    return reminder


def move(advisor, reminder_id, at, now=None):
    """Move an open reminder of the advisor's to another moment: it will be sent again then."""
    reminder = _own_open(advisor, reminder_id)
    reminder.due_at = parse_moment(at, now or datetime.now(CHINA))
    reminder.sent_at = None
    return reminder


def done(advisor, reminder_id):
    """Close an open reminder of the advisor's."""
    reminder = _own_open(advisor, reminder_id)
    reminder.status, reminder.done_at = "done", utcnow()
    return reminder


def open_reminders(advisor, now=None):
    """(reminder, the client's name, overdue) of the advisor's open reminders, soonest first (the 工作台)."""
    moment = as_utc(now or datetime.now(CHINA))
    return [(reminder, name, reminder.due_at <= moment) for reminder, name in _named(advisor)]


def _named(advisor, *where):
    """(reminder, the client's name as the advisor noted it) of the advisor's open reminders, soonest first."""
    rows = db.session.execute(
        select(FollowUpReminder, Follow.remark, ExternalContact.name)
        .join(ExternalContact, ExternalContact.external_userid == FollowUpReminder.external_userid)
        .outerjoin(Follow, (Follow.external_userid == FollowUpReminder.external_userid)
                   & (Follow.userid == FollowUpReminder.advisor))
        .where(FollowUpReminder.advisor == advisor, FollowUpReminder.status == "open", *where)
        .order_by(FollowUpReminder.due_at, FollowUpReminder.id)).all()
    return [(reminder, remark or name) for reminder, remark, name in rows]


def claim_due(now=None):
    """{advisor: [reminder ids]} of the open reminders due by now that this caller claimed first.

    Boundary: the claim is committed before the reminders are queued — a task must find it, and a second
    worker's claim then finds nothing, so no reminder is sent twice.
    """
    moment = as_utc(now or datetime.now(CHINA))
    due = db.session.execute(select(FollowUpReminder.id, FollowUpReminder.advisor).where(
        FollowUpReminder.status == "open", FollowUpReminder.sent_at.is_(None),
        FollowUpReminder.due_at <= moment)).all()
    claimed = defaultdict(list)
    for reminder_id, advisor in due:
        won = db.session.execute(update(FollowUpReminder).where(
            FollowUpReminder.id == reminder_id, FollowUpReminder.sent_at.is_(None))
            .values(sent_at=utcnow())).rowcount
        if won:
            claimed[advisor].append(reminder_id)
    db.session.commit()
    return dict(claimed)


def text_for(advisor, reminder_ids):
    """The app message for these reminders of the advisor's (still open), or None when none is left."""
    rows = _named(advisor, FollowUpReminder.id.in_(reminder_ids))
    if not rows:
        return None
    lines = [f"{mask_name(name)}（{from_utc(r.due_at).astimezone(CHINA):%m-%d %H:%M}）：{mask_free_text(r.text)}" for r, name in rows]
    return "跟进提醒\n" + "\n".join(lines) + "\n请在侧边栏「工作台」中查看。"


def send(wecom, advisor, reminder_ids):
    """Send one advisor's due reminders as one app message (nothing when all were done meanwhile)."""
    text = text_for(advisor, list(reminder_ids))
    if text:
        wecom.send_text_message(advisor, text)
    return text


def parse_moment(text, now):
    """The stored (naive UTC) moment of an ISO datetime, China time when it has no offset; InvalidInput
    unless it is from a few minutes ago to a year ahead."""
    try:
        moment = datetime.fromisoformat((text or "").strip())
    except ValueError:
        raise InvalidInput("请选择提醒的日期和时间") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA)
    if moment < now - GRACE:
        raise InvalidInput("提醒时间已经过去，请选择以后的时间")
    if moment > now + FURTHEST:
        raise InvalidInput("提醒时间最多设在一年之内")
    return as_utc(moment)


def _checked_text(text):
    """The reminder's words, stripped; InvalidInput when empty or too long."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("请写几个字，说明要跟进什么")
    if len(text) > TEXT_MAX:
        raise InvalidInput(f"提醒内容最多 {TEXT_MAX} 字")
    return text


def _own_open(advisor, reminder_id):
    """The advisor's open reminder; NotVisible for anyone else's or an unknown id, InvalidInput when done."""
    reminder = db.session.get(FollowUpReminder, reminder_id)
    if reminder is None or reminder.advisor != advisor:
        raise NotVisible
    if reminder.status != "open":
        raise InvalidInput("这条提醒已经完成")
    return reminder
