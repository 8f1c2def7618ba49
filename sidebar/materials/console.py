"""The console (/console/…): content team, compliance and managers, in a desktop browser."""
from flask import Blueprint, Response, abort, g, redirect, request, stream_with_context, url_for

from ..domain.access import advisors_managed_by, staff_names
from ..extensions import csrf
from ..identity.auth import ROLE_LABELS, role_required
from ..models import KIND_LABELS, SCENES, china_today
from ..params import choice_arg, date_arg, date_range_arg, int_arg, text_arg
from ..web import private, render
from . import categories, figures, review, scenes
from .files import send_stored, stored_file
from .forms import InvalidMaterial, parse_material, parse_materials
from .received import received_of
from .storage import storage

bp = Blueprint("console", __name__, url_prefix="/console")
bp.add_app_template_global(ROLE_LABELS, "role_labels")
bp.add_app_template_global(review.VERSION_LABELS, "version_labels")
MB = 1024 * 1024
MAX_FORM = 31 * MB  # a 20 MB file, a 10 MB cover, and the text fields
EDITORS, REVIEWERS, ANYONE = ("content",), ("compliance",), ("content", "compliance", "manager")
# Who sees the whole firm's shares; a manager sees the advisors of their branch (domain.access.advisors_managed_by).
FIRM_AUDIT, FIRM_FIGURES = ("compliance",), ("compliance", "content")
bp.add_app_template_global(received_of)  # templates/materials/_received.html, in the console and the sidebar


@bp.get("/")
@role_required(*ANYONE)
def home():
    """Reviewers start at their queue, everyone else at the list."""
    state = "pending" if "compliance" in g.roles else None
    return redirect(url_for(".materials", state=state))


@bp.get("/materials")
@role_required(*ANYONE)
def materials():
    """Every material, filtered by state, kind and search."""
    page = int_arg("page", 1)
    rows, more = review.list_materials(choice_arg("state", review.STATE_FILTERS), text_arg("q", 50),
                                       choice_arg("kind", KIND_LABELS), page)
    return render("console/materials.html", rows=rows, more=more, page_number=page, today=china_today(),
                  state_of=review.state_of, kinds=KIND_LABELS)


@bp.get("/materials/new")
@role_required(*EDITORS)
def new_material():
    """An empty form."""
    return _form_page(None, choice_arg("kind", KIND_LABELS, "text"), {})


@bp.post("/materials")
@csrf.exempt  # checked in _material_form, after the size limit is in place
@role_required(*EDITORS)
def create():
    """Create a draft from the multipart form: 303 to it, or 400/413 with the reason and nothing stored.

    Several posters make one draft each (each reviewed on its own): 303 to the list of drafts.
    """
    form, files = _material_form()
    try:
        drafts = parse_materials(form, files, categories.names()[0])
    except InvalidMaterial as invalid:
        return _form_page(None, form.get("kind", ""), form, str(invalid), invalid.status)
    created = [review.create_material(storage(), g.userid, data) for data in drafts]
    if len(created) > 1:
        return redirect(url_for(".materials", state="draft", kind="image"), 303)
    return redirect(url_for(".material", material_id=created[0].id), 303)


@bp.get("/materials/<int:material_id>")
@role_required(*ANYONE)
def material(material_id):
    """A material: its state, live and newest versions, review actions, history and figures."""
    return _material_page(_get(material_id))


@bp.get("/materials/<int:material_id>/edit")
@role_required(*EDITORS)
def edit(material_id):
    """The form filled with the newest version."""
    item = _get(material_id)
    head = item.head
    values = {name: getattr(head, name) or "" for name in review.CONTENT_FIELDS}
    values["tags"] = "，".join(head.tag_list)
    return _form_page(item, item.kind, values)


