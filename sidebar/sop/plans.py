"""The plan file (design.md, "SOP plan file"): checked whole, stored as drafts, written back.

A file is refused whole at its first fault, with the plan and the field that are wrong, and nothing
is created. What a plan says to clients (its steps' text and materials) is in its version, which
compliance reviews (sidebar/sop/review.py).
"""
import re
from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import CHINA, RISK_LEVELS, STAGES, Material, SopPlan, SopPlanVersion

NAME_MAX = 64
TEXT_MAX = 2000
PLACEHOLDERS = ("{客户称呼}", "{顾问姓名}")
GROUP_FIELDS = {"name", "kind", "groups", "group_rule", "steps", "holdout"}
CLIENT_FIELDS = {"name", "kind", "trigger", "goal", "audience", "steps", "holdout"}
STEP_FIELDS = {"at", "window_minutes", "text", "materials"}
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class BadPlan(Exception):
    """The plan file is refused; the message says which plan and field, and why."""


def parse_file(data):
    """The plans of a loaded JSON file as (name, kind, spec), each checked; BadPlan at the first fault."""
    if not isinstance(data, list) or not data:
        raise BadPlan("文件应为计划的 JSON 数组，且至少有一个计划")
    return [_plan(index, plan) for index, plan in enumerate(data)]


def import_plans(author, data):
    """Create every plan of the file as a draft (all or none); returns the plans."""
    parsed = parse_file(data)
    plans = []
    for name, kind, spec in parsed:
        plan = SopPlan(name=name, kind=kind, created_by=author)
        plan.versions.append(SopPlanVersion(number=1, status="draft", spec=spec, author=author))
        db.session.add(plan)
        plans.append(plan)
    db.session.flush()
    return plans


def export_plans():
    """Every plan in the file's format, from its newest version."""
    plans = db.session.scalars(select(SopPlan).order_by(SopPlan.id))
    return [{"name": plan.name, "kind": plan.kind, **plan.head.spec} for plan in plans]


def check_spec(name, kind, spec):
    """One plan's fields but name and kind, checked as in a file (for the console's edit)."""
    return _plan(0, {"name": name, "kind": kind, **spec})[2]


def _plan(index, plan):
    """(name, kind, spec) of one plan of the file, or BadPlan."""
    where = f"第 {index + 1} 个计划"
    if not isinstance(plan, dict):
        raise BadPlan(f"{where}：应为对象")
    name = plan.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
        raise BadPlan(f"{where}：name 应为 1–{NAME_MAX} 字的文字")
    where = f"{where}「{name}」"
    kind = plan.get("kind")
    if kind not in ("group", "client"):
        raise BadPlan(f"{where}：kind 应为 group 或 client")
    unknown = set(plan) - (GROUP_FIELDS if kind == "group" else CLIENT_FIELDS)
    if unknown:
        raise BadPlan(f"{where}：不认识的字段 {', '.join(sorted(unknown))}")
    try:
        spec = _group(plan) if kind == "group" else _client(plan)
        spec["steps"] = _steps(plan.get("steps"))
        spec["holdout"] = _holdout(plan.get("holdout", 0))
    except BadPlan as error:
        raise BadPlan(f"{where}：{error}") from None
    return name.strip(), kind, spec


def _group(plan):
    """A group plan's chosen groups and rule."""
    groups = plan.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
        raise BadPlan("groups 应为群 chat_id 的数组")
    rule = plan.get("group_rule") or {}
    if not isinstance(rule, dict) or set(rule) - {"name_contains", "departments"}:
        raise BadPlan("group_rule 只能有 name_contains 和 departments")
    if "name_contains" in rule and not isinstance(rule["name_contains"], str):
        raise BadPlan("group_rule.name_contains 应为文字")
    _ints(rule.get("departments", []), "group_rule.departments")
    if not groups and not rule:
        raise BadPlan("请选择群（groups）或给出群规则（group_rule）")
    return {"groups": groups, "group_rule": rule}


def _client(plan):
    """A client plan's trigger, goal and audience."""
    trigger = plan.get("trigger")
    if not isinstance(trigger, dict) or not _trigger_ok(trigger):
        raise BadPlan('trigger 应为 {"event": "added"}、{"stage": S}、{"stage": S, "held_days": N}、'
                      '{"dormant": true}、{"risk_expires_within_days": N} 或 {"tag": T} 之一')
    goal = plan.get("goal")
    if goal is not None and not (isinstance(goal, dict) and set(goal) <= {"stage", "within_days"}
                                 and goal.get("stage") in STAGES and _count(goal.get("within_days", 30))):
        raise BadPlan('goal 应为 {"stage": S, "within_days": N}')
    audience = plan.get("audience") or {}
    if not isinstance(audience, dict) or set(audience) - {"departments", "tags", "risk_levels", "stages"}:
        raise BadPlan("audience 只能有 departments、tags、risk_levels、stages")
    _ints(audience.get("departments", []), "audience.departments")
    if not all(isinstance(t, str) for t in audience.get("tags", [])):
        raise BadPlan("audience.tags 应为文字数组")
    if not set(audience.get("risk_levels", [])) <= set(RISK_LEVELS):
        raise BadPlan("audience.risk_levels 应为 C1…C5")
    if not set(audience.get("stages", [])) <= set(STAGES):
        raise BadPlan("audience.stages 只能是 " + "、".join(STAGES))
    return {"trigger": trigger, "goal": goal, "audience": audience}


