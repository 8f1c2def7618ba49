"""A block leads somewhere (issue 16 item 5): the true reason, suitable alternatives, one-to-one from a group,
and the qualified group (合格投资者群) from compliance's mark to the join that lifts it."""
import re

import pytest
from sqlalchemy import select

from helpers import change_world, eventually, import_classes, publish, signed_in
from sidebar.emulator.state import EXTENSION
from sidebar.extensions import db
from sidebar.identity.service import grant_role
from sidebar.models import QualifiedGroup, Share
from test_materials_sharing import ADVISOR, scene, share, share_row, to_contact, unionid_of  # noqa: F401


def test_each_block_gives_its_true_reason(library_app, scene):  # noqa: F811
    product = publish(library_app, "text", risk_level="R3", body="成长精选")
    reasons = {who: share(scene["advisor"], product, to_contact(scene, who)).get_json()["blocked"]
               for who in ("c2", "expired", "nobody")}
    assert reasons["c2"].startswith("适当性不匹配：客户风险等级 C2")
    assert "过期" in reasons["expired"] and "重新测评" in reasons["expired"]
    assert "适当性不匹配" not in reasons["expired"], "an expired assessment is not a level mismatch"
    assert re.search(r"\d{4}-\d{2}-\d{2} 过期", reasons["expired"])
    assert "未匹配资金账户" in reasons["nobody"] and "过期" not in reasons["nobody"]


def test_a_blocked_material_offers_suitable_ones_of_its_category(library_app, scene):  # noqa: F811
    blocked = publish(library_app, "text", title="科创进取海报", category="基金产品", risk_level="R4")
    fitting = publish(library_app, "text", title="稳健增利说明", category="基金产品", risk_level="R2")
    general = publish(library_app, "text", title="基金定投入门", category="基金产品")
    too_high = publish(library_app, "text", title="量化对冲介绍", category="基金产品", risk_level="R3")
    elsewhere = publish(library_app, "text", title="债市观点", category="市场观点", risk_level="R1")
    answer = share(scene["advisor"], blocked, to_contact(scene, "c2"))
    assert answer.status_code == 403
    offered = [alt["material_id"] for alt in answer.get_json()["alternatives"]]
    assert offered == [fitting, general], "the nearest level the client may have first, then general material"
    assert too_high not in offered and elsewhere not in offered
    page = scene["advisor"].get(f"/sidebar/materials?chat={to_contact(scene, 'c2')}&q=科创进取").get_data(as_text=True)
    assert "同类可发" in page and "稳健增利说明" in page
    assert share(scene["advisor"], fitting, to_contact(scene, "c2")).status_code == 200


def test_from_a_group_a_blocked_product_goes_one_to_one_to_the_qualifying_clients_followed(library_app, world):
    follows = {f["external_userid"] for f in world["follows"] if f["userid"] == ADVISOR}
    group, followed = next((g, [m["userid"] for m in g["members"] if m["type"] == 2 and m["userid"] in follows
                                and unionid_of(world, m["userid"])])
                           for g in world["groups"] if ADVISOR in {m["userid"] for m in g["members"]}
                           and sum(m["type"] == 2 and m["userid"] in follows and bool(unionid_of(world, m["userid"]))
                                   for m in g["members"]) >= 2)
    strangers = [m["userid"] for m in group["members"] if m["type"] == 2 and m["userid"] not in follows
                 and unionid_of(world, m["userid"])]
    high, low = followed[0], followed[1]
    classes = {unionid_of(world, high): ("C5", 300, []), unionid_of(world, low): ("C2", 300, [])}
    classes.update({unionid_of(world, s): ("C5", 300, []) for s in strangers[:1]})
    import_classes(library_app, classes)
    advisor = signed_in(library_app, ADVISOR)
    assert advisor.get(f"/sidebar/groups/{group['chat_id']}").status_code == 200
    product = publish(library_app, "link", title="科创进取说明", risk_level="R4")
    target = f"group:{group['chat_id']}"
    assert share(advisor, product, target).status_code == 403
    answer = advisor.post(f"/sidebar/materials/{product}/direct-shares", data={"target": target},
                          headers={"X-CSRFToken": advisor.csrf})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["payload"]["externalUserIds"] == [high], "only the followed client who qualifies"
    assert body["skipped"] == 1 + len(strangers[:1]), "the C2 client and the C5 one this advisor does not follow"
    link = body["payload"]["attachments"][0]
    assert link["msgtype"] == "link" and link["link"]["title"] == "科创进取说明" and "/r/" in link["link"]["url"]
    row = share_row(library_app, body["shares"][0]["share_id"])
    assert (row.target_type, row.target_id, row.client_class, row.status) == ("contact", high, "C5", "prepared")
    assert row.checks["via_group"] == group["chat_id"]
    report = advisor.post(body["shares"][0]["report_url"], data={"result": "sent"}, headers={"X-CSRFToken": advisor.csrf})
    assert report.get_json()["status"] == "sent"
    stranger = signed_in(library_app, "sunli")  # not in the group
    assert stranger.post(f"/sidebar/materials/{product}/direct-shares", data={"target": target},
                         headers={"X-CSRFToken": stranger.csrf}).status_code == 404


