"""Sharing: compliance checks on the server, the sendChatMessage payload, WeCom media, the audit row."""
import re
from datetime import date, datetime, timedelta

import pytest
import requests

from helpers import import_classes, publish, signed_in, wecom_calls
from sidebar.extensions import db
from sidebar.models import Share, utcnow

ADVISOR = "zhangwei"


def contacts_of(world, userid):
    """(external_userid, unionid, name) of the advisor's WeChat contacts that have a unionid."""
    people = {c["external_userid"]: c for c in world["contacts"]}
    return [(f["external_userid"], people[f["external_userid"]]["unionid"], f["remark"] or people[f["external_userid"]]["name"])
            for f in world["follows"] if f["userid"] == userid and people[f["external_userid"]]["unionid"]]


def unionid_of(world, external_userid):
    """The unionid of a contact or prospect of the world."""
    return next(p["unionid"] for p in world["contacts"] + world["prospects"] if p["external_userid"] == external_userid)


@pytest.fixture
def scene(library_app, world):
    """zhangwei's clients with known classes, and a group with a C5 and a C2 client in it."""
    group = next(g for g in world["groups"] if g["name"] == "ETF定投学习群")
    in_group = {m["userid"] for m in group["members"]}
    c2, c5, expired, c1, nobody = [p for p in contacts_of(world, ADVISOR) if p[0] not in in_group][:5]
    members = [m for m in group["members"] if m["type"] == 2 and unionid_of(world, m["userid"])]
    group_c5, group_c2 = members[0], members[1]
    import_classes(library_app, {c2[1]: ("C2", 300, ["基金持有"]), c5[1]: ("C5", 300, ["高净值"]),
                                 expired[1]: ("C4", -3, []), c1[1]: ("C1", 300, []),
                                 unionid_of(world, group_c5["userid"]): ("C5", 300, []),
                                 unionid_of(world, group_c2["userid"]): ("C2", 300, [])})
    advisor = signed_in(library_app, ADVISOR)
    for external_userid, *_ in (c2, c5, expired, c1, nobody):  # the sidebar opens these chats first
        assert advisor.get(f"/sidebar/contacts/{external_userid}").status_code == 200
    assert advisor.get(f"/sidebar/groups/{group['chat_id']}").status_code == 200
    return {"advisor": advisor, "c2": c2, "c5": c5, "expired": expired, "c1": c1, "nobody": nobody,
            "group": group, "group_c2": group_c2}


def share(client, material, target):
    """POST a share; returns the response."""
    return client.post(f"/sidebar/materials/{material}/shares", data={"target": target},
                       headers={"X-CSRFToken": client.csrf})


def to_contact(scene, who):
    """The target form value of a scene contact."""
    return f"contact:{scene[who][0]}"


def share_row(app, share_id):
    """The stored share."""
    with app.app_context():
        row = db.session.get(Share, share_id)
        db.session.expunge(row)
        return row


def test_a_general_text_goes_as_text_and_the_reported_result_is_recorded(library_app, scene):
    material = publish(library_app, "text", body="今晚 8 点直播答疑")
    answer = share(scene["advisor"], material, to_contact(scene, "nobody"))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["message"] == {"msgtype": "text", "text": {"content": "今晚 8 点直播答疑"}}
    assert share_row(library_app, body["share_id"]).status == "prepared"
    report = scene["advisor"].post(body["report_url"], data={"result": "sent"}, headers={"X-CSRFToken": scene["advisor"].csrf})
    assert report.status_code == 200 and report.get_json()["status"] == "sent"
    again = scene["advisor"].post(body["report_url"], data={"result": "cancelled"},
                                  headers={"X-CSRFToken": scene["advisor"].csrf})
    assert again.status_code == 409, "a result is final"
    assert share_row(library_app, body["share_id"]).status == "sent"


