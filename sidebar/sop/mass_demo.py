"""The demo's 客户群发: the showroom owner has 风测到期提醒 due now for a few clients, so the 工作台 offers
to send the step to all of them at once (the confirmation waits in the simulated client's 群发助手)."""
from datetime import datetime, timedelta

from sqlalchemy import select

from ..domain.calendar import as_utc
from ..extensions import db
from ..models import CHINA, SopPlan, SopTarget, SopTask
from .tick import is_held_out

PLAN = "风测到期提醒"
CLIENTS = 4
WINDOW = timedelta(hours=4)


def seed_mass_send(world, now=None):
    """Tasks of one step due now for a few of the showroom owner's clients (once a day: started twice, once)."""
    now = (now or datetime.now(CHINA)).replace(second=0, microsecond=0)
    plan = db.session.scalar(select(SopPlan).where(SopPlan.name == PLAN))
    owner = next(g["owner"] for g in world["groups"] if g["name"] == "样板间·新客福利群")
    if plan is None or plan.live is None or _seeded_today(plan, owner, now):
        return
    clients = [f["external_userid"] for f in world["follows"] if f["userid"] == owner]
    chosen = [c for c in clients if not is_held_out(plan.id, c, plan.live.spec["holdout"])][:CLIENTS]
    for external_userid in chosen:
        target = _target(plan, external_userid, owner, now)
        db.session.add(SopTask(plan_id=plan.id, version_id=plan.live.id, step=0, target_ref=target.id,
                               chat_kind="contact", chat_id=external_userid, advisor=owner, due_at=as_utc(now),
                               deadline=as_utc(now + WINDOW), status="open"))
    db.session.flush()


def _seeded_today(plan, owner, now):
    """Whether the owner already has tasks of the plan made today."""
    midnight = as_utc(now.replace(hour=0, minute=0))
    return db.session.scalar(select(SopTask.id).where(SopTask.plan_id == plan.id, SopTask.advisor == owner,
                                                      SopTask.due_at >= midnight).limit(1)) is not None


def _target(plan, external_userid, owner, now):
    """The client's target on the plan, made today when it has none (or its old one ended)."""
    target = db.session.scalar(select(SopTarget).where(SopTarget.plan_id == plan.id,
                                                       SopTarget.target_id == external_userid))
    if target is None:
        target = SopTarget(plan_id=plan.id, kind="client", target_id=external_userid, advisor=owner,
                           started_at=as_utc(now), holdout=False)
        db.session.add(target)
        db.session.flush()
    return target
