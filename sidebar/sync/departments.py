"""The local copy of WeCom's department tree (department/list): what a manager's scope is computed from."""
from sqlalchemy import delete, select

from ..domain.directory import assign
from ..extensions import db
from ..models import Department, utcnow


def refresh_departments(wecom, pacer=None):
    """Mirror department/list into Department (only real differences written); returns (added, changed, removed).

    Boundary: committed at once, as the sync goes on calling WeCom (no write transaction held across a call).
    """
    answer = pacer.call(wecom.list_departments) if pacer else wecom.list_departments()
    fresh = {item["id"]: {"name": item.get("name") or str(item["id"]), "parentid": item.get("parentid") or 0,
                          "order": item.get("order") or 0} for item in answer}
    stored = {row.id: row for row in db.session.scalars(select(Department))}
    added = changed = 0
    for department_id, values in fresh.items():
        row = stored.get(department_id)
        if row is None:
            db.session.add(Department(id=department_id, fetched_at=utcnow(), **values))
            added += 1
        elif any(getattr(row, name) != value for name, value in values.items()):
            assign(row, values)
            row.fetched_at = utcnow()  # moves only on a change: a sync that finds nothing new writes nothing
            changed += 1
    removed = set(stored) - set(fresh)
    if removed:
        db.session.execute(delete(Department).where(Department.id.in_(removed)))
    db.session.commit()
    return added, changed, len(removed)