def test_an_r4_product_to_a_c2_client_is_blocked_with_the_reason_and_recorded(library_app, scene):
    material = publish(library_app, "image", title="科创成长基金海报", risk_level="R4")
    answer = share(scene["advisor"], material, to_contact(scene, "c2"))
    assert answer.status_code == 403
    body = answer.get_json()
    assert "C2" in body["blocked"] and "R4" in body["blocked"]
    row = share_row(library_app, body["share_id"])
    assert (row.status, row.client_class, row.material_level, row.message) == ("blocked", "C2", "R4", None)
    assert row.reason == body["blocked"]
    assert wecom_calls_for_media(library_app) == 0


def wecom_calls_for_media(app):
    """How many media/upload calls the emulator received."""
    return wecom_calls(type("E", (), {"url": app.config["WECOM_API_BASE"]}), "/cgi-bin/media/upload")


SUITABILITY = [("c2", "R2", True), ("c2", "R3", False), ("c5", "R5", True), ("c1", "R1", True), ("c1", "R2", False),
               ("expired", "R1", False), ("nobody", "R1", False), ("expired", None, True), ("nobody", None, True)]


def test_suitability_rn_needs_cn_and_unknown_classes_get_general_material_only(library_app, scene):
    materials = {level: publish(library_app, "text", risk_level=level, body="产品介绍") for level in
                 (None, "R1", "R2", "R3", "R5")}
    for who, level, allowed in SUITABILITY:
        answer = share(scene["advisor"], materials[level], to_contact(scene, who))
        assert answer.status_code == (200 if allowed else 403), (who, level, answer.get_json())
        if not allowed and who in ("expired", "nobody"):
            assert "无有效测评" in answer.get_json()["blocked"]


def test_product_text_carries_its_disclaimer(library_app, scene):
    material = publish(library_app, "text", risk_level="R2", body="稳健理财 1 号")
    content = share(scene["advisor"], material, to_contact(scene, "c5")).get_json()["message"]["text"]["content"]
    assert content == "稳健理财 1 号\n\n投资有风险，入市需谨慎"


def test_in_a_group_every_matched_client_must_qualify_and_the_blockers_are_named(library_app, scene):
    chat = f"group:{scene['group']['chat_id']}"
    product = publish(library_app, "text", risk_level="R3")
    answer = share(scene["advisor"], product, chat)
    assert answer.status_code == 403
    reason = answer.get_json()["blocked"]
    blocker = scene["group_c2"]["name"]
    assert f"{blocker[0]}{'*' * (len(blocker) - 1)}（C2）" in reason
    assert blocker not in reason, "names are masked"
    assert not re.search(r"\d{5,}", reason), "no account or phone numbers"
    row = share_row(library_app, answer.get_json()["share_id"])
    assert (row.target_type, row.client_class, row.status) == ("group", "C2", "blocked")
    assert share(scene["advisor"], publish(library_app, "text", risk_level="R2"), chat).status_code == 200
    assert share(scene["advisor"], publish(library_app, "text"), chat).status_code == 200


def test_chats_the_advisor_cannot_see_answer_404(library_app, scene):
    material = publish(library_app, "text")
    for target in ["contact:wmNoSuchContact0000000000", "group:wrNoSuchGroup000000000", "contact:../../etc",
                   "chat:abc", "", "contact:"]:
        assert share(scene["advisor"], material, target).status_code == 404, target


def test_someone_elses_client_and_group_answer_404(library_app, scene, world):
    theirs = next(f["external_userid"] for f in world["follows"]
                  if f["userid"] != ADVISOR and f["external_userid"] not in {c[0] for c in contacts_of(world, ADVISOR)})
    other_group = next(g for g in world["groups"] if g["owner"] != ADVISOR
                       and ADVISOR not in {m["userid"] for m in g["members"]})
    material = publish(library_app, "text")
    assert share(scene["advisor"], material, f"contact:{theirs}").status_code == 404
    assert share(scene["advisor"], material, f"group:{other_group['chat_id']}").status_code == 404


