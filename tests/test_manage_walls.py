"""大屏 on a branch's TV: a manager sets it up for a department of their tree, the TV opens the link once and
then sees that department's wall only — no other branch, no other page, no client's line even masked;
revoking stops it; the link and the TV's cookie are stored only as digests."""
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from helpers import signed_in
from manage_helpers import MANAGER, OTHER_MANAGER, add_contact, seed_branches, seed_other_manager
from sidebar.extensions import db
from sidebar.manage.wall_views import COOKIE
from sidebar.models import CHINA, WallScreen
from sidebar.sync.profiles import import_profiles

SCREEN = "/manage/wall/screen"
OURS, THEIRS = "张伟", "王芳"  # the advisors of today's openings in 浦东 (department 3) and 徐汇 (department 4)


@pytest.fixture
def wall_app(app):
    """An opening today in each branch; zhouqiang manages 浦东 (3), wangfang 徐汇 (4)."""
    seed_branches(app)
    seed_other_manager(app)
    today = datetime.now(CHINA).date().isoformat()
    with app.app_context():
        add_contact("wo_a", "zhangwei", "2026-10-01 10:00", name="客户a", unionid="u_wo_a")
        add_contact("wo_w", "wangfang", "2026-10-01 10:00", name="客户w", unionid="u_wo_w")
        db.session.commit()
        assert import_profiles([
            {"account_id": "880000000101", "unionid": "u_wo_a", "stage": "opened",
             "stage_dates": {"registered": today, "opened": today}},
            {"account_id": "880000000104", "unionid": "u_wo_w", "stage": "opened",
             "stage_dates": {"registered": today, "opened": today}}]).accepted == 2
    return app


def set_up_wall(manager, department, name="大堂电视"):
    """The manager makes a wall: (status, page, pairing path)."""
    response = manager.post("/manage/walls", data={"department": str(department), "name": name,
                                                   "csrf_token": manager.csrf})
    page = response.get_data(as_text=True)
    found = re.search(r"(/manage/wall/pair/[A-Za-z0-9_-]+)", page)
    return response.status_code, page, found.group(1) if found else None


def confirm(client, path):
    """The TV opens the link and presses 登录大屏: the POST's response (a 404 when the link is dead)."""
    page = client.get(path)
    if page.status_code != 200:
        return page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    return client.post(path, data={"csrf_token": token})


def pair_tv(app, path):
    """A fresh browser (no staff session) opens the link and confirms: (client, the cookie's value)."""
    tv = app.test_client()
    response = confirm(tv, path)
    assert response.status_code == 303 and response.location.endswith(SCREEN)
    cookie = tv.get_cookie(COOKIE, path=SCREEN)
    assert cookie is not None and cookie.http_only
    return tv, cookie.value