def _trigger_ok(trigger):
    """Whether trigger is one of the file's forms."""
    keys = set(trigger)
    if keys == {"event"}:
        return trigger["event"] == "added"
    if keys == {"stage"} or keys == {"stage", "held_days"}:
        return trigger["stage"] in STAGES and _count(trigger.get("held_days", 0))
    if keys == {"dormant"}:
        return trigger["dormant"] is True
    if keys == {"risk_expires_within_days"}:
        return _count(trigger["risk_expires_within_days"])
    if keys == {"tag"}:
        return isinstance(trigger["tag"], str) and bool(trigger["tag"])
    return False


def _steps(steps):
    """The steps, each with its moment, window, text and approved materials."""
    if not isinstance(steps, list) or not steps:
        raise BadPlan("steps 至少要有一步")
    return [_step(n, step) for n, step in enumerate(steps)]


def _step(n, step):
    """One step, checked."""
    where = f"steps[{n}]"
    if not isinstance(step, dict) or set(step) - STEP_FIELDS:
        raise BadPlan(f"{where} 只能有 {', '.join(sorted(STEP_FIELDS))}")
    at = _at(step.get("at"), where)
    window = step.get("window_minutes", 60)
    if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= 7 * 24 * 60:
        raise BadPlan(f"{where}.window_minutes 应为 1–10080 的整数")
    text = step.get("text") or ""
    if not isinstance(text, str) or len(text) > TEXT_MAX:
        raise BadPlan(f"{where}.text 最多 {TEXT_MAX} 字")
    for braces in re.findall(r"\{[^}]*\}", text):
        if braces not in PLACEHOLDERS:
            raise BadPlan(f"{where}.text 中的 {braces} 不是占位符（可用：{'、'.join(PLACEHOLDERS)}）")
    materials = _ints(step.get("materials", []), f"{where}.materials")
    _approved(materials, where)
    if not text.strip() and not materials:
        raise BadPlan(f"{where} 应有文字或物料")
    return {"at": at, "window_minutes": window, "text": text, "materials": materials}


def _at(at, where):
    """A step's moment in one of the four forms."""
    if not isinstance(at, dict):
        raise BadPlan(f"{where}.at 缺失")
    keys = set(at)
    ok = ((keys == {"day", "time"} and _count(at["day"]) and _time(at["time"]))
          or (keys == {"trading_days"} and _time(at["trading_days"]))
          or (keys == {"weekday", "time"} and at["weekday"] in range(1, 8) and _time(at["time"]))
          or (keys == {"datetime"} and _datetime(at["datetime"])))
    if not ok:
        raise BadPlan(f'{where}.at 应为 {{"day": N, "time": "HH:MM"}}、{{"trading_days": "HH:MM"}}、'
                      f'{{"weekday": 1..7, "time": "HH:MM"}} 或 {{"datetime": ISO}} 之一')
    return dict(at)


def _approved(ids, where):
    """Every material id names a live approved material."""
    if not ids:
        return
    materials = {m.id: m for m in db.session.scalars(select(Material).where(Material.id.in_(ids)))}
    for material_id in ids:
        material = materials.get(material_id)
        if material is None or material.live is None or material.withdrawn_at:
            raise BadPlan(f"{where}.materials：物料 {material_id} 不存在或未上架")


def _holdout(value):
    """The held-out share, 0 ≤ h < 0.5."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 0.5:
        raise BadPlan("holdout 应为 0 到 0.5 之间的比例（如 0.1）")
    return float(value)


def _ints(values, where):
    """A list of non-negative integers."""
    if not isinstance(values, list) or not all(_count(v) for v in values):
        raise BadPlan(f"{where} 应为整数数组")
    return values


def _count(value):
    """A non-negative integer (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 3650


def _time(value):
    """HH:MM."""
    return isinstance(value, str) and bool(TIME.match(value))


def _datetime(value):
    """An ISO datetime (China time if it has no offset)."""
    try:
        return isinstance(value, str) and bool(parse_moment(value))
    except ValueError:
        return False


def parse_moment(value):
    """An ISO datetime as an aware moment, China time when it has no offset."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)