@bp.post("/materials/<int:material_id>")
@csrf.exempt  # checked in _material_form, after the size limit is in place
@role_required(*EDITORS)
def update(material_id):
    """Save an edit: the draft in place, or a new version after an approved or rejected one."""
    item = _get(material_id)
    form, files = _material_form()
    try:
        data = parse_material(form, files, _offered(item), kind=item.kind, has_file=bool(item.head.file_sha),
                              has_cover=bool(item.head.cover_sha))
        review.update_material(storage(), g.userid, material_id, data)
    except InvalidMaterial as invalid:
        return _form_page(item, item.kind, form, str(invalid), invalid.status)
    except review.WrongState as wrong:
        return _form_page(item, item.kind, form, str(wrong), 409)
    return redirect(url_for(".material", material_id=material_id), 303)


@bp.post("/materials/<int:material_id>/submit")
@role_required(*EDITORS)
def submit(material_id):
    """Send the draft for review."""
    return _transition(review.submit, material_id)


@bp.post("/materials/<int:material_id>/approve")
@role_required(*REVIEWERS)
def approve(material_id):
    """Approve the pending version (not one's own)."""
    return _transition(review.approve, material_id)


@bp.post("/materials/<int:material_id>/reject")
@role_required(*REVIEWERS)
def reject(material_id):
    """Reject the pending version with a comment."""
    return _transition(review.reject, material_id, request.form.get("comment"))


@bp.post("/materials/<int:material_id>/withdraw")
@role_required("content", "compliance")
def withdraw(material_id):
    """Take a live material out of the library."""
    return _transition(review.withdraw, material_id)


@bp.post("/materials/<int:material_id>/scene")
@role_required(*EDITORS)
def set_scene(material_id):
    """用于: the situation of a client's 下一步 this material serves (form field `scene`, empty to clear)."""
    return _transition(scenes.set_scene, material_id, request.form.get("scene", ""))


@bp.get("/files/<sha256>")
@role_required(*ANYONE)
def file(sha256):
    """An uploaded file, for preview: pictures inline, everything else as a download."""
    stored = stored_file(sha256)
    if stored is None:
        abort(404)
    name = request.args.get("name") or f"{sha256[:12]}.{stored.extension}"
    return send_stored(storage(), stored, name, inline=stored.content_type.startswith("image/"))


@bp.get("/figures")
@role_required(*ANYONE)
def stats():
    """Shares, reach and opens per material and per advisor (a manager's branch only), shared between
    `since` and `until` (China dates; the last 30 days by default)."""
    since, until = date_range_arg()
    advisors = _overseen(*FIRM_FIGURES)
    return render("console/figures.html", since=since, until=until, kinds=KIND_LABELS,
                  materials=figures.material_figures(advisors=advisors, since=since, until=until),
                  advisors=figures.advisor_figures(advisors=advisors, since=since, until=until))


@bp.get("/audit")
@role_required("compliance", "manager")
def audit():
    """Every share (a manager's branch only), filtered; `format=csv` downloads all matching rows."""
    flt, advisors = _audit_filter(), _overseen(*FIRM_AUDIT)
    if choice_arg("format", ("csv",)) == "csv":
        response = Response(stream_with_context(figures.audit_csv(flt, advisors)), mimetype="text/csv")
        response.headers["Content-Disposition"] = f"attachment; filename=share-audit-{china_today():%Y%m%d}.csv"
        return private(response)
    page = int_arg("page", 1)
    rows, more = figures.audit_rows(flt, page, advisors=advisors)
    material = _named(flt.material)
    return private(render("console/audit.html", rows=rows, more=more, page_number=page, flt=flt, material=material,
                          statuses=figures.STATUS_LABELS, classes=figures.CLASS_LABELS))


@bp.get("/categories")
@role_required(*EDITORS)
def category_list():
    """The library's categories, in order, with add, rename, retire and move."""
    return _categories_page()


@bp.post("/categories")
@role_required(*EDITORS)
def add_category():
    """A new category at the end: 303 to the list, or the list with the reason (400)."""
    return _category_step(categories.add_category, request.form.get("name"))