def test_materials_not_in_the_library_answer_404_and_withdrawn_or_expired_ones_are_blocked(library_app, scene):
    editor = signed_in(library_app, "zhaomin")
    draft = editor.post("/console/materials", data={"csrf_token": editor.csrf, "kind": "text", "title": "草稿",
                                                    "category": "服务话术", "body": "x"},
                        content_type="multipart/form-data")
    draft_id = int(draft.location.rsplit("/", 1)[1])
    target = to_contact(scene, "c5")
    assert share(scene["advisor"], draft_id, target).status_code == 404
    assert share(scene["advisor"], 999999, target).status_code == 404
    expired = publish(library_app, "text", valid_until=date(2020, 1, 1))
    assert "过期" in share(scene["advisor"], expired, target).get_json()["blocked"]
    withdrawn = publish(library_app, "text")
    compliance = signed_in(library_app, "sunli")
    compliance.post(f"/console/materials/{withdrawn}/withdraw", data={"csrf_token": compliance.csrf})
    answer = share(scene["advisor"], withdrawn, target)
    assert answer.status_code == 403 and "已下架" in answer.get_json()["blocked"]


def test_a_share_without_the_csrf_token_is_refused(library_app, scene):
    material = publish(library_app, "text")
    response = scene["advisor"].post(f"/sidebar/materials/{material}/shares", data={"target": to_contact(scene, "c5")})
    assert response.status_code == 400
    with library_app.app_context():
        assert db.session.scalar(db.select(db.func.count(Share.id))) == 0


def test_images_files_and_videos_go_as_media_uploaded_once_and_reused(library_app, scene, emulator):
    target = to_contact(scene, "c5")
    for kind in ("image", "file", "video"):
        material = publish(library_app, kind)
        first = share(scene["advisor"], material, target).get_json()["message"]
        second = share(scene["advisor"], material, target).get_json()["message"]
        assert first["msgtype"] == kind and set(first) == {"msgtype", kind}
        assert first == second, "the cached media_id is re-used"
        media = requests.get(f"{emulator.url}/media/{first[kind]['mediaid']}", timeout=5)
        assert media.status_code == 200, "WeCom knows the media_id"
    assert wecom_calls(emulator, "/cgi-bin/media/upload") == 3


def test_product_media_is_followed_by_its_disclaimer(library_app, scene):
    body = share(scene["advisor"], publish(library_app, "image", risk_level="R3"), to_contact(scene, "c5")).get_json()
    assert body["follow_up"] == {"msgtype": "text", "text": {"content": "投资有风险，入市需谨慎"}}


def test_a_media_id_near_its_three_day_end_is_uploaded_again(library_app, emulator):
    from sidebar.extensions import wecom
    from sidebar.materials.media import media_id_for
    from sidebar.materials.storage import storage
    from sidebar.models import MaterialVersion

    material = publish(library_app, "image")
    with library_app.app_context():
        version = db.session.scalar(db.select(MaterialVersion).where(MaterialVersion.material_id == material))
        start = utcnow()
        first = media_id_for(wecom(), storage(), version.file, "image", "p.png", now=start)
        assert media_id_for(wecom(), storage(), version.file, "image", "p.png", now=start + timedelta(days=2)) == first
        assert wecom_calls(emulator, "/cgi-bin/media/upload") == 1, "two days on, the media_id is re-used"
        requests.post(f"{emulator.url}/_admin/clock", json={"advance": 3 * 86400 - 3600}, timeout=5)
        later = start + timedelta(days=3) - timedelta(hours=1)
        renewed = media_id_for(wecom(), storage(), version.file, "image", "p.png", now=later)
    assert renewed != first, "an hour before its end, the file is uploaded again"
    requests.post(f"{emulator.url}/_admin/clock", json={"advance": 3600}, timeout=5)
    assert requests.get(f"{emulator.url}/media/{first}", timeout=5).status_code == 404, "the old one has died"
    assert requests.get(f"{emulator.url}/media/{renewed}", timeout=5).status_code == 200


