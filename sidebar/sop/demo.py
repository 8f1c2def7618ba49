"""The demo's SOP: the showroom story's six plans, approved, with 90 days of history (done, late,
skipped, blocked, expired, a holdout that funds less often) and a task due in the showroom now."""
import random
from datetime import datetime, time, timedelta

from sqlalchemy import select

from ..extensions import db
from ..identity.service import grant_role
from ..domain.calendar import as_utc
from ..domain.calendar import trading_days
from ..models import CHINA, Material, MaterialVersion, SopPlan, SopTarget, SopTask, utcnow
from . import plans as plan_file
from . import review
from .tick import is_held_out

OPERATOR, REVIEWER = "chenjing", "sunli"  # the emulator's members who write and approve plans
SEED = 20261201
HISTORY_DAYS = 90
OUTCOMES = {"done": 0.78, "late": 0.09, "skipped": 0.06, "expired": 0.05, "blocked": 0.02}
SKIPS = ("客户近期已沟通", "内容不适合该群/客户", "客户要求勿扰")
BLOCKED = "群内有 1 位客户不适合 R3 产品物料：王*（C2）"


def plan_specs(world, material):
    """The six plans of the showroom story, in the plan file's format."""
    by_name = {g["name"]: g["chat_id"] for g in world["groups"]}
    day = lambda n, text, ids=(): {"at": {"day": n, "time": "10:00"}, "window_minutes": 240, "text": text,  # noqa: E731
                                   "materials": list(ids)}
    return [
        {"name": "样板间新群培育", "kind": "group", "groups": [], "group_rule": {"name_contains": "样板间"},
         "steps": [day(0, "欢迎加入！本群每个交易日 8:45 分享早盘要点，群内不荐股、不承诺收益。"),
                   day(1, "投教第一课：ETF 是什么？", [material("新手入门：什么是 ETF")]),
                   day(3, "本周三晚 8 点直播答疑，欢迎提前留言问题。"),
                   day(7, "开户只需三步，10 分钟完成：", [material("申江证券开户小程序")]),
                   day(13, "两周回顾：有任何问题都可以私聊{顾问姓名}。")], "holdout": 0},
        {"name": "每日早盘要点", "kind": "group", "groups": [by_name["样板间·新客福利群"], by_name["ETF定投学习群"]],
         "steps": [{"at": {"trading_days": "08:45"}, "window_minutes": 60, "text": "早上好！今日早盘要点：…",
                    "materials": []}], "holdout": 0},
        {"name": "周三直播预告", "kind": "group", "groups": list(by_name.values()),
         "steps": [{"at": {"weekday": 3, "time": "14:00"}, "window_minutes": 300,
                    "text": "今晚 8 点直播：本周市场回顾与问答，欢迎参加！", "materials": []}], "holdout": 0},
        {"name": "开户未入金提醒", "kind": "client", "trigger": {"stage": "opened", "held_days": 3},
         "goal": {"stage": "funded", "within_days": 14}, "audience": {},
         "steps": [day(0, "{客户称呼}您好，账户已开通，入金后即可交易，入金步骤：", [material("开户流程话术")]),
                   day(3, "{客户称呼}您好，入金遇到问题吗？{顾问姓名}随时为您解答。")], "holdout": 0.25},
        {"name": "沉睡唤醒", "kind": "client", "trigger": {"dormant": True},
         "goal": {"stage": "traded", "within_days": 30}, "audience": {},
         "steps": [day(0, "{客户称呼}您好，好久不见！最新市场观点：", [material("2026 年四季度 A 股策略展望")])],
         "holdout": 0.1},
        {"name": "风测到期提醒", "kind": "client", "trigger": {"risk_expires_within_days": 30}, "audience": {},
         "steps": [day(0, "{客户称呼}您好，您的风险测评即将到期，请在 App 中重新测评。")], "holdout": 0},
    ]


def seed_sop(world, now=None):
    """Once per database: the plans, approved, their history, and today's showroom task."""
    if db.session.scalar(select(SopPlan.id).limit(1)) is not None:
        return
    now = (now or datetime.now(CHINA)).replace(second=0, microsecond=0)
    grant_role(OPERATOR, "operator")
    titles = dict(db.session.execute(select(MaterialVersion.title, Material.id).join(Material).where(
        MaterialVersion.status == "approved")).tuples().all())
    created = plan_file.import_plans(OPERATOR, plan_specs(world, titles.__getitem__))
    for plan in created:
        review.submit(OPERATOR, plan.id)
        review.approve(REVIEWER, plan.id)
    rng = random.Random(SEED)
    plans = {plan.name: plan for plan in created}
    _group_history(rng, world, plans, now)
    _client_history(rng, world, plans, now)
    _showroom_now(world, plans["样板间新群培育"], now)
    db.session.flush()


