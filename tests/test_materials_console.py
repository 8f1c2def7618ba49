"""The console: roles, creating materials, and the review life cycle (draft → pending → approved …)."""
import re

import pytest

from helpers import publish, signed_in
from sidebar.extensions import db
from sidebar.models import Material, MaterialVersion


def text_form(client, **fields):
    """A valid text-material form for this client's session."""
    return {"csrf_token": client.csrf, "kind": "text", "title": "开户话术", "summary": "三步开户", "category": "服务话术",
            "tags": "开户，新手", "risk_level": "", "body": "您好，开户只需三步。", **fields}


def create(client, **fields):
    """POST the create form; returns the response."""
    return client.post("/console/materials", data=text_form(client, **fields), content_type="multipart/form-data")


def material_id(response):
    """The id in a 303 Location /console/materials/<id>."""
    return int(re.fullmatch(r".*/console/materials/(\d+)", response.location).group(1))


def step(client, material, action, **form):
    """POST a review step with the session's CSRF token."""
    return client.post(f"/console/materials/{material}/{action}", data={"csrf_token": client.csrf, **form})


def counts(app):
    """(materials, versions) in the database."""
    with app.app_context():
        return (db.session.scalar(db.select(db.func.count(Material.id))),
                db.session.scalar(db.select(db.func.count(MaterialVersion.id))))


def library_titles(client):
    """Titles the advisors' library lists (browsing, without a chat)."""
    html = client.get("/sidebar/materials").get_data(as_text=True)
    return re.findall(r'<p class="material-title">([^<]+)</p>', html)


@pytest.fixture
def editor(library_app):
    return signed_in(library_app, "zhaomin")


@pytest.fixture
def reviewer(library_app):
    return signed_in(library_app, "sunli")


def test_content_team_creates_a_draft_and_sees_it(editor):
    response = create(editor)
    assert response.status_code == 303
    page = editor.get(response.location).get_data(as_text=True)
    assert "开户话术" in page and "草稿" in page
    assert "提交审核" in page


def test_invalid_input_answers_400_with_the_reason_and_stores_nothing(library_app, editor):
    for fields, reason in [({"title": ""}, "请填写标题"), ({"category": "随便"}, "请选择分类"),
                           ({"risk_level": "R9"}, "R1–R5"), ({"body": ""}, "话术内容不能为空"),
                           ({"valid_from": "2026-12-01", "valid_until": "2026-11-01"}, "失效日期不能早于生效日期"),
                           ({"kind": "link", "url": "javascript:alert(1)"}, "http:// 或 https://"),
                           ({"kind": "miniprogram", "appid": "wx1", "page": "a.html"}, "AppID")]:
        response = create(editor, **fields)
        assert response.status_code == 400, fields
        assert reason in response.get_data(as_text=True), fields
    assert counts(library_app) == (0, 0)


