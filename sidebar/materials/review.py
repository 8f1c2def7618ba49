"""A material's life: draft → pending → approved / rejected → withdrawn or expired.

Versions are frozen once submitted. Editing an approved (or rejected) material starts a new draft
version; the approved version stays live until the new one is approved. Only a reviewer who neither
created the material nor edited or uploaded into the version may approve or reject it (the role
itself is checked by the console views).
"""
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased, selectinload

from ..database import upsert
from ..extensions import db
from ..models import Material, MaterialVersion, StoredFile, VersionEditor, utcnow
from . import search

STATE_LABELS = {"draft": "草稿", "pending": "待审核", "approved": "已上架", "rejected": "已驳回",
                "withdrawn": "已下架", "expired": "已过期", "scheduled": "未到生效日"}
# A version's own status, in its history (the material's state above is what advisors see).
VERSION_LABELS = {"draft": "草稿", "pending": "待审核", "approved": "上架中", "rejected": "已驳回", "superseded": "已替换"}
CONTENT_FIELDS = ("title", "summary", "category", "tags", "risk_level", "valid_from", "valid_until",
                  "disclaimer", "body", "url", "appid", "page")
COMMENT_MAX = 500
PAGE_SIZE = 50


class NotFound(Exception):
    """No such material."""


class NotAllowed(Exception):
    """This person may not do this to this material; the message says why."""


class WrongState(Exception):
    """The material is not in a state that allows this; the message says why."""


class InvalidInput(Exception):
    """A review step's input is missing or too long; the message says why."""


@dataclass
class State:
    """Where a material stands as the console shows it."""

    code: str
    label: str
    update: str | None  # a newer draft/pending/rejected version beside the live one


def get_material(material_id):
    """The material with its versions, or NotFound."""
    material = db.session.get(Material, material_id, options=[
        selectinload(Material.versions).selectinload(MaterialVersion.editor_rows)])
    if material is None:
        raise NotFound
    return material


def state_of(material, today):
    """The material's state: withdrawn, expired or approved when live, else its newest version's."""
    live, head = material.live, material.head
    update = head.status if live and head is not live else None
    if material.withdrawn_at:
        code = "withdrawn"
    elif live and live.valid_until and live.valid_until < today:
        code = "expired"
    elif live and live.valid_from and live.valid_from > today:
        code = "scheduled"
    elif live:
        code = "approved"
    else:
        code = head.status
    return State(code, STATE_LABELS[code], STATE_LABELS.get(update) if update else None)


def create_material(storage, author, data):
    """A new material with its first (draft) version; files stored only if the rows commit."""
    material = Material(kind=data.kind, created_by=author)
    version = MaterialVersion(material=material, number=1, status="draft", author=author)
    return _save(storage, material, version, data, author)


def update_material(storage, author, material_id, data):
    """Edit the draft in place, or start a new draft after an approved or rejected version."""
    material = get_material(material_id)
    head = material.head
    if head.status == "pending":
        raise WrongState("该物料正在审核中，审核完成前不能修改")
    if head.status != "draft":
        head = MaterialVersion(material=material, number=head.number + 1, status="draft", author=author,
                               file_sha=head.file_sha, file_name=head.file_name, cover_sha=head.cover_sha)
    head.author = author
    return _save(storage, material, head, data, author)


def submit(userid, material_id):
    """Send the draft for review."""
    material = get_material(material_id)
    head = material.head
    if head.status != "draft":
        raise WrongState("只有草稿可以提交审核")
    head.status, head.submitted_at = "pending", utcnow()
    db.session.flush()
    return material


def approve(reviewer, material_id):
    """Approve the pending version: it goes live, replacing the previous approved version."""
    material, head = _pending(reviewer, material_id)
    for version in material.versions:
        if version.status == "approved":
            version.status = "superseded"
    db.session.flush()  # at most one approved version at any moment
    head.status, head.reviewed_by, head.reviewed_at = "approved", reviewer, utcnow()
    material.withdrawn_at = material.withdrawn_by = None
    db.session.flush()
    return material


def reject(reviewer, material_id, comment):
    """Send the pending version back with the reviewer's reason."""
    comment = rejection_reason(comment)
    material, head = _pending(reviewer, material_id)
    head.status, head.reviewed_by, head.reviewed_at, head.review_comment = "rejected", reviewer, utcnow(), comment
    db.session.flush()
    return material


