"""下一步 on the client panel: the situation's step with its reason and the material the console chose
for it; the library's reason line; linking a prospect by the mobile they give."""
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from actions_helpers import ADVISOR, SITUATIONS, next_steps, scene, seed_situations
from helpers import login, make_app, publish, signed_in
from sidebar.extensions import db
from sidebar.models import ClientProfile, ContactMobile, Follow, china_today

TODAY = china_today()


@pytest.fixture
def scenes(library_app):
    """A material for each scene, set in the console's way; {scene: title}."""
    titles = {"open_account": "申江证券开户小程序", "applying": "开户三步指引", "funding": "入金指引",
              "win_back": "老朋友回归礼", "reassess": "风险测评（重新评估）", "welcome": "欢迎语"}
    for key, title in titles.items():
        kind = "miniprogram" if key == "open_account" else "text"
        scene(library_app, publish(library_app, kind, title=title), key)
    return titles


def panel_html(app, external_userid, userid=ADVISOR):
    """The client panel fragment as userid sees it."""
    client = app.test_client()
    login(client, userid)
    response = client.get(f"/sidebar/contacts/{external_userid}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def days(iso):
    """Days from an ISO date to today."""
    from datetime import date

    return (TODAY - date.fromisoformat(iso)).days


EXPECTED = {  # external_userid -> [(scene, reason)], from the seeded rows, most urgent first
    "wmNEXTxProspect": [("open_account", "未开户 · 未匹配到资金账户：发送开户小程序，或填写客户提供的手机号匹配账户")],
    "wmNEXTxApplying1": [("applying", f"开户中已 {days(SITUATIONS['wmNEXTxApplying1'][1]['stage_dates']['applying'])} 天，尚未完成开户")],
    "wmNEXTxOpenedNF1": [("funding", "已开户 5 天，尚未入金")],
    "wmNEXTxDormant01": [("win_back", "距上次交易已 200 天")],
    "wmNEXTxExpired01": [("reassess", f"风险测评已于 {(TODAY - timedelta(days=10)).isoformat()} 过期，仅可发送通用物料")],
    "wmNEXTxExpiring1": [("reassess", f"风险测评 12 天后到期（{(TODAY + timedelta(days=12)).isoformat()}）")],
    "wmNEXTxAddedTdy1": [("welcome", "今天刚添加的客户"),
                         ("open_account", "未开户 · 未匹配到资金账户：发送开户小程序，或填写客户提供的手机号匹配账户")],
    "wmNEXTxFreshOpn1": [],  # opened yesterday: guidance is not due yet
}


@pytest.mark.parametrize("external_userid", sorted(EXPECTED))
def test_each_situation_shows_its_next_step_with_the_material_chosen_for_it(library_app, scenes, external_userid):
    seed_situations(library_app)
    steps = next_steps(panel_html(library_app, external_userid))
    assert [(key, reason) for key, reason, _ in steps] == EXPECTED[external_userid]
    assert [title for _, _, title in steps] == [scenes[key] for key, _ in EXPECTED[external_userid]]


def test_without_a_scene_material_the_step_still_says_what_to_do(library_app):
    seed_situations(library_app)
    html = panel_html(library_app, "wmNEXTxOpenedNF1")
    assert next_steps(html) == [("funding", "已开户 5 天，尚未入金", None)]
    assert "内容团队尚未指定用于此场景的物料" in html


def test_a_product_is_never_the_re_assessment_step_of_a_client_without_a_valid_class(library_app):
    seed_situations(library_app)
    scene(library_app, publish(library_app, "text", title="稳健理财", risk_level="R2"), "reassess")
    assert next_steps(panel_html(library_app, "wmNEXTxExpired01"))[0][2] is None
    scene(library_app, publish(library_app, "link", title="风险测评入口"), "reassess")
    assert next_steps(panel_html(library_app, "wmNEXTxExpired01"))[0][2] == "风险测评入口"


def test_the_content_team_sets_the_scene_in_the_console_and_nobody_else(library_app):
    seed_situations(library_app)
    material_id = publish(library_app, "text", title="入金三步走")
    advisor = signed_in(library_app, "sunli")  # compliance, not content
    answer = advisor.post(f"/console/materials/{material_id}/scene", data={"scene": "funding", "csrf_token": advisor.csrf})
    assert answer.status_code == 403
    content = signed_in(library_app, "zhaomin")
    answer = content.post(f"/console/materials/{material_id}/scene", data={"scene": "nonsense", "csrf_token": content.csrf})
    assert answer.status_code == 400
    answer = content.post(f"/console/materials/{material_id}/scene", data={"scene": "funding", "csrf_token": content.csrf})
    assert answer.status_code == 303
    assert 'value="funding" selected' in content.get(f"/console/materials/{material_id}").get_data(as_text=True)
    assert next_steps(panel_html(library_app, "wmNEXTxOpenedNF1"))[0][2] == "入金三步走"
    content.post(f"/console/materials/{material_id}/scene", data={"scene": "", "csrf_token": content.csrf})
    assert next_steps(panel_html(library_app, "wmNEXTxOpenedNF1"))[0][2] is None


def test_the_step_sends_its_material_through_the_share_path(library_app, scenes):
    seed_situations(library_app)
    advisor = signed_in(library_app, ADVISOR)
    html = advisor.get("/sidebar/contacts/wmNEXTxProspect", headers={"HX-Request": "true"}).get_data(as_text=True)
    import re

    url = re.search(r'data-scene="open_account">.*?data-share-url="([^"]+)"', html, re.S).group(1)
    answer = advisor.post(url, data={"target": "contact:wmNEXTxProspect"}, headers={"X-CSRFToken": advisor.csrf})
    assert answer.status_code == 200
    message = answer.get_json()["message"]
    assert message["msgtype"] == "miniprogram" and message["miniprogram"]["title"] == "申江证券开户小程序"


def test_a_managers_read_only_view_has_no_next_step_nor_edit(library_app):
    seed_situations(library_app)
    with library_app.app_context():
        from sidebar.identity.service import grant_role
        from sop_helpers import add_staff

        add_staff(ADVISOR, "张伟", 3)
        add_staff("zhouqiang", "周强", 3)
        db.session.commit()
        grant_role("zhouqiang", "manager")
        db.session.commit()
    html = panel_html(library_app, "wmNEXTxOpenedNF1", userid="zhouqiang")
    assert "负责人只读" in html
    assert next_steps(html) == [] and "编辑备注与标签" not in html and "提醒我跟进" not in html
    manager = signed_in(library_app, "zhouqiang")
    for path, data in (("reminders", {"at": "2030-01-01T10:00", "text": "回访"}), ("profile", {"remark": "改"}),
                       ("mobiles", {"mobile": "13800001111"})):
        answer = manager.post(f"/sidebar/contacts/wmNEXTxOpenedNF1/{path}", data=data,
                              headers={"X-CSRFToken": manager.csrf})
        assert answer.status_code == 403, path
    assert manager.get("/sidebar/contacts/wmNEXTxOpenedNF1/profile").status_code == 403
    with library_app.app_context():
        follow = db.session.scalar(select(Follow).filter_by(external_userid="wmNEXTxOpenedNF1"))
        assert follow.remark != "改" and follow.remark_mobiles == []


def test_the_library_says_why_it_recommends_a_material(library_app):
    seed_situations(library_app)
    publish(library_app, "text", title="入金操作指南", tags="入金")
    publish(library_app, "text", title="红利ETF", risk_level="R3")
    publish(library_app, "text", title="今日天气")
    advisor = signed_in(library_app, ADVISOR)
    html = advisor.get("/sidebar/materials?chat=contact:wmNEXTxOpenedNF1").get_data(as_text=True)
    import re

    reasons = dict(re.findall(r'<p class="material-title">(.*?)</p>.*?(?:<p class="recommend-reason">推荐理由：(.*?)</p>|</li>)',
                              html, re.S))
    assert reasons["入金操作指南"] == "已开户客户下一步：入金"
    assert reasons["红利ETF"] == "R3 产品正合客户风险等级"  # the client is C3
    assert reasons["今日天气"] == ""


# -- linking a prospect by the mobile they give -------------------------------------------------------

@pytest.fixture
def own_app(tmp_path, own_emulator):
    """The app on an emulator of the test's own (its world is changed)."""
    return make_app(tmp_path / "sidebar.db", own_emulator.url)


def prospect_of(own_emulator, advisor=ADVISOR):
    """A contact of advisor in the emulator's world with no mobile noted."""
    world = own_emulator.emulator.world
    return next(f for (userid, _), f in world.follows.items() if userid == advisor and not f.remark_mobiles)


def test_a_prospect_is_linked_by_the_mobile_they_give_and_the_profile_matches(own_app, own_emulator):
    from sidebar.sync.profiles import import_profiles

    relation = prospect_of(own_emulator)
    external_userid = relation.external_userid
    with own_app.app_context():
        result = import_profiles([{"account_id": "880000777001", "mobile": "13912345678", "name": "新客户",
                                   "stage": "opened", "risk_level": "C3",
                                   "risk_expires": (TODAY + timedelta(days=300)).isoformat()}])
        db.session.commit()
        assert not result.rejected
    advisor = signed_in(own_app, ADVISOR)
    assert advisor.get(f"/sidebar/contacts/{external_userid}").status_code == 200  # stored from WeCom
    with own_app.app_context():
        assert db.session.get(ClientProfile, "880000777001").external_userid is None

    bad = advisor.post(f"/sidebar/contacts/{external_userid}/mobiles", data={"mobile": "12345"},
                       headers={"X-CSRFToken": advisor.csrf, "HX-Request": "true"})
    assert bad.status_code == 422 and "请输入 11 位手机号" in bad.get_data(as_text=True)
    answer = advisor.post(f"/sidebar/contacts/{external_userid}/mobiles", data={"mobile": "139-1234-5678"},
                          headers={"X-CSRFToken": advisor.csrf, "HX-Request": "true"})
    assert answer.status_code == 200 and answer.headers["HX-Retarget"] == "#panel"
    html = answer.get_data(as_text=True)
    assert "****7001" in html and "139****5678" in html and "13912345678" not in html
    assert relation.remark_mobiles == ["13912345678"]  # in WeCom's data
    with own_app.app_context():
        assert db.session.get(ClientProfile, "880000777001").external_userid == external_userid
        assert db.session.get(ContactMobile, ("13912345678", external_userid)) is not None
        follow = db.session.scalar(select(Follow).filter_by(userid=ADVISOR, external_userid=external_userid))
        assert follow.remark_mobiles == ["13912345678"]


def test_a_mobile_no_account_has_yet_is_noted_and_matched_by_the_next_import(own_app, own_emulator):
    from sidebar.sync.profiles import import_profiles

    external_userid = prospect_of(own_emulator).external_userid
    advisor = signed_in(own_app, ADVISOR)
    advisor.get(f"/sidebar/contacts/{external_userid}")
    answer = advisor.post(f"/sidebar/contacts/{external_userid}/mobiles", data={"mobile": "13800001111"},
                          headers={"X-CSRFToken": advisor.csrf, "HX-Request": "true"})
    assert answer.status_code == 200 and "暂未找到该手机号的资金账户" in answer.get_data(as_text=True)
    with own_app.app_context():
        import_profiles([{"account_id": "880000777002", "mobile": "13800001111", "stage": "registered"}])
        db.session.commit()
        assert db.session.get(ClientProfile, "880000777002").external_userid == external_userid


def test_only_the_advisor_who_follows_may_link_a_mobile(own_app, own_emulator):
    relation = prospect_of(own_emulator)
    other = signed_in(own_app, "lina")
    answer = other.post(f"/sidebar/contacts/{relation.external_userid}/mobiles", data={"mobile": "13800001111"},
                        headers={"X-CSRFToken": other.csrf})
    assert answer.status_code == 404
    assert relation.remark_mobiles == []
    assert requests.get(f"{own_emulator.url}/_admin/calls", timeout=5).json()["counts"].get(
        "/cgi-bin/externalcontact/remark", 0) == 0
