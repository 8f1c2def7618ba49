"""Alternatives beside a blocked SOP task: suitable materials of the blocked one's category for the same
chat, ranked by the library's own score (sidebar/materials/library.py), each sent in one tap through
the library's share path (the gate runs again at that moment)."""
from sqlalchemy import select

from ..domain.access import NotVisible
from ..extensions import db
from ..materials import library
from ..models import MaterialVersion, Share, SopTask, china_today

LIMIT = 3


def for_task(wecom, advisor, task_id, today=None):
    """A library page of up to LIMIT suitable alternatives for the advisor's blocked task (NotVisible otherwise)."""
    task = db.session.get(SopTask, task_id)
    if task is None or task.advisor != advisor or task.status != "blocked":
        raise NotVisible
    blocked = db.session.scalar(select(Share.material_id).where(Share.task_id == task.id, Share.status == "blocked")
                                .order_by(Share.id.desc()).limit(1))
    category = db.session.scalar(select(MaterialVersion.category).where(MaterialVersion.material_id == blocked,
                                                                        MaterialVersion.status == "approved"))
    if blocked is None or category is None:
        raise NotVisible
    page = library.browse(wecom, advisor, f"{task.chat_kind}:{task.chat_id}", "", category, "", today or china_today())
    page.items = [item for item in page.items if item.suitable and item.material.id != blocked][:LIMIT]
    page.more = False
    return page