def test_a_form_without_the_csrf_token_is_refused(library_app, editor):
    response = editor.post("/console/materials", data={**text_form(editor), "csrf_token": ""},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert counts(library_app) == (0, 0)


def test_advisors_without_a_console_role_get_403(library_app, editor):
    advisor = signed_in(library_app, "zhangwei")
    assert advisor.get("/console/materials").status_code == 403
    assert create(advisor).status_code == 403
    assert counts(library_app) == (0, 0)
    manager = signed_in(library_app, "zhouqiang")
    assert manager.get("/console/materials").status_code == 200
    assert create(manager).status_code == 403, "managers read, they do not write"


def test_console_without_a_session_goes_through_wecom_login(library_app):
    response = library_app.test_client().get("/console/materials")
    assert response.status_code == 302
    assert "/connect/oauth2/authorize" in response.location


def test_review_round_trip_puts_the_material_in_the_library(editor, reviewer):
    material = material_id(create(editor))
    assert step(reviewer, material, "approve").status_code == 409, "a draft cannot be approved"
    assert step(editor, material, "submit").status_code == 303
    assert "开户话术" not in library_titles(editor), "pending is not shareable"
    assert step(editor, material, "approve").status_code == 403, "only compliance approves"
    assert step(reviewer, material, "approve").status_code == 303
    assert "已上架" in reviewer.get(f"/console/materials/{material}").get_data(as_text=True)
    assert library_titles(editor) == ["开户话术"]


def test_a_reviewer_cannot_approve_their_own_material(library_app, reviewer):
    from sidebar.identity.service import grant_role

    with library_app.app_context():
        grant_role("sunli", "content")
        db.session.commit()
    material = material_id(create(reviewer))
    step(reviewer, material, "submit")
    refused = step(reviewer, material, "approve")
    assert refused.status_code == 403
    assert "不能审核自己创建或修改的物料" in refused.get_data(as_text=True)


def test_a_reviewer_who_edited_a_colleagues_draft_cannot_approve_it(library_app, editor, reviewer):
    from sidebar.identity.service import grant_role

    with library_app.app_context():
        grant_role("sunli", "content")
        db.session.commit()
        grant_role("lina", "compliance")
        db.session.commit()
    material = material_id(create(editor))
    for who, title in ((reviewer, "开户话术（合规改）"), (editor, "开户话术（终稿）")):  # the colleague saves last
        assert who.post(f"/console/materials/{material}", data=text_form(who, title=title),
                        content_type="multipart/form-data").status_code == 303
    step(editor, material, "submit")
    page = reviewer.get(f"/console/materials/{material}").get_data(as_text=True)
    assert "需由其他合规人员审核" in page and "审核通过" not in page
    assert re.search(r"(孙丽、赵敏|赵敏、孙丽) · ", page), "the history names everyone who edited the version"
    refused = step(reviewer, material, "approve")
    assert refused.status_code == 403 and "不能审核自己创建或修改的物料" in refused.get_data(as_text=True)
    assert step(reviewer, material, "reject", comment="我改过的").status_code == 403
    assert step(signed_in(library_app, "lina"), material, "approve").status_code == 303, "another reviewer may"


def test_an_edit_of_a_live_material_is_reviewed_by_someone_who_did_not_edit_the_new_version(
        library_app, editor, reviewer):
    from sidebar.identity.service import grant_role

    with library_app.app_context():
        grant_role("sunli", "content")
        db.session.commit()
    material = publish(library_app, title="旧标题")  # written by 赵敏, approved by 孙丽
    for who, title in ((reviewer, "新标题"), (editor, "新标题（定稿）")):
        who.post(f"/console/materials/{material}", data=text_form(who, title=title),
                 content_type="multipart/form-data")
    step(editor, material, "submit")
    assert step(reviewer, material, "approve").status_code == 403
    assert library_titles(editor) == ["旧标题"]


def test_versions_written_before_editors_were_recorded_count_their_author(library_app):
    from alembic.script import ScriptDirectory
    from flask_migrate import downgrade, upgrade

    from sidebar.materials import review

    material = publish(library_app, author="zhaomin")
    with library_app.app_context():
        script = ScriptDirectory.from_config(library_app.extensions["migrate"].migrate.get_config())
        editors = next(r for r in script.walk_revisions() if r.path.endswith("_version_editors.py"))
        downgrade(revision=editors.down_revision)
        upgrade()
        assert review.get_material(material).head.editors == {"zhaomin"}


def test_reject_needs_a_comment_and_the_next_edit_is_a_new_version(library_app, editor, reviewer):
    material = material_id(create(editor))
    step(editor, material, "submit")
    assert step(reviewer, material, "reject", comment=" ").status_code == 400
    assert step(reviewer, material, "reject", comment="请补充风险提示").status_code == 303
    page = editor.get(f"/console/materials/{material}").get_data(as_text=True)
    assert "已驳回" in page and "请补充风险提示" in page
    edited = editor.post(f"/console/materials/{material}", data=text_form(editor, title="开户话术（修订）"),
                         content_type="multipart/form-data")
    assert edited.status_code == 303
    with library_app.app_context():
        versions = db.session.scalars(db.select(MaterialVersion).where(MaterialVersion.material_id == material)
                                      .order_by(MaterialVersion.number)).all()
        assert [(v.number, v.status, v.title) for v in versions] == [
            (1, "rejected", "开户话术"), (2, "draft", "开户话术（修订）")]


def test_editing_an_approved_material_keeps_the_live_version_until_the_new_one_is_approved(
        library_app, editor, reviewer):
    material = publish(library_app, title="旧标题")
    assert editor.post(f"/console/materials/{material}", data=text_form(editor, title="新标题"),
                       content_type="multipart/form-data").status_code == 303
    step(editor, material, "submit")
    assert library_titles(editor) == ["旧标题"]
    assert editor.post(f"/console/materials/{material}", data=text_form(editor, title="再改"),
                       content_type="multipart/form-data").status_code == 409, "pending versions are frozen"
    step(reviewer, material, "approve")
    assert library_titles(editor) == ["新标题"]
    with library_app.app_context():
        statuses = db.session.scalars(db.select(MaterialVersion.status).where(
            MaterialVersion.material_id == material).order_by(MaterialVersion.number)).all()
    assert statuses == ["superseded", "approved"]


def test_withdrawn_material_leaves_the_library(library_app, editor, reviewer):
    material = publish(library_app, title="要下架的")
    assert library_titles(editor) == ["要下架的"]
    assert step(reviewer, material, "withdraw").status_code == 303
    assert library_titles(editor) == []
    assert "已下架" in editor.get(f"/console/materials/{material}").get_data(as_text=True)
    assert step(reviewer, material, "withdraw").status_code == 409


def test_expired_materials_are_shown_as_expired_and_not_listed(library_app, editor):
    publish(library_app, title="过期物料", valid_until=__import__("datetime").date(2020, 1, 1))
    assert library_titles(editor) == []
    listing = editor.get("/console/materials").get_data(as_text=True)
    assert "过期物料" in listing and "已过期" in listing


def test_compliance_queue_lists_pending_materials(library_app, editor, reviewer):
    waiting = material_id(create(editor, title="等待审核的话术"))
    create(editor, title="还在草稿的话术")
    step(editor, waiting, "submit")
    queue = reviewer.get("/console/", follow_redirects=True).get_data(as_text=True)
    assert "等待审核的话术" in queue and "还在草稿的话术" not in queue