def _group_history(rng, world, plans, now):
    """90 days of the group plans' tasks, up to yesterday."""
    owners = {g["chat_id"]: g["owner"] for g in world["groups"]}
    start = now.date() - timedelta(days=HISTORY_DAYS)
    days = [start + timedelta(days=n) for n in range(HISTORY_DAYS)]
    trading = set(trading_days(days[0], days[-1]))
    for name, slot in (("每日早盘要点", lambda d: d in trading and time(8, 45)),
                       ("周三直播预告", lambda d: d.isoweekday() == 3 and time(14, 0))):
        plan = plans[name]
        for chat_id in plan.live.spec["groups"]:
            target = _target(plan, chat_id, owners[chat_id], start, False)
            for day in days:
                at = slot(day)
                if at:
                    _task(rng, plan, 0, target, datetime.combine(day, at, CHINA), plan.live.spec["steps"][0])
    plan = plans["样板间新群培育"]
    showroom = next(g for g in world["groups"] if g["name"] == "样板间·新客福利群")
    target = _target(plan, showroom["chat_id"], showroom["owner"], start, False)
    for index, step in enumerate(plan.live.spec["steps"]):
        _task(rng, plan, index, target, datetime.combine(start + timedelta(days=step["at"]["day"]), time(10), CHINA), step)


def _client_history(rng, world, plans, now):
    """Clients that joined the client plans over 90 days; the treated reach the goal more often."""
    follows = list({f["external_userid"]: f for f in reversed(world["follows"])}.values())  # one per client
    for name, share, rates in (("开户未入金提醒", 1.0, (0.46, 0.28)), ("沉睡唤醒", 0.4, (0.18, 0.1)),
                               ("风测到期提醒", 0.3, None)):
        plan = plans[name]
        for follow in rng.sample(follows, int(len(follows) * share)):
            begun = now.date() - timedelta(days=rng.randint(20, HISTORY_DAYS))
            held = is_held_out(plan.id, follow["external_userid"], plan.live.spec["holdout"])
            target = _target(plan, follow["external_userid"], follow["userid"], begun, held)
            if rates and rng.random() < rates[held]:
                target.goal_at = as_utc(datetime.combine(begun + timedelta(days=rng.randint(1, 12)), time(15), CHINA))
                target.ended_at, target.end_reason = target.goal_at, "goal"
            if not held:
                step = plan.live.spec["steps"][0]
                _task(rng, plan, 0, target, datetime.combine(begun, time(10), CHINA), step)


def _showroom_now(world, plan, now):
    """A task of the showroom's nurture plan due now: what the advisor sees on opening the group."""
    showroom = next(g for g in world["groups"] if g["name"] == "样板间·新客福利群")
    target = db.session.scalar(select(SopTarget).where(SopTarget.plan_id == plan.id,
                                                       SopTarget.target_id == showroom["chat_id"]))
    step = len(plan.live.spec["steps"]) - 1
    db.session.add(SopTask(plan_id=plan.id, version_id=plan.live.id, step=step, target_ref=target.id,
                           chat_kind="group", chat_id=showroom["chat_id"], advisor=showroom["owner"],
                           due_at=as_utc(now), deadline=as_utc(now + timedelta(hours=4)), status="open"))


def _target(plan, target_id, advisor, begun, held):
    """A target that joined on a day of the history."""
    target = SopTarget(plan_id=plan.id, kind=plan.kind, target_id=target_id, advisor=advisor, holdout=held,
                       started_at=as_utc(datetime.combine(begun, time(0), CHINA)))
    db.session.add(target)
    db.session.flush()
    return target


def _task(rng, plan, step_index, target, due, step):
    """A past task with a drawn outcome."""
    status = rng.choices(list(OUTCOMES), weights=list(OUTCOMES.values()))[0]
    deadline = due + timedelta(minutes=step["window_minutes"])
    done = {"done": due + timedelta(minutes=rng.randint(1, step["window_minutes"] - 1)),
            "late": deadline + timedelta(minutes=rng.randint(5, 180)), "skipped": due + timedelta(minutes=3),
            "blocked": due + timedelta(minutes=2)}.get(status)
    reason = {"skipped": rng.choice(SKIPS), "blocked": BLOCKED, "expired": "未在当天发送"}.get(status)
    db.session.add(SopTask(plan_id=plan.id, version_id=plan.live.id, step=step_index, target_ref=target.id,
                           chat_kind="group" if plan.kind == "group" else "contact", chat_id=target.target_id,
                           advisor=target.advisor, due_at=as_utc(due), deadline=as_utc(deadline), status=status,
                           reason=reason, done_at=as_utc(done) if done else None, created_at=as_utc(due)))