def test_an_article_goes_as_a_news_card_with_our_tracked_link_and_cover(tmp_path, emulator, world):
    from helpers import make_app

    app = make_app(tmp_path / "s.db", emulator.url, SIDEBAR_UPLOAD_DIR=str(tmp_path / "up"),
                   SIDEBAR_PUBLIC_URL="https://sidebar.example.com")
    material = publish(app, "link", title="四季度策略", summary="估值修复", url="https://research.example.com/q4",
                       risk_level="R3")
    external_userid, unionid, _ = contacts_of(world, ADVISOR)[0]
    import_classes(app, {unionid: ("C4", 100, [])})
    advisor = signed_in(app, ADVISOR)
    advisor.get(f"/sidebar/contacts/{external_userid}")
    news = share(advisor, material, f"contact:{external_userid}").get_json()["message"]["news"]
    token = re.fullmatch(r"https://sidebar\.example\.com/r/([A-Za-z0-9_-]+)", news["link"]).group(1)
    assert news["imgUrl"] == f"https://sidebar.example.com/r/{token}/cover"
    assert news["title"] == "四季度策略"
    assert news["desc"] == "估值修复 投资有风险，入市需谨慎"
    cover = app.test_client().get(f"/r/{token}/cover")
    assert cover.status_code == 200 and cover.headers["Content-Type"] == "image/png"


def test_a_mini_program_card_carries_appid_page_and_cover(library_app, scene):
    material = publish(library_app, "miniprogram", title="开户小程序", appid="wx3f6b2c1d0e9a8b7c",
                       page="pages/open/index.html")
    card = share(scene["advisor"], material, to_contact(scene, "nobody")).get_json()["message"]["miniprogram"]
    assert card["appid"] == "wx3f6b2c1d0e9a8b7c" and card["page"] == "pages/open/index.html"
    assert card["title"] == "开户小程序" and card["imgUrl"].startswith("http://localhost/r/")


def test_results_are_reported_only_by_the_advisor_who_shared(library_app, scene):
    body = share(scene["advisor"], publish(library_app, "text"), to_contact(scene, "c5")).get_json()
    colleague = signed_in(library_app, "lina")
    assert colleague.post(body["report_url"], data={"result": "sent"},
                          headers={"X-CSRFToken": colleague.csrf}).status_code == 404
    bad = scene["advisor"].post(body["report_url"], data={"result": "deleted"},
                                headers={"X-CSRFToken": scene["advisor"].csrf})
    assert bad.status_code == 400
    assert share_row(library_app, body["share_id"]).status == "prepared"


def test_the_audit_trail_has_no_edit_or_delete_path(library_app, scene):
    body = share(scene["advisor"], publish(library_app, "text"), to_contact(scene, "c5")).get_json()
    for method in ("put", "patch", "delete"):
        response = getattr(scene["advisor"], method)(body["report_url"], headers={"X-CSRFToken": scene["advisor"].csrf})
        assert response.status_code == 405
    share_rules = [r for r in library_app.url_map.iter_rules() if "share" in r.rule]
    assert all(r.methods <= {"GET", "POST", "HEAD", "OPTIONS"} for r in share_rules)
    row = share_row(library_app, body["share_id"])
    assert row.advisor == ADVISOR and row.version_id and isinstance(row.created_at, datetime)


def test_a_blocker_without_any_name_is_still_named_safely(library_app, scene):
    chat = f"group:{scene['group']['chat_id']}"
    share(scene["advisor"], publish(library_app, "text"), chat)  # the group is now stored locally
    with library_app.app_context():
        from sidebar.models import GroupMember
        member = db.session.scalar(db.select(GroupMember).where(
            GroupMember.chat_id == scene["group"]["chat_id"], GroupMember.member_id == scene["group_c2"]["userid"]))
        member.name = member.group_nickname = None
        db.session.commit()
    answer = share(scene["advisor"], publish(library_app, "text", risk_level="R3"), chat)
    assert answer.status_code == 403
    assert "未知成员（C2）" in answer.get_json()["blocked"]