def rejection_reason(comment):
    """A reviewer's reason for sending a version back: required, at most COMMENT_MAX characters."""
    comment = (comment or "").strip()
    if not comment:
        raise InvalidInput("驳回时请填写原因")
    if len(comment) > COMMENT_MAX:
        raise InvalidInput(f"驳回原因最多 {COMMENT_MAX} 字")
    return comment


def withdraw(userid, material_id):
    """Take a live material out of the library; sharing it is blocked from now on."""
    material = get_material(material_id)
    if material.live is None or material.withdrawn_at:
        raise WrongState("只有已上架的物料可以下架")
    material.withdrawn_at, material.withdrawn_by = utcnow(), userid
    db.session.flush()
    return material


def list_materials(state=None, query=None, kind=None, page=1):
    """One page of materials for the console, newest first, filtered by state, search and kind."""
    other = aliased(MaterialVersion)
    newest = select(other.id).where(other.material_id == Material.id) \
        .order_by(other.number.desc()).limit(1).scalar_subquery()
    stmt = select(Material, MaterialVersion).join(MaterialVersion, MaterialVersion.id == newest)
    if state in STATE_FILTERS:
        stmt = stmt.where(STATE_FILTERS[state]())
    if kind:
        stmt = stmt.where(Material.kind == kind)
    condition = search.matching(query)
    if condition is not None:
        stmt = stmt.where(condition)
    stmt = stmt.order_by(Material.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    rows = db.session.execute(stmt.options(selectinload(Material.versions))).all()
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def _has_version(status):
    """Materials with a version in this status."""
    version = aliased(MaterialVersion)
    return exists().where(version.material_id == Material.id, version.status == status)


STATE_FILTERS = {
    "pending": lambda: _has_version("pending"),
    "live": lambda: _has_version("approved") & Material.withdrawn_at.is_(None),
    "draft": lambda: ~_has_version("approved") & ~_has_version("pending"),
    "withdrawn": lambda: Material.withdrawn_at.is_not(None),
}


def _pending(reviewer, material_id):
    """The material and its pending version, for a reviewer who did not write it."""
    material = get_material(material_id)
    head = material.head
    if head.status != "pending":
        raise WrongState("没有待审核的版本")
    if not may_review(material, reviewer):
        raise NotAllowed("不能审核自己创建或修改的物料")
    return material, head


def may_review(material, reviewer):
    """Four eyes: not the material's creator, nor anyone who edited or uploaded into its newest version."""
    return reviewer != material.created_by and reviewer not in material.head.editors


def _save(storage, material, version, data, editor):
    """Copy the form into the version, store new files, index, record the editor, commit (files undone on failure).

    Boundary: the rows are committed here, because a stored file is deleted again when its rows fail to commit:
    no file is left without its row (the request's later commit could fail after the files were kept).
    """
    for name in CONTENT_FIELDS:
        setattr(version, name, getattr(data, name))
    created = []
    try:
        db.session.add(material)  # before _store's query autoflushes: a new version is in the session with it
        if data.file:
            version.file_sha, version.file_name = _store(storage, data.file, created), data.file.name
        if data.cover:
            version.cover_sha = _store(storage, data.cover, created)
        search.index_version(version)
        _record_editor(version, editor)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for key in created:
            if db.session.get(StoredFile, key) is None:
                storage.delete(key)
        raise
    return material


def _record_editor(version, userid):
    """Add userid to the version's editors, in the save's transaction (two saves by one person: one row)."""
    db.session.flush()  # the version has its id
    db.session.execute(upsert(db.engine, VersionEditor).values(version_id=version.id, userid=userid)
                       .on_conflict_do_nothing())


def _store(storage, upload, created):
    """Store an upload's bytes and its row (once per content); remember files written now."""
    if storage.put(upload.sha256, upload.data):
        created.append(upload.sha256)
    if db.session.get(StoredFile, upload.sha256) is None:
        db.session.add(StoredFile(sha256=upload.sha256, size=len(upload.data),
                                  content_type=upload.content_type, extension=upload.extension))
    return upload.sha256
