"""A plan's life, as a material's: draft → pending → approved / rejected; an edit starts a new version.

The approved version stays live until a newer one is approved; the tick makes each task from the
version live when the task is made, so an approved edit applies to steps not yet due. Four eyes:
only a reviewer who neither created the plan nor wrote its newest version may approve or reject it.
Pause and resume stop and restart new tasks (open ones stay).
"""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..materials.review import InvalidInput, NotAllowed, NotFound, WrongState, rejection_reason  # noqa: F401
from ..models import SopPlan, SopPlanVersion, utcnow
from . import plans as plan_file

STATE_LABELS = {"draft": "草稿", "pending": "待审核", "approved": "已生效", "rejected": "已驳回",
                "paused": "已暂停", "superseded": "已替换"}


def get_plan(plan_id):
    """The plan with its versions, or NotFound."""
    plan = db.session.get(SopPlan, plan_id, options=[selectinload(SopPlan.versions)])
    if plan is None:
        raise NotFound
    return plan


def list_plans():
    """Every plan, newest first."""
    return db.session.scalars(select(SopPlan).options(selectinload(SopPlan.versions))
                              .order_by(SopPlan.id.desc())).all()


def state_of(plan):
    """(code, label): paused, approved when live, else the newest version's state."""
    if plan.paused_at:
        code = "paused"
    elif plan.live:
        code = "approved"
    else:
        code = plan.head.status
    return code, STATE_LABELS[code]


def update_plan(author, plan_id, spec):
    """Edit the draft, or start a new draft after an approved or rejected version (spec checked)."""
    plan = get_plan(plan_id)
    spec = plan_file.check_spec(plan.name, plan.kind, spec)
    head = plan.head
    if head.status == "pending":
        raise WrongState("该计划正在审核中，审核完成前不能修改")
    if head.status != "draft":
        head = SopPlanVersion(number=head.number + 1, status="draft", spec=spec, author=author)
        plan.versions.append(head)
    head.spec, head.author = spec, author
    db.session.flush()
    return plan


def submit(userid, plan_id):
    """Send the draft for review."""
    plan = get_plan(plan_id)
    if plan.head.status != "draft":
        raise WrongState("只有草稿可以提交审核")
    plan.head.status, plan.head.submitted_at = "pending", utcnow()
    db.session.flush()
    return plan


def approve(reviewer, plan_id):
    """Approve the pending version: it replaces the live one for tasks made from now on."""
    plan, head = _pending(reviewer, plan_id)
    for version in plan.versions:
        if version.status == "approved":
            version.status = "superseded"
    db.session.flush()
    head.status, head.reviewed_by, head.reviewed_at = "approved", reviewer, utcnow()
    db.session.flush()
    return plan


def reject(reviewer, plan_id, comment):
    """Send the pending version back with the reviewer's reason."""
    comment = rejection_reason(comment)
    plan, head = _pending(reviewer, plan_id)
    head.status, head.reviewed_by, head.reviewed_at, head.review_comment = "rejected", reviewer, utcnow(), comment
    db.session.flush()
    return plan


def pause(userid, plan_id):
    """No new tasks until resumed."""
    plan = get_plan(plan_id)
    if plan.paused_at:
        raise WrongState("计划已暂停")
    plan.paused_at, plan.paused_by = utcnow(), userid
    db.session.flush()
    return plan


def resume(userid, plan_id):
    """New tasks again, from the next due step."""
    plan = get_plan(plan_id)
    if not plan.paused_at:
        raise WrongState("计划没有暂停")
    plan.paused_at = plan.paused_by = None
    db.session.flush()
    return plan


def may_review(plan, reviewer):
    """Four eyes: not the plan's creator, nor the author of its newest version."""
    return reviewer not in (plan.created_by, plan.head.author)


def _pending(reviewer, plan_id):
    """The plan and its pending version, for a reviewer who did not write it."""
    plan = get_plan(plan_id)
    if plan.head.status != "pending":
        raise WrongState("没有待审核的版本")
    if not may_review(plan, reviewer):
        raise NotAllowed("不能审核自己创建或修改的计划")
    return plan, plan.head