@bp.post("/categories/<int:category_id>")
@role_required(*EDITORS)
def change_category(category_id):
    """rename (form field `name`), retire, restore, up or down, as the form's `action` says."""
    action = request.form.get("action")
    steps = {"rename": (categories.rename_category, request.form.get("name")),
             "retire": (categories.retire_category, True), "restore": (categories.retire_category, False),
             "up": (categories.move_category, -1), "down": (categories.move_category, 1)}
    if action not in steps:
        abort(400, "未知的分类操作")
    step, argument = steps[action]
    return _category_step(step, category_id, argument)


def _category_step(step, *args):
    """Run a category change; 303 back to the list, or the list with the reason."""
    try:
        step(*args)
    except categories.UnknownCategory:
        abort(404)
    except categories.InvalidCategory as invalid:
        return _categories_page(str(invalid), 400)
    return redirect(url_for(".category_list"), 303)


def _categories_page(error=None, status=200):
    """The categories page, with the reason a change was refused when there is one."""
    return render("console/categories.html", status=status, categories=categories.all_categories(),
                  counts=categories.material_counts(), error=error)


def _material_form():
    """The form, parsed under the upload size limit, then CSRF-checked (413 before anything is kept)."""
    request.max_content_length = MAX_FORM
    csrf.protect()
    return request.form, request.files


def _form_page(item, kind, values, error=None, status=200):
    """The create/edit form, re-shown with the reason when the input was refused."""
    return render("console/material_form.html", status=status, material=item, kind=kind, values=values,
                  error=error, kinds=KIND_LABELS, categories=_offered(item))


def _offered(item):
    """The categories a material may be filed under: the active ones, and the one it has (even retired)."""
    offered = categories.names()[0]
    current = item.head.category if item else None
    return offered + [current] if current and current not in offered else offered


def _get(material_id):
    """The material, or 404."""
    try:
        return review.get_material(material_id)
    except review.NotFound:
        abort(404)


def _named(material_id):
    """The material an audit is narrowed to (its title names the filter), or None."""
    try:
        return review.get_material(material_id) if material_id else None
    except review.NotFound:
        return None


def _material_page(item, error=None, status=200):
    """The material page, with the reason a review step was refused when there is one."""
    stats = figures.material_figures(item.id, advisors=_overseen(*FIRM_FIGURES))
    people = {item.created_by, item.withdrawn_by} | {v.reviewed_by for v in item.versions} \
        | {userid for v in item.versions for userid in v.editors}
    people.discard(None)
    return render("console/material.html", status=status, material=item, error=error,
                  state=review.state_of(item, china_today()), stats=stats[0] if stats else None,
                  kinds=KIND_LABELS, names=staff_names(people), may_review=review.may_review(item, g.userid),
                  scene=scenes.scene_of(item.id), scenes=SCENES)


def _transition(action, material_id, *args):
    """Run a review step; 303 back to the material, or the page with the reason (400/403/409)."""
    try:
        action(g.userid, material_id, *args)
    except review.NotFound:
        abort(404)
    except review.InvalidInput as invalid:
        return _material_page(_get(material_id), str(invalid), 400)
    except review.NotAllowed as refused:
        return _material_page(_get(material_id), str(refused), 403)
    except review.WrongState as wrong:
        return _material_page(_get(material_id), str(wrong), 409)
    return redirect(url_for(".material", material_id=material_id), 303)


def _overseen(*firm_roles):
    """None (the whole firm) for a holder of one of firm_roles; else the staff of a manager's department tree."""
    if g.roles & set(firm_roles):
        return None
    return advisors_managed_by(g.userid)


def _audit_filter():
    """The audit filter from the query string (a malformed date, id or status is a 400)."""
    return figures.AuditFilter(advisor=text_arg("advisor", 64), client=text_arg("client", 64),
                               material=int_arg("material"), title=text_arg("title", 64),
                               status=choice_arg("status", figures.STATUS_LABELS),
                               since=date_arg("since"), until=date_arg("until"))


