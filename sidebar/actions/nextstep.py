"""下一步: the one or two things a client's state calls for, each with its reason and the material to send.

Computed from what the client panel has already loaded (the follow, the profile, its risk and dormancy)
plus two small queries for the materials the content team set for these situations (a scene, 用于): no WeCom
call, so the panel stays as fast as it was. Which material serves a situation is the console's choice,
never this code's.
"""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import bindparam, select

from ..extensions import db
from ..materials.audience import suitable
from ..materials.library import valid_on, shareable  # the library's own rules, not copies
from ..models import SCENES, Material, MaterialScene, MaterialVersion, china_day

SHOWN = 2  # one or two steps: more would be a list nobody reads between two messages
STALLED_AFTER = 3  # days in 开户中 or 已开户 without the next stage before guidance is due (as the SOP's plan)
REASSESS_WITHIN = 30  # days before an assessment expires that the re-assessment link is offered
# material id -> its scene, for the scenes asked (built once, see domain.access.ACTIVE_FOLLOW)
SCENES_SET = select(MaterialScene.material_id, MaterialScene.scene).where(
    MaterialScene.scene.in_(bindparam("scenes", expanding=True)))


@dataclass
class NextStep:
    """One thing to do now: why, and what to send (the scene's material, if the console set one)."""

    scene: str
    title: str
    reason: str
    material: Material | None = None
    version: MaterialVersion | None = None
    link_mobile: bool = False  # an unmatched prospect can also be linked by the mobile they give


def next_steps(panel, today):
    """The steps for a client panel (insight.contact.ClientPanel), most urgent first, at most two."""
    steps = situations(panel.follow, panel.profile, panel.risk, panel.dormant, today)[:SHOWN]
    chosen = scene_materials({step.scene for step in steps}, panel.risk.effective, today)
    for step in steps:
        step.material, step.version = chosen.get(step.scene, (None, None))
    return steps


def situations(follow, profile, risk, dormant, today):
    """Every situation this client is in, most urgent first (materials not looked up yet)."""
    found = []
    if china_day(follow.added_at) == today:
        found.append(NextStep("welcome", "发送欢迎语", "今天刚添加的客户"))
    if profile is None:
        found.append(NextStep("open_account", "邀请开户", "未开户 · 未匹配到资金账户：发送开户小程序，"
                                                         "或填写客户提供的手机号匹配账户", link_mobile=True))
    elif risk.status == "expired":
        found.append(NextStep("reassess", "提醒重新测评", f"风险测评已于 {risk.expires:%Y-%m-%d} 过期，"
                                                         "仅可发送通用物料"))
    if profile is not None:
        found += _journey_step(profile, today)
    if dormant:
        last = profile.last_trade_date or _stage_day(profile, "funded")
        found.append(NextStep("win_back", "唤醒沉睡客户", f"距上次交易已 {(today - last).days} 天"))
    if risk.status == "valid" and risk.expires and risk.expires - today <= timedelta(days=REASSESS_WITHIN):
        days = (risk.expires - today).days
        found.append(NextStep("reassess", "提醒重新测评",
                              "风险测评今天到期" if days == 0 else f"风险测评 {days} 天后到期（{risk.expires:%Y-%m-%d}）"))
    return found


def _journey_step(profile, today):
    """Guidance for a client stalled in 注册/开户中 (to open) or 已开户 (to fund) for STALLED_AFTER days."""
    if profile.stage in ("registered", "applying"):
        since = _stage_day(profile, profile.stage)
        if since and (today - since).days >= STALLED_AFTER:
            label = "注册" if profile.stage == "registered" else "开户中"
            return [NextStep("applying", "引导完成开户", f"{label}已 {(today - since).days} 天，尚未完成开户")]
    if profile.stage == "opened":
        since = _stage_day(profile, "opened")
        if since and (today - since).days >= STALLED_AFTER:
            return [NextStep("funding", "引导入金", f"已开户 {(today - since).days} 天，尚未入金")]
    return []


def _stage_day(profile, stage):
    """The date the profile first reached a stage, or None."""
    known = (profile.stage_dates or {}).get(stage)
    return date.fromisoformat(known) if known else None


def scene_materials(scenes, client_level, today):
    """{scene: (material, live version)}: the newest shareable material set for each scene that this
    client may receive (general material always; a product only at a fitting class).

    The materials set for the scenes are read first (a handful, by the scene's index), then their
    versions by material: joined in one statement, SQLite walked every approved version of the library
    newest first and looked up each one's scene (16 ms a panel at 10,000 materials).
    """
    if not scenes:
        return {}
    scene_of = dict(db.session.connection().execute(SCENES_SET, {"scenes": sorted(scenes)}).tuples().all())
    if not scene_of:
        return {}
    rows = db.session.execute(
        select(Material, MaterialVersion)
        .join(MaterialVersion, MaterialVersion.material_id == Material.id)
        .where(MaterialVersion.material_id.in_(scene_of), shareable(by_id=True), *valid_on(today))
        .order_by(MaterialVersion.reviewed_at.desc(), MaterialVersion.id.desc())).all()
    chosen = {}
    for material, version in rows:
        scene = scene_of[material.id]
        if scene not in chosen and suitable(client_level, version.risk_level):
            chosen[scene] = (material, version)
    return chosen


def scene_label(scene):
    """The console's words for a scene ('' for none)."""
    return SCENES.get(scene, "")