def test_a_paired_tv_sees_its_branchs_wall_and_refreshes_it(wall_app):
    manager = signed_in(wall_app, MANAGER)
    status, page, path = set_up_wall(manager, 3)
    assert status == 201 and path
    tv, _ = pair_tv(wall_app, path)
    wall = tv.get(SCREEN)
    assert wall.status_code == 200
    html = wall.get_data(as_text=True)
    assert OURS in html and THEIRS not in html
    assert "****" not in html and "客户" not in html, "a TV in the hall shows no client's line, masked or not"
    assert f'hx-get="{SCREEN}"' in html and 'class="wall"' in html
    poll = tv.get(SCREEN, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert OURS in poll and THEIRS not in poll and "<html" not in poll
    listed = manager.get("/manage/walls").get_data(as_text=True)
    row = re.search(r'<tr data-wall="\d+">(.*?)</tr>', listed, re.S).group(1)
    assert "已登录" in row and ">2<" in row, "the TV's two views are counted"


def test_each_branchs_tv_shows_its_own_branch(wall_app):
    _, _, path = set_up_wall(signed_in(wall_app, OTHER_MANAGER), 4)
    tv, _ = pair_tv(wall_app, path)
    html = tv.get(SCREEN).get_data(as_text=True)
    assert THEIRS in html and OURS not in html


def test_the_tvs_cookie_opens_nothing_but_its_wall(wall_app):
    """Every other GET page of the app, with the TV's cookie sent everywhere: none answers 200."""
    _, _, path = set_up_wall(signed_in(wall_app, MANAGER), 3)
    tv, value = pair_tv(wall_app, path)
    tv.set_cookie(COOKIE, value, path="/")  # as if the cookie's path did not keep it at home
    refused = []
    for rule in wall_app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint in ("static", "manage_walls.screen"):
            continue
        if not rule.rule.startswith(("/manage", "/sidebar", "/console")):
            continue
        response = tv.get(rule.rule, query_string={"advisor": "zhangwei", "kind": "opened", "branch": "浦东营业部"})
        assert response.status_code in (302, 401, 403), (rule.rule, response.status_code)
        assert OURS not in response.get_data(as_text=True)
        refused.append(rule.rule)
    assert {"/manage/wall", "/manage/openings", "/manage/openings/rows", "/manage/walls"} <= set(refused)
    assert tv.get(SCREEN, query_string={"branch": "徐汇营业部", "department": "4"}).get_data(as_text=True).count(THEIRS) == 0


def test_the_link_opens_once_and_a_preview_does_not_use_it_up(wall_app):
    _, _, path = set_up_wall(signed_in(wall_app, MANAGER), 3)
    preview = wall_app.test_client()
    assert preview.get(path).status_code == 200 and preview.get(SCREEN).status_code == 403, "only a confirm pairs"
    assert preview.post(path).status_code == 400, "the confirm carries the page's CSRF token"
    pair_tv(wall_app, path)
    again = wall_app.test_client()
    assert again.get(path).status_code == 404 and confirm(again, path).status_code == 404
    assert again.get(SCREEN).status_code == 403
    assert wall_app.test_client().get("/manage/wall/pair/not-a-link").status_code == 404


def test_a_revoked_wall_is_refused_and_a_new_link_replaces_the_tv(wall_app):
    manager = signed_in(wall_app, MANAGER)
    _, _, path = set_up_wall(manager, 3)
    tv, _ = pair_tv(wall_app, path)
    with wall_app.app_context():
        wall_id = db.session.scalar(select(WallScreen.id))
    page = manager.post(f"/manage/walls/{wall_id}/link", data={"csrf_token": manager.csrf}).get_data(as_text=True)
    second = re.search(r"(/manage/wall/pair/[A-Za-z0-9_-]+)", page).group(1)
    assert tv.get(SCREEN).status_code == 403, "paired again: the old TV stops"
    tv2, _ = pair_tv(wall_app, second)
    assert tv2.get(SCREEN).status_code == 200
    assert manager.post(f"/manage/walls/{wall_id}/revoke", data={"csrf_token": manager.csrf}).status_code == 303
    refused = tv2.get(SCREEN)
    assert refused.status_code == 403 and OURS not in refused.get_data(as_text=True)
    assert tv2.get(SCREEN, headers={"HX-Request": "true"}).status_code == 403, "the refresh stops too"
    assert "已撤销" in manager.get("/manage/walls").get_data(as_text=True)
    assert manager.post(f"/manage/walls/{wall_id}/link", data={"csrf_token": manager.csrf}).status_code == 404


def test_secrets_are_kept_only_as_digests(wall_app):
    _, _, path = set_up_wall(signed_in(wall_app, MANAGER), 3)
    link_secret = path.rsplit("/", 1)[1]
    with wall_app.app_context():
        row = db.session.scalar(select(WallScreen))
        stored = [str(getattr(row, c.key)) for c in WallScreen.__table__.columns]
    assert not any(link_secret in value for value in stored)
    _, cookie = pair_tv(wall_app, path)
    with wall_app.app_context():
        row = db.session.scalar(select(WallScreen))
        stored = [str(getattr(row, c.key)) for c in WallScreen.__table__.columns]
        assert row.link_hash is None and len(row.device_hash) == 64
    assert not any(cookie in value or link_secret in value for value in stored)


def test_a_manager_sets_up_and_revokes_walls_only_in_their_tree(wall_app):
    manager, other = signed_in(wall_app, MANAGER), signed_in(wall_app, OTHER_MANAGER)
    status, page, path = set_up_wall(manager, 4)
    assert status == 400 and path is None and "只能为本部门及下级部门设置大屏" in page
    _, _, path = set_up_wall(manager, 3)
    with wall_app.app_context():
        wall_id = db.session.scalar(select(WallScreen.id))
    assert 'data-wall="' not in other.get("/manage/walls").get_data(as_text=True)
    assert other.post(f"/manage/walls/{wall_id}/revoke", data={"csrf_token": other.csrf}).status_code == 404
    assert other.post(f"/manage/walls/{wall_id}/link", data={"csrf_token": other.csrf}).status_code == 404
    tv, _ = pair_tv(wall_app, path)
    assert tv.get(SCREEN).status_code == 200, "the other manager's attempts changed nothing"


def test_an_unopened_link_expires(wall_app):
    manager = signed_in(wall_app, MANAGER)
    _, _, path = set_up_wall(manager, 3)
    assert "等待电视打开链接" in manager.get("/manage/walls").get_data(as_text=True)
    with wall_app.app_context():
        row = db.session.scalar(select(WallScreen))
        row.link_expires_at = datetime.utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert confirm(wall_app.test_client(), path).status_code == 404
    assert "链接已过期，请重新生成" in manager.get("/manage/walls").get_data(as_text=True), "the list says so"
