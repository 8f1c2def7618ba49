"""The tick: each approved plan's targets joined and left, and each step due by now made a task, once.

Run every minute by the queue (JOBS["sop"]) and by `flask --app wsgi sop-tick [--at …]`. Every write
is an INSERT … ON CONFLICT DO NOTHING on a unique key (a target once per plan; a task once per plan,
step, target and slot), so two ticks at once, on one host or two, make each row once.

When things happen, in China time:
* a group joins a plan at the first tick that finds it chosen or matching the rule (groups created
  later included); its `day N` steps count from that day;
* a client joins at its trigger's moment (the stage's date, the day a stage was held N days, the day
  it became dormant, the day its assessment came within N days of expiring, the add); a client in
  that state since before the plan's span (its last step's day) joins today; an add older than the
  span is history, not a new contact; a tag's moment is the tick that sees it;
* a step's slot becomes a task while now is inside its window [slot, slot + window); a task not sent
  by the end of the China day of its deadline expires (sent after the deadline it is done late);
* a held-out target (fixed per plan and target) joins, is measured, and gets no task.
"""
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update

from ..database import upsert
from ..extensions import db
from ..domain.facts import DORMANT_AFTER
from ..models import CHINA, STAGES, ClientProfile, Follow, GroupChat, SopPlan, SopTarget, SopTask, Staff
from ..domain.calendar import as_utc, from_utc
from ..domain.calendar import is_trading_day
from ..queue import enqueue
from . import reminders
from .plans import parse_moment

END_LABELS = {"goal": "已达成目标", "contact_deleted": "客户已删除", "group_dismissed": "群已解散"}


@dataclass
class TickResult:
    """What one tick did."""

    joined: int = 0
    held_out: int = 0
    left: int = 0
    tasks: int = 0
    expired: int = 0
    made: list = field(default_factory=list)  # ids of the tasks this tick made
    reminders: list = field(default_factory=list)  # (advisor, slot) of those tasks

    @property
    def idle(self):
        """Whether the tick changed nothing."""
        return not (self.joined or self.left or self.tasks or self.expired)

    def describe(self):
        """In words, for /console/jobs."""
        return (f"新增对象 {self.joined}（对照组 {self.held_out}），退出 {self.left}，"
                f"新任务 {self.tasks}，过期 {self.expired}")


def tick(now=None):
    """Everything due up to now (aware; default the clock), committed; returns what was done.

    Boundary: the tasks are committed before the reminders are queued — a queued task must find them.
    """
    now = (now or datetime.now(CHINA)).astimezone(CHINA)
    result = TickResult()
    plans = db.session.scalars(select(SopPlan).where(SopPlan.paused_at.is_(None))).all()
    for plan in plans:
        version = plan.live
        if version is None:
            continue
        _join(plan, version.spec, now, result)
        _leave(plan, version.spec, now, result)
        _make_tasks(plan, version, now, result)
    result.expired = _expire(now)
    slots_to_remind = reminders.claim(result.reminders)
    db.session.commit()
    for advisor, due_at in slots_to_remind:  # after the commit: the queued task reads the tasks
        enqueue("sop-reminder", advisor, due_at.isoformat())
    return result


