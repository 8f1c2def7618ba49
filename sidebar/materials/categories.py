"""The library's categories: listed, added, renamed, retired and restored, ordered (the content team's)."""
from sqlalchemy import func, update

from ..extensions import db
from ..models import MAX_CATEGORY, MaterialCategory, MaterialVersion, utcnow
from ..params import CONTROL


class InvalidCategory(Exception):
    """A name the library cannot take; the message is for the content team."""


class UnknownCategory(Exception):
    """No such category."""


def all_categories():
    """Every category in the team's order, retired ones included."""
    return db.session.scalars(db.select(MaterialCategory).order_by(MaterialCategory.position,
                                                                   MaterialCategory.id)).all()


def names():
    """(active, known): the names offered in the form and the library's filter, in order; and every
    name a version may carry (a retired category's materials stay valid). One query."""
    rows = all_categories()
    return [c.name for c in rows if c.retired_at is None], [c.name for c in rows]


def material_counts():
    """name -> how many materials' newest versions are filed under it."""
    newest = (db.select(MaterialVersion.material_id, func.max(MaterialVersion.number).label("number"))
              .group_by(MaterialVersion.material_id).subquery())
    stmt = (db.select(MaterialVersion.category, func.count()).join(
        newest, (newest.c.material_id == MaterialVersion.material_id) & (newest.c.number == MaterialVersion.number))
        .group_by(MaterialVersion.category))
    return dict(db.session.execute(stmt).tuples().all())


def add_category(name):
    """A new category at the end of the list."""
    name = _checked(name)
    last = db.session.scalar(db.select(func.max(MaterialCategory.position))) or 0
    category = MaterialCategory(name=name, position=last + 1)
    db.session.add(category)
    db.session.flush()
    return category


def rename_category(category_id, name):
    """A new name, carried over to every version filed under the old one (so none becomes invalid)."""
    category = _get(category_id)
    name = _checked(name, category)
    db.session.execute(update(MaterialVersion).where(MaterialVersion.category == category.name)
                       .values(category=name))
    category.name = name
    db.session.flush()
    return category


def retire_category(category_id, retired=True):
    """Stop (or again start) offering a category; its materials keep it and stay in the library."""
    category = _get(category_id)
    category.retired_at = utcnow() if retired else None
    db.session.flush()
    return category


def move_category(category_id, step):
    """Swap a category with its neighbour above (step -1) or below (step 1)."""
    ordered = list(all_categories())
    category = _get(category_id)
    index = ordered.index(category)
    other = index + step
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
        for position, row in enumerate(ordered, start=1):
            row.position = position
        db.session.flush()
    return category


def _get(category_id):
    """The category, or UnknownCategory."""
    category = db.session.get(MaterialCategory, category_id)
    if category is None:
        raise UnknownCategory
    return category


def _checked(name, category=None):
    """A stripped name, short, without control characters, not another category's."""
    name = (name or "").strip()
    if not name:
        raise InvalidCategory("请填写分类名称")
    if len(name) > MAX_CATEGORY or CONTROL.search(name):
        raise InvalidCategory(f"分类名称最多 {MAX_CATEGORY} 个字，不能包含控制字符")
    taken = db.session.scalar(db.select(MaterialCategory).where(MaterialCategory.name == name))
    if taken is not None and taken is not category:
        raise InvalidCategory(f"已有名为“{name}”的分类" + ("（已停用，可恢复）" if taken.retired_at else ""))
    return name
