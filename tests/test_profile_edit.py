"""Editing a client in the sidebar: remark, description and the firm's tags written to WeCom (visible in
the emulator's data) and stored at once; the edit_external_contact callback that follows changes nothing;
the 客户画像 group stays the import's; only the advisor who follows the contact may edit."""
import re

import pytest
import requests
from sqlalchemy import func, select

from helpers import eventually, signed_in, wecom_calls
from sidebar.extensions import db, wecom
from sidebar.models import CallbackInbox, Follow
from sidebar.sync import events
from sidebar.sync.tags import refresh_corp_tags

ADVISOR = "zhangwei"
WRITES = ("/cgi-bin/externalcontact/remark", "/cgi-bin/externalcontact/mark_tag")


@pytest.fixture
def edit(live_app, own_emulator):
    """(advisor's signed-in client, the relation in WeCom's world, a corp tag it lacks, one it carries)."""
    world = own_emulator.emulator.world
    relation = next(f for (userid, _), f in world.follows.items() if userid == ADVISOR and f.tag_ids)
    carried = world.tag(relation.tag_ids[0])[1]
    missing = next(t for g in world.tag_groups.values() for t in g.tags if t.id not in relation.tag_ids)
    advisor = signed_in(live_app.flask_app, ADVISOR)
    assert advisor.get(f"/sidebar/contacts/{relation.external_userid}").status_code == 200  # stored locally
    with live_app.flask_app.app_context():
        refresh_corp_tags(wecom())
    return advisor, relation, missing, carried


def post_profile(client, external_userid, **fields):
    """POST the panel's edit form as htmx does."""
    return client.post(f"/sidebar/contacts/{external_userid}/profile", data=fields,
                       headers={"X-CSRFToken": client.csrf, "HX-Request": "true"})


def local_follow(app, external_userid, userid=ADVISOR):
    """(remark, description, {tag_id: tag_name} of its corp tags) of the stored follow."""
    with app.app_context():
        follow = db.session.scalar(select(Follow).filter_by(userid=userid, external_userid=external_userid))
        return follow.remark, follow.description, {t["tag_id"]: t["tag_name"] for t in follow.tags if t["type"] == 1}


def writes(emulator):
    """How many remark and mark_tag calls WeCom received."""
    return sum(wecom_calls(emulator, path) for path in WRITES)


def test_the_edit_reaches_wecom_and_the_panel_at_once_and_its_callback_changes_nothing(live_app, own_emulator, edit):
    advisor, relation, missing, carried = edit
    app, external_userid = live_app.flask_app, relation.external_userid
    form = advisor.get(f"/sidebar/contacts/{external_userid}/profile", headers={"HX-Request": "true"})
    assert f'name="add_tag" value="{missing.id}"' in form.get_data(as_text=True)
    assert f'name="remove_tag" value="{carried.id}"' in form.get_data(as_text=True)

    answer = post_profile(advisor, external_userid, remark="王总-已约周五", description="想了解两融",
                          add_tag=missing.id, remove_tag=carried.id)
    assert answer.status_code == 200 and answer.headers["HX-Retarget"] == "#panel"
    html = answer.get_data(as_text=True)
    assert "王总-已约周五" in html and "想了解两融" in html and f">{missing.name}<" in html
    assert f">{carried.name}<" not in html

    # in WeCom's data
    assert (relation.remark, relation.description) == ("王总-已约周五", "想了解两融")
    assert missing.id in relation.tag_ids and carried.id not in relation.tag_ids
    expected = ("王总-已约周五", "想了解两融", {t: own_emulator.emulator.world.tag(t)[1].name for t in relation.tag_ids})
    assert local_follow(app, external_userid) == expected

    # and in the simulated client, as WeCom has it now
    page = requests.get(f"{own_emulator.url}/client", params={"userid": ADVISOR, "chat": f"contact:{external_userid}"},
                        timeout=5).text
    record = re.search(r'<dl class="world-record".*?</dl>', page, re.S).group(0)
    assert '<dd data-field="remark">王总-已约周五</dd>' in record and missing.name in record
    assert carried.name not in record

    # the remark's edit_external_contact callback is processed, and again: the same state
    assert eventually(lambda: _done_callbacks(app) >= 1, timeout=10)
    assert local_follow(app, external_userid) == expected
    with app.app_context():
        events.handle(wecom(), {"Event": "change_external_contact", "ChangeType": "edit_external_contact",
                                "UserID": ADVISOR, "ExternalUserID": external_userid})
        db.session.commit()
        db.session.commit()
    assert local_follow(app, external_userid) == expected