def mark(client, chat_id, level):
    """Compliance marks a group at level in the console."""
    return client.post(f"/console/groups/{chat_id}/qualification", data={"level": level, "csrf_token": client.csrf})


def live_mark(app, chat_id):
    """The group's marks, newest first, as (level, lifted_by, lift_reason, lifted)."""
    with app.app_context():
        return [(r.level, r.lifted_by, r.lift_reason, r.lifted_at is not None) for r in db.session.scalars(
            select(QualifiedGroup).where(QualifiedGroup.chat_id == chat_id).order_by(QualifiedGroup.id.desc()))]


def test_the_qualified_group_lifecycle(live_app, own_emulator):
    app, world = live_app.flask_app, own_emulator.emulator.world
    owner = next(s for s in world.staff if len([e for e in world.contacts_of(s) if world.external(e).unionid]) >= 4)
    people = [e for e in world.contacts_of(owner) if world.external(e).unionid][:4]
    first, second, third, newcomer = people
    unionid = {e: world.external(e).unionid for e in people}

    def classes(third_days):
        return {unionid[first]: ("C4", 300, []), unionid[second]: ("C5", 300, []), unionid[third]: ("C4", third_days, []),
                unionid[newcomer]: ("C5", 300, [])}
    import_classes(app, classes(300))
    chat_id = change_world(own_emulator, "create_group", owner=owner, name="私募合格投资者群",
                           members=[first, second, third])["result"]["chat_id"]
    advisor = signed_in(app, owner)
    assert eventually(lambda: advisor.get(f"/sidebar/groups/{chat_id}").status_code == 200)
    with app.app_context():
        grant_role("sunli", "compliance")
        db.session.commit()
    compliance = signed_in(app, "sunli")

    refused = mark(compliance, chat_id, "C5")
    assert refused.status_code == 400 and "有 2 位成员不满足 C5" in refused.get_data(as_text=True)
    assert live_mark(app, chat_id) == []
    assert mark(compliance, chat_id, "C4").status_code == 303
    assert live_mark(app, chat_id) == [("C4", None, None, False)]

    # A member's assessment runs out: the mark compliance set still lets R4 in, R5 stays out.
    import_classes(app, classes(-3))
    r4, r5 = publish(app, "text", risk_level="R4"), publish(app, "text", risk_level="R5")
    passed = share(advisor, r4, f"group:{chat_id}")
    assert passed.status_code == 200
    assert share_row(app, passed.get_json()["share_id"]).checks["qualified"] == "C4"
    assert share(advisor, r5, f"group:{chat_id}").status_code == 403
    assert "合格投资者群 · C4" in advisor.get(f"/sidebar/materials?chat=group:{chat_id}").get_data(as_text=True)

    # A client with a matching class joins: the mark holds.
    change_world(own_emulator, "join_group", chat_id=chat_id, userid=newcomer)
    assert eventually(lambda: newcomer in checked_members(app, chat_id))
    assert live_mark(app, chat_id)[0][3] is False

    # Someone without an account joins: the mark is lifted at once, by the system, with the reason.
    change_world(own_emulator, "join_group", chat_id=chat_id, name="新朋友")
    assert eventually(lambda: live_mark(app, chat_id)[0][3])
    level, lifted_by, reason, _ = live_mark(app, chat_id)[0]
    assert (level, lifted_by) == ("C4", None) and "未匹配资金账户" in reason
    blocked = share(advisor, r4, f"group:{chat_id}")
    assert blocked.status_code == 403 and "测评已过期" in blocked.get_json()["blocked"]
    overview = compliance.get("/console/groups/qualified").get_data(as_text=True)
    assert "已取消（请重新核对）" in overview and "未匹配资金账户" in overview
    assert compliance.get(f"/console/groups/{chat_id}/qualification").status_code == 200
    assert advisor.get(f"/console/groups/{chat_id}/qualification").status_code == 403, "compliance only"


def checked_members(app, chat_id):
    """The member ids the live mark has checked (those who joined with a matching class included)."""
    with app.app_context():
        row = db.session.scalar(select(QualifiedGroup).where(QualifiedGroup.chat_id == chat_id,
                                                             QualifiedGroup.lifted_at.is_(None)))
        return row.members if row else []


@pytest.mark.timeout(180)
def test_the_demo_has_a_qualified_group_marked_once_however_often_it_starts(tmp_path):
    from test_demo_restart import start_demo

    for _ in range(2):
        server = start_demo(tmp_path / "instance.db")
        group = next(g for g in server.emulator.world.groups.values() if g.name == "私募合格投资者群")
        server.stop()
        assert [row[:2] for row in live_mark(server.flask_app, group.chat_id)] == [("C4", None)]
        assert live_mark(server.flask_app, group.chat_id)[0][3] is False


def test_a_file_reaches_the_chat_named_after_its_title_not_its_upload_name(library_app, scene, emulator):  # noqa: F811
    material = publish(library_app, "file", title="新能源行业深度研究/2026")  # uploaded as note.pdf
    answer = share(scene["advisor"], material, to_contact(scene, "nobody"))
    media_id = answer.get_json()["message"]["file"]["mediaid"]
    state = emulator.emulator.extensions[EXTENSION]  # what WeCom keeps of the upload
    media = state.media.get(media_id, state.now())
    assert media.filename == "新能源行业深度研究2026.pdf"
