"""Compliance's qualified groups (合格投资者群) in the console: check a group's members, mark it with a
class, lift the mark; the marks a join lifted are listed for compliance to check again."""
from flask import Blueprint, abort, g, redirect, request, url_for

from ..domain.access import ID_PATTERN
from ..extensions import db
from ..models import RISK_LEVELS, GroupChat, china_today
from ..params import choice_arg, text_arg
from ..web import private, render
from . import qualified
from .console import role_required

bp = Blueprint("qualified_console", __name__, url_prefix="/console")
COMPLIANCE = ("compliance",)
DEFAULT_LEVEL = "C4"
SEARCH_LIMIT = 20


@bp.get("/groups/qualified")
@role_required(*COMPLIANCE)
def overview():
    """Live marks, recently lifted ones, and a search for a group to check."""
    query = text_arg("q", 50)
    live, lifted = qualified.overview()
    found = _groups_named(query) if query else []
    return private(render("console/qualified.html", live=live, lifted=lifted, query=query or "", found=found))


@bp.get("/groups/<chat_id>/qualification")
@role_required(*COMPLIANCE)
def group(chat_id):
    """A group's members against a class, its mark and its history."""
    return _group_page(_group(chat_id), choice_arg("level", RISK_LEVELS, DEFAULT_LEVEL))


@bp.post("/groups/<chat_id>/qualification")
@role_required(*COMPLIANCE)
def mark(chat_id):
    """Mark the group at the form's `level` after checking every member: 303, or 400 with who falls short."""
    chat = _group(chat_id)
    level = request.form.get("level", "")
    try:
        qualified.mark(g.userid, chat.chat_id, level, china_today())
    except qualified.NotQualified as refused:
        return _group_page(chat, level if level in RISK_LEVELS else DEFAULT_LEVEL, str(refused), 400)
    return redirect(url_for(".group", chat_id=chat.chat_id, level=level), 303)


@bp.post("/groups/<chat_id>/qualification/lift")
@role_required(*COMPLIANCE)
def lift(chat_id):
    """Lift the group's mark."""
    chat = _group(chat_id)
    qualified.lift(g.userid, chat.chat_id)
    return redirect(url_for(".group", chat_id=chat.chat_id), 303)


def _group(chat_id):
    """The stored group, or 404."""
    chat = db.session.get(GroupChat, chat_id) if ID_PATTERN.fullmatch(chat_id) else None
    if chat is None:
        abort(404)
    return chat


def _group_page(chat, level, error=None, status=200):
    """The group's check page."""
    checks = qualified.check_members(chat.chat_id, level, china_today())
    return private(render("console/qualified_group.html", status=status, chat=chat, level=level, levels=RISK_LEVELS,
                  checks=checks, words=qualified.member_words, mark=qualified.current_mark(chat.chat_id),
                  history=qualified.history(chat.chat_id), error=error))


def _groups_named(query):
    """Live groups whose name contains the words (a few)."""
    return list(db.session.scalars(db.select(GroupChat).where(GroupChat.dismissed_at.is_(None),
                                                              GroupChat.name.contains(query, autoescape=True))
                                   .order_by(GroupChat.name).limit(SEARCH_LIMIT)))