def _done_callbacks(app):
    """Callbacks the worker has processed."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(CallbackInbox).where(CallbackInbox.status == "done"))


def test_an_unchanged_form_makes_no_call(live_app, own_emulator, edit):
    advisor, relation, _, _ = edit
    before = writes(own_emulator)
    answer = post_profile(advisor, relation.external_userid, remark=relation.remark, description=relation.description)
    assert answer.status_code == 200
    assert writes(own_emulator) == before


def test_a_profile_tag_is_never_the_advisors_to_change(live_app, own_emulator, edit):
    advisor, relation, _, _ = edit
    app = live_app.flask_app
    with app.app_context():
        group = wecom().add_corp_tags(["高净值"], group_name="客户画像")
        refresh_corp_tags(wecom())
    profile_tag = group["tag"][0]["id"]
    form = advisor.get(f"/sidebar/contacts/{relation.external_userid}/profile").get_data(as_text=True)
    assert "客户画像" not in form and profile_tag not in form
    before, stored = writes(own_emulator), local_follow(app, relation.external_userid)
    for fields in ({"add_tag": profile_tag, "remark": "改了"}, {"add_tag": "etNOSUCHTAG"}):
        answer = post_profile(advisor, relation.external_userid, **fields)
        assert answer.status_code == 422
        assert "只能修改本公司标签分组中的标签" in answer.get_data(as_text=True)
    assert writes(own_emulator) == before
    assert local_follow(app, relation.external_userid) == stored and relation.remark != "改了"


def test_a_remark_longer_than_wecom_takes_is_refused(live_app, own_emulator, edit):
    advisor, relation, _, _ = edit
    before = writes(own_emulator)
    answer = post_profile(advisor, relation.external_userid, remark="长" * 21)
    assert answer.status_code == 422 and "备注名最多 20 字" in answer.get_data(as_text=True)
    assert writes(own_emulator) == before


def test_only_the_advisor_who_follows_may_edit(live_app, own_emulator, edit):
    _, relation, missing, _ = edit
    app = live_app.flask_app
    stored, before = local_follow(app, relation.external_userid), writes(own_emulator)
    other = signed_in(app, "lina")
    assert post_profile(other, relation.external_userid, remark="别人改的", add_tag=missing.id).status_code == 404
    assert other.get(f"/sidebar/contacts/{relation.external_userid}/profile").status_code == 404
    assert writes(own_emulator) == before and local_follow(app, relation.external_userid) == stored


def test_a_wecom_outage_saves_nothing_and_says_so(live_app, own_emulator, edit):
    advisor, relation, missing, _ = edit
    app = live_app.flask_app
    stored = local_follow(app, relation.external_userid)
    requests.post(f"{own_emulator.url}/_admin/faults", json={"down": True}, timeout=5).raise_for_status()
    try:
        answer = post_profile(advisor, relation.external_userid, remark="断网时改的", add_tag=missing.id)
    finally:
        requests.post(f"{own_emulator.url}/_admin/faults", json={"down": False}, timeout=5)
    assert answer.status_code == 503 and "没有保存" in answer.get_data(as_text=True)
    assert local_follow(app, relation.external_userid) == stored


def test_before_the_first_sync_the_form_fills_the_tag_mirror_from_wecom_once(live_app, own_emulator, edit):
    from sidebar.models import CorpTag

    advisor, relation, missing, _ = edit
    app = live_app.flask_app
    with app.app_context():
        db.session.execute(CorpTag.__table__.delete())
        db.session.commit()
    before = wecom_calls(own_emulator, "/cgi-bin/externalcontact/get_corp_tag_list")
    for _ in range(2):
        form = advisor.get(f"/sidebar/contacts/{relation.external_userid}/profile").get_data(as_text=True)
        assert f'value="{missing.id}"' in form and missing.name in form
    assert wecom_calls(own_emulator, "/cgi-bin/externalcontact/get_corp_tag_list") == before + 1
