"""The 工作台's 客户群发: send a step to every target due at once, remind or cancel a mass send not confirmed."""
from flask import Blueprint, g, make_response, render_template, request

from ..extensions import wecom
from ..identity.auth import login_required
from ..materials import sharing
from ..materials.storage import storage
from ..materials.links import share_links
from ..params import MAX_ID, WHOLE_NUMBER
from ..web import private
from ..wecom import WeComError
from . import masssend, tasks

bp = Blueprint("sop_mass", __name__)
KINDS = ("contact", "group")


@bp.post("/sidebar/tasks/mass")
@login_required
def start():
    """Gate the step's due targets and create one mass send (form fields plan_id, step, kind)."""
    plan_id, step, kind = _form_int("plan_id"), _form_int("step"), request.form.get("kind")
    if plan_id is None or step is None or kind not in KINDS:
        return section(error="请求不完整", status=422)
    try:
        mass = masssend.start(wecom(), storage(), g.userid, plan_id, step, kind, share_links)
    except (masssend.NothingToSend, masssend.NotMassSendable) as refused:
        return section(error=str(refused), status=422)
    except sharing.ShareFailed:
        return section(error="物料上传到企业微信失败，请稍后再试", status=503)
    except WeComError:
        return section(error="企业微信暂时无法创建群发，请稍后再试", status=503)
    return section(created=mass)


@bp.post("/sidebar/mass/<int:mass_id>/remind")
@login_required
def remind(mass_id):
    """Ask WeCom to remind the advisor to confirm the mass send."""
    return _act(masssend.remind, mass_id, "已提醒，请在企业微信「群发助手」中确认发送")


@bp.post("/sidebar/mass/<int:mass_id>/cancel")
@login_required
def cancel(mass_id):
    """Cancel a mass send not confirmed yet; its tasks can be sent chat by chat again."""
    return _act(masssend.cancel, mass_id, "已取消群发，可在各个聊天中逐个发送")


def _form_int(name):
    """A whole-number form field in [0, MAX_ID], or None."""
    text = request.form.get(name, "").strip()
    return int(text) if WHOLE_NUMBER.fullmatch(text) and int(text) <= MAX_ID else None


def _act(action, mass_id, done):
    """Run a remind or cancel and answer the section with what happened."""
    try:
        action(wecom(), g.userid, mass_id)
    except tasks.WrongState as wrong:
        return section(error=str(wrong), status=422)
    except WeComError:
        return section(error="企业微信暂时无法处理，请稍后再试（每条群发每天最多提醒 3 次）", status=503)
    return section(notice=done)


def section(status=200, **context):
    """The 工作台's 客户群发 section, always as a fragment (it is only ever swapped into the 工作台).

    A refusal is 422, which htmx swaps whole (base.html's htmx-config); a 5xx swaps only the .notice."""
    html = render_template("sop/_mass.html", **overview(g.userid), labels=tasks.STATUS_LABELS, **context)
    response = make_response(html, status)
    if status == 200:  # tasks joined or left a mass send: the 工作台's list of chats reloads (_today.html)
        response.headers["HX-Trigger"] = "sop-mass-changed"
    return private(response)


def overview(advisor):
    """What the section shows: the steps that can go as a mass send, and recent mass sends with their outcome."""
    recent = masssend.recent(advisor)
    return {"candidates": masssend.candidates(advisor), "recent": [(m, masssend.outcome(m)) for m in recent],
            "plan_names": masssend.plan_names({m.plan_id for m in recent}),
            "names": masssend.target_names(advisor, {e["chat_id"] for m in recent for e in m.excluded}),
            "mass_labels": MASS_LABELS}


MASS_LABELS = {"waiting": "等待你在企业微信确认", "sent": "已发送，正在读取结果", "done": "已完成",
               "unconfirmed": "未确认，已失效", "cancelled": "已取消", "refused": "企业微信未接受"}