def is_held_out(plan_id, target_id, share):
    """Whether this target is in the plan's control group: fixed by a hash of the plan and target."""
    digest = hashlib.sha256(f"{plan_id}:{target_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64 < share


# -- joining ------------------------------------------------------------------------------------------

def _join(plan, spec, now, result):
    """Insert the plan's new targets (each once, whatever runs at the same time)."""
    known = set(db.session.scalars(select(SopTarget.target_id).where(SopTarget.plan_id == plan.id)))
    found = _groups(spec) if plan.kind == "group" else _clients(spec, now)
    for target_id, advisor, moment in found:
        if target_id in known:
            continue
        held = is_held_out(plan.id, target_id, spec.get("holdout", 0))
        inserted = db.session.execute(upsert(db.engine, SopTarget).values(
            plan_id=plan.id, kind=plan.kind, target_id=target_id, advisor=advisor,
            started_at=as_utc(moment or now), holdout=held).on_conflict_do_nothing()).rowcount
        result.joined += inserted
        result.held_out += inserted if held else 0


def _groups(spec):
    """(chat_id, owner, None) of the live groups chosen or matching the rule."""
    rule = spec.get("group_rule") or {}
    chosen = set(spec.get("groups", []))
    groups = db.session.scalars(select(GroupChat).where(GroupChat.dismissed_at.is_(None))).all()
    departments = _departments({g.owner for g in groups}) if rule.get("departments") else {}
    for group in groups:
        if group.chat_id in chosen or (rule and _matches(rule, group, departments)):
            yield group.chat_id, group.owner, None


def _matches(rule, group, departments):
    """Whether a group matches the plan's rule (every condition given)."""
    if rule.get("name_contains") and rule["name_contains"] not in (group.name or ""):
        return False
    wanted = set(rule.get("departments") or [])
    return not wanted or bool(wanted & departments.get(group.owner, set()))


def _departments(userids):
    """{userid: set of department ids}."""
    rows = db.session.execute(select(Staff.userid, Staff.department).where(Staff.userid.in_(userids)))
    return {userid: set(department or []) for userid, department in rows}


def _clients(spec, now):
    """(external_userid, advisor, trigger moment) of the clients the trigger reaches now, in the audience."""
    trigger, audience = spec["trigger"], spec.get("audience") or {}
    since = now - timedelta(days=_span_days(spec))
    follows = _first_follows()
    if trigger.get("event") == "added":
        for external_userid, follow in follows.items():
            moment = follow.added_at and from_utc(follow.added_at)
            if moment and since <= moment <= now and _in_audience(audience, follow, None):
                yield external_userid, follow.userid, moment
        return
    profiles = db.session.scalars(select(ClientProfile).where(ClientProfile.external_userid.is_not(None)))
    for profile in profiles:
        follow = follows.get(profile.external_userid)
        if follow is None:
            continue
        moment = _trigger_moment(trigger, profile, now)
        if moment and moment <= now and _in_audience(audience, follow, profile):
            # a client in that state for longer than the plan runs joins today, from its first step
            yield profile.external_userid, follow.userid, moment if moment >= since else _midnight(now.date())


def _span_days(spec):
    """How long after its trigger a client can still have a step due: the last step's day, plus one."""
    return max((step["at"].get("day", 0) for step in spec["steps"]), default=0) + 1


def _first_follows():
    """{external_userid: the earliest active follow}: the advisor a client's tasks go to."""
    rows = db.session.scalars(select(Follow).where(Follow.ended_at.is_(None)).order_by(Follow.added_at, Follow.id))
    first = {}
    for follow in rows:
        first.setdefault(follow.external_userid, follow)
    return first


def _trigger_moment(trigger, profile, now):
    """When the trigger fired for this profile (aware), or None if it has not."""
    today = now.date()
    if "stage" in trigger:
        if profile.stage != trigger["stage"]:
            return None
        reached = _stage_day(profile, trigger["stage"])
        return _midnight(reached + timedelta(days=trigger.get("held_days", 0))) if reached else None
    if "dormant" in trigger:
        funded = (profile.stage_dates or {}).get("funded")
        last = profile.last_trade_date or (date.fromisoformat(funded) if funded else None)
        if profile.stage not in ("funded", "traded") or last is None:
            return None
        return _midnight(last + DORMANT_AFTER + timedelta(days=1))
    if "risk_expires_within_days" in trigger:
        expires = profile.risk_expires
        return _midnight(expires - timedelta(days=trigger["risk_expires_within_days"])) if expires else None
    if "tag" in trigger:
        return now if trigger["tag"] in (profile.tags or []) else None
    return None


def _stage_day(profile, stage):
    """The day the profile reached stage, if known."""
    known = (profile.stage_dates or {}).get(stage)
    return date.fromisoformat(known) if known else None


def _midnight(day):
    """00:00 China time of a day."""
    return datetime.combine(day, time(0), CHINA)


def _in_audience(audience, follow, profile):
    """Whether a client passes the plan's audience filters (each one given)."""
    if audience.get("departments"):
        if not set(audience["departments"]) & _departments({follow.userid}).get(follow.userid, set()):
            return False
    if audience.get("tags"):
        tags = set(profile.tags or []) if profile else set()
        tags |= {tag.get("tag_name") for tag in follow.tags or []}
        if not set(audience["tags"]) & tags:
            return False
    if audience.get("risk_levels") and (profile is None or profile.risk_level not in audience["risk_levels"]):
        return False
    return not audience.get("stages") or (profile is not None and profile.stage in audience["stages"])


# -- leaving ------------------------------------------------------------------------------------------

def _leave(plan, spec, now, result):
    """End the targets that left or reached the goal; their open tasks are cancelled with the reason."""
    targets = db.session.scalars(select(SopTarget).where(SopTarget.plan_id == plan.id,
                                                         SopTarget.ended_at.is_(None))).all()
    if not targets:
        return
    reasons = _group_reasons(targets) if plan.kind == "group" else _client_reasons(targets, spec.get("goal"))
    for target in targets:
        reason = reasons.get(target.id)
        if reason is None:
            continue
        ended = db.session.execute(update(SopTarget).where(SopTarget.id == target.id, SopTarget.ended_at.is_(None))
                                   .values(ended_at=as_utc(now), end_reason=reason,
                                           goal_at=as_utc(now) if reason == "goal" else None)).rowcount
        if ended:
            result.left += 1
            db.session.execute(update(SopTask).where(SopTask.target_ref == target.id, SopTask.status == "open")
                               .values(status="cancelled", reason=END_LABELS[reason]))


def _group_reasons(targets):
    """{target id: "group_dismissed"} for groups stored as dismissed (one not stored yet is not gone)."""
    ids = [t.target_id for t in targets]
    gone = set(db.session.scalars(select(GroupChat.chat_id).where(GroupChat.chat_id.in_(ids),
                                                                  GroupChat.dismissed_at.is_not(None))))
    return {t.id: "group_dismissed" for t in targets if t.target_id in gone}


def _client_reasons(targets, goal):
    """{target id: reason} for clients who reached the goal or whose advisor lost them."""
    ids = [t.target_id for t in targets]
    ended = set(db.session.execute(select(Follow.userid, Follow.external_userid).where(
        Follow.external_userid.in_(ids), Follow.ended_at.is_not(None))).tuples().all())
    stages = dict(db.session.execute(select(ClientProfile.external_userid, ClientProfile.stage).where(
        ClientProfile.external_userid.in_(ids))).tuples().all())
    reasons = {}
    for target in targets:
        if goal and reached(stages.get(target.target_id), goal["stage"]):
            reasons[target.id] = "goal"
        elif (target.advisor, target.target_id) in ended:  # a follow not stored yet is not a deletion
            reasons[target.id] = "contact_deleted"
    return reasons


def reached(stage, goal_stage):
    """Whether a journey stage is at or past the goal's."""
    return stage in STAGES and STAGES.index(stage) >= STAGES.index(goal_stage)


# -- tasks --------------------------------------------------------------------------------------------

def _make_tasks(plan, version, now, result):
    """A task for each step slot inside its window now, for each open treated target (once each)."""
    targets = db.session.scalars(select(SopTarget).where(SopTarget.plan_id == plan.id, SopTarget.ended_at.is_(None),
                                                         SopTarget.holdout.is_(False))).all()
    chat_kind = "group" if plan.kind == "group" else "contact"
    for index, step in enumerate(version.spec["steps"]):
        window = timedelta(minutes=step["window_minutes"])
        for target in targets:
            for slot in slots(step["at"], from_utc(target.started_at), now, window):
                statement = upsert(db.engine, SopTask).values(
                    plan_id=plan.id, version_id=version.id, step=index, target_ref=target.id, chat_kind=chat_kind,
                    chat_id=target.target_id, advisor=target.advisor, due_at=as_utc(slot),
                    deadline=as_utc(slot + window), status="open").on_conflict_do_nothing()
                made = db.session.execute(statement.returning(SopTask.id)).scalar()
                if made is not None:
                    result.tasks += 1
                    result.made.append(made)
                    result.reminders.append((target.advisor, as_utc(slot)))


def slots(at, started, now, window):
    """The step's slots (aware, China time) with now inside [slot, slot + window)."""
    if "datetime" in at:
        candidates = [parse_moment(at["datetime"]).astimezone(CHINA)]
    elif "day" in at:
        candidates = [_at(started.astimezone(CHINA).date() + timedelta(days=at["day"]), at["time"])]
    else:
        today = now.date()
        days = [today - timedelta(days=back) for back in range(window.days + 2)]
        if "trading_days" in at:
            candidates = [_at(day, at["trading_days"]) for day in days if is_trading_day(day)]
        else:
            candidates = [_at(day, at["time"]) for day in days if day.isoweekday() == at["weekday"]]
    return [slot for slot in candidates if slot <= now < slot + window and slot + window > started]


def _at(day, hhmm):
    """day at HH:MM, China time."""
    hour, minute = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), CHINA)


def expires_at(task):
    """When an unsent task expires: the end of its deadline's China day (naive UTC)."""
    local = from_utc(task.deadline).astimezone(CHINA)
    if local.time() == time(0):
        return task.deadline
    return as_utc(datetime.combine(local.date() + timedelta(days=1), time(0), CHINA))


def _expire(now):
    """Open tasks past the end of their deadline's day become expired; returns how many."""
    count = 0
    for task in db.session.scalars(select(SopTask).where(SopTask.status == "open",
                                                         SopTask.deadline < as_utc(now))):
        if expires_at(task) <= as_utc(now):
            count += db.session.execute(update(SopTask).where(SopTask.id == task.id, SopTask.status == "open")
                                        .values(status="expired", reason="未在当天发送")).rowcount
    return count
