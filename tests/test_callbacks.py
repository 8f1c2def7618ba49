"""WeCom callbacks: the crypto (official vector, round trips), refusals, and every event type sent by
the emulator as an encrypted callback and seen in the sidebar; duplicates, reordering, a crash
between store and process, and a lost callback repaired by the full sync."""
import base64
import os
import struct
import time

import pytest
import requests
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy import func, select

from helpers import change_world, eventually, login, make_app, run_worker, wecom_calls
from sidebar.emulator.callbacks import wecom_encrypt
from sidebar.extensions import db
from sidebar.models import CallbackInbox, CorpTag, Follow, GroupMember
from sidebar.sync import inbox
from sidebar.sync.callback import CallbackCrypto, Malformed, echo

# wecom.md §3: the official WXBizMsgCrypt sample
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
CORP_ID = "ww1436e0e65a779aee"
VERIFY = {"msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", "timestamp": "1476416373",
          "nonce": "47744683",
          "echostr": "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="}
EVENT = ("<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
         "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>"
         "<Event><![CDATA[change_external_tag]]></Event><Id><![CDATA[etX]]></Id>"
         "<TagType><![CDATA[tag]]></TagType><ChangeType><![CDATA[create]]></ChangeType></xml>")
BOMB = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]><xml><Event>&lol3;</Event></xml>')


@pytest.fixture
def vector_app(tmp_path, emulator):
    """An app configured with the official sample's Token, key and corp id."""
    return make_app(tmp_path / "sidebar.db", emulator.url, WECOM_TOKEN=TOKEN, WECOM_AES_KEY=AES_KEY,
                    WECOM_CORP_ID=CORP_ID)


def stored_rows(app):
    """Rows in the callback inbox."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(CallbackInbox))


def post_event(client, crypto, xml, timestamp=None, nonce="12345"):
    """POST an event as WeCom does (signed now unless a timestamp is given)."""
    params, body = crypto.envelope(xml, timestamp or int(time.time()), nonce)
    return client.post("/wecom/callback", query_string=params, data=body, content_type="text/xml")


# -- crypto ----------------------------------------------------------------------------------------

def verification(crypto, plaintext, timestamp):
    """The query of a URL-verification GET carrying plaintext, signed at timestamp."""
    echostr = crypto.encrypt(plaintext)
    return {"msg_signature": crypto.signature(timestamp, "47744683", echostr), "timestamp": str(timestamp),
            "nonce": "47744683", "echostr": echostr}


def test_the_official_verification_vector_echoes_its_plaintext():
    crypto = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)
    assert echo(crypto, VERIFY, now=int(VERIFY["timestamp"]) + 1) == b"1288432023552776189"


def test_url_verification_answers_the_bare_plaintext(vector_app):
    query = verification(CallbackCrypto(TOKEN, AES_KEY, CORP_ID), "1288432023552776189", int(time.time()))
    response = vector_app.test_client().get("/wecom/callback", query_string=query)
    assert response.status_code == 200
    assert response.get_data() == b"1288432023552776189"  # the bare plaintext: no quotes, no newline


@pytest.mark.parametrize("field,value", [("msg_signature", "0" * 40), ("timestamp", "+1"), ("nonce", "47744684")])
def test_url_verification_with_a_changed_field_is_refused(vector_app, field, value):
    query = verification(CallbackCrypto(TOKEN, AES_KEY, CORP_ID), "1288432023552776189", int(time.time()))
    if field == "timestamp":
        value = str(int(query["timestamp"]) + 1)
    response = vector_app.test_client().get("/wecom/callback", query_string={**query, field: value})
    assert response.status_code == 403
    assert b"1288432023552776189" not in response.get_data()


@pytest.mark.parametrize("age", [-10 * 365 * 86400, -301, 301])
def test_a_correctly_signed_callback_far_from_now_is_a_replay_and_refused(vector_app, age):
    crypto = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)
    client = vector_app.test_client()
    assert post_event(client, crypto, EVENT, timestamp=int(time.time()) + age).status_code == 403
    assert stored_rows(vector_app) == 0
    stale = client.get("/wecom/callback", query_string=VERIFY)  # the official vector, signed in 2016
    assert stale.status_code == 403 and b"1288432023552776189" not in stale.get_data()
    verify = verification(crypto, "42", int(time.time()) + age)
    assert client.get("/wecom/callback", query_string=verify).status_code == 403


def test_a_callback_a_little_early_or_late_is_accepted(vector_app):
    crypto, client = CallbackCrypto(TOKEN, AES_KEY, CORP_ID), vector_app.test_client()
    assert post_event(client, crypto, EVENT, timestamp=int(time.time()) - 290).status_code == 200
    assert post_event(client, crypto, EVENT.replace("etX", "etY"), timestamp=int(time.time()) + 290).status_code == 200
    assert stored_rows(vector_app) == 2


def test_the_official_vector_decrypts_and_names_the_sample_corp():
    crypto = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)
    assert crypto.signature(VERIFY["timestamp"], VERIFY["nonce"], VERIFY["echostr"]) == VERIFY["msg_signature"]
    assert crypto.decrypt(VERIFY["echostr"]) == b"1288432023552776189"


@pytest.mark.parametrize("length", [0, 1, 11, 12, 31, 32, 100, 1000])
def test_round_trips_pad_to_32_byte_blocks(length):
    crypto = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)
    message = ("事" * length)[:length]
    encrypted = crypto.encrypt(message)
    assert len(base64.b64decode(encrypted)) % 32 == 0
    assert crypto.decrypt(encrypted) == message.encode()
    # the emulator's encryptor is written separately: both sides must agree
    assert crypto.decrypt(wecom_encrypt(AES_KEY, CORP_ID, message)) == message.encode()


def test_padding_is_checked_byte_by_byte():
    key = base64.b64decode(AES_KEY + "=")
    body = b"x" * 8
    plain = os.urandom(16) + struct.pack(">I", len(body)) + body + CORP_ID.encode()
    plain += bytes([3]) * 2 + bytes([5])  # claims 5 pad bytes, but they differ
    plain += b"\x00" * (-len(plain) % 16)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    encrypted = base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
    with pytest.raises(Malformed):
        CallbackCrypto(TOKEN, AES_KEY, CORP_ID).decrypt(encrypted)


# -- the callback URL: what is refused stores nothing ---------------------------------------------

def test_a_signed_event_is_stored_answered_empty_and_processed(vector_app, emulator):
    run_worker(vector_app)
    response = post_event(vector_app.test_client(), CallbackCrypto(TOKEN, AES_KEY, CORP_ID), EVENT)
    assert response.status_code == 200
    assert response.get_data() == b""

    def stored():
        with vector_app.app_context():
            return db.session.scalar(select(CallbackInbox))
    row = stored()
    assert (row.event, row.change_type, row.target) == ("change_external_tag", "create", "etX")
    # the worker ran it: the tag list was asked for (the sample corp id is not the emulator's, so
    # WeCom refuses the token: the row is kept as failed for the drain, and retried later)
    assert eventually(lambda: stored().status == "failed")
    assert stored().attempts == 1


def test_a_repeat_is_answered_alike_and_stored_once(vector_app):
    client = vector_app.test_client()
    crypto = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)
    first = post_event(client, crypto, EVENT, nonce="1")
    again = post_event(client, crypto, EVENT, nonce="2")  # a new encryption of the same event
    assert first.status_code == again.status_code == 200
    assert again.get_data() == b""
    assert stored_rows(vector_app) == 1


def refusals():
    """(name, params, body) of deliveries that must be refused, signed now (each refused for its own fault)."""
    now = int(time.time())
    ours = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)
    other_corp = CallbackCrypto(TOKEN, AES_KEY, "wwsomeoneelse00001")
    other_token = CallbackCrypto("anotherToken", AES_KEY, CORP_ID)
    params, body = ours.envelope(EVENT, now, 1)
    bomb_params, bomb_body = ours.envelope(BOMB, now, 1)
    encrypted = ours.encrypt(EVENT)
    garbage = "A" * 40
    return [
        ("bad signature", {**params, "msg_signature": "f" * 40}, body),
        ("signed with another token", *other_token.envelope(EVENT, now, 1)),
        ("another corp's event", *other_corp.envelope(EVENT, now, 1)),
        ("not XML", params, "this is not xml"),
        ("entity bomb around the ciphertext",
         {**params, "msg_signature": ours.signature(now, 1, "x")},
         '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "x">]><xml><Encrypt>&a;</Encrypt></xml>'),
        ("entity bomb inside the ciphertext", bomb_params, bomb_body),
        ("no Encrypt element", params, "<xml><ToUserName>x</ToUserName></xml>"),
        ("not AES blocks", {**params, "msg_signature": ours.signature(now, 1, garbage)},
         f"<xml><Encrypt><![CDATA[{garbage}]]></Encrypt></xml>"),
        ("truncated ciphertext", {**params, "msg_signature": ours.signature(now, 1, encrypted[:-24] + "==")},
         f"<xml><Encrypt><![CDATA[{encrypted[:-24]}==]]></Encrypt></xml>"),
    ]


@pytest.mark.parametrize("name", [r[0] for r in refusals()])
def test_refused_deliveries_get_a_4xx_and_store_nothing(vector_app, name):
    _, params, body = next(r for r in refusals() if r[0] == name)  # signed when the test runs
    response = vector_app.test_client().post("/wecom/callback", query_string=params, data=body,
                                             content_type="text/xml")
    assert 400 <= response.status_code < 500, (name, response.status_code)
    assert stored_rows(vector_app) == 0


def test_a_huge_body_is_refused(vector_app):
    response = vector_app.test_client().post("/wecom/callback", data="<xml>" + "x" * 100_000 + "</xml>")
    assert response.status_code == 413
    assert stored_rows(vector_app) == 0


# -- every event type, from the emulator's world to the sidebar -------------------------------------

def signed_in(app, userid):
    """A test client of the live app with userid logged in."""
    client = app.test_client()
    login(client, userid)
    return client


def panel(client, kind, object_id):
    """(status, html) of the contact or group panel."""
    response = client.get(f"/sidebar/{kind}/{object_id}", headers={"HX-Request": "true"})
    return response.status_code, response.get_data(as_text=True)


def shows(client, kind, object_id, text):
    """Whether the panel answers 200 and contains text (polled: the app processes after answering)."""
    return eventually(lambda: (lambda status, html: status == 200 and text in html)(*panel(client, kind, object_id)))


def gone(client, kind, object_id):
    """Whether the panel answers 404 (polled)."""
    return eventually(lambda: panel(client, kind, object_id)[0] == 404)


def inbox_count(app, **where):
    """Inbox rows matching column values."""
    with app.app_context():
        query = select(func.count()).select_from(CallbackInbox)
        for name, value in where.items():
            query = query.where(getattr(CallbackInbox, name) == value)
        return db.session.scalar(query)


def a_relation(emulator, index=0):
    """(advisor, external_userid) of one of the world's follow relations."""
    userid, external_userid = list(emulator.emulator.world.follows)[index]
    return userid, external_userid


def test_a_client_adding_an_advisor_reaches_the_sidebar_before_the_chat_opens(live_app, own_emulator):
    userid = a_relation(own_emulator)[0]
    client = signed_in(live_app.flask_app, userid)
    answer = change_world(own_emulator, "add_follow", userid=userid, name="新客户周先生", remark="周先生-直播")
    external_userid = answer["result"]["external_userid"]
    assert [c["ChangeType"] for c in answer["callbacks"]] == ["add_external_contact"]
    assert answer["callbacks"][0]["answers"] == [200]
    assert eventually(lambda: inbox_count(live_app.flask_app, status="done") == 1)
    before = wecom_calls(own_emulator, "/cgi-bin/externalcontact/get")
    assert shows(client, "contacts", external_userid, "周先生-直播")
    assert wecom_calls(own_emulator, "/cgi-bin/externalcontact/get") == before  # opened from local data


def test_an_edited_remark_shows_on_reload(live_app, own_emulator):
    userid, external_userid = a_relation(own_emulator)
    client = signed_in(live_app.flask_app, userid)
    assert panel(client, "contacts", external_userid)[0] == 200
    change_world(own_emulator, "edit_follow", userid=userid, external_userid=external_userid,
                 remark="王总-已约周五", description="想了解两融")
    assert shows(client, "contacts", external_userid, "王总-已约周五")
    assert "想了解两融" in panel(client, "contacts", external_userid)[1]


def test_a_tag_the_advisor_adds_in_wecom_shows(live_app, own_emulator):
    userid, external_userid = a_relation(own_emulator)
    world = own_emulator.emulator.world
    relation = world.follow(userid, external_userid)
    tag = next(t for g in world.tag_groups.values() for t in g.tags if t.id not in relation.tag_ids)
    client = signed_in(live_app.flask_app, userid)
    assert tag.name not in panel(client, "contacts", external_userid)[1]
    change_world(own_emulator, "mark_tag", userid=userid, external_userid=external_userid, add=[tag.id])
    assert shows(client, "contacts", external_userid, f">{tag.name}<")


@pytest.mark.parametrize("by,change_type", [("client", "del_follow_user"), ("advisor", "del_external_contact")])
def test_a_removed_relation_takes_the_advisors_access_away(live_app, own_emulator, by, change_type):
    world = own_emulator.emulator.world
    shared = next(ext for ext in world.externals if len(world.followers_of(ext)) == 2)
    leaving, staying = [f.userid for f in world.followers_of(shared)]
    leaver, stayer = signed_in(live_app.flask_app, leaving), signed_in(live_app.flask_app, staying)
    assert panel(leaver, "contacts", shared)[0] == panel(stayer, "contacts", shared)[0] == 200
    answer = change_world(own_emulator, "remove_follow", userid=leaving, external_userid=shared, by=by)
    assert [c["ChangeType"] for c in answer["callbacks"]] == [change_type]
    assert gone(leaver, "contacts", shared)
    assert panel(stayer, "contacts", shared)[0] == 200
    with live_app.flask_app.app_context():
        ended = db.session.scalar(select(Follow).where(Follow.userid == leaving, Follow.external_userid == shared))
        assert ended.ended_at is not None  # ended, never deleted


def test_the_last_relation_removed_ends_every_follow(live_app, own_emulator):
    world = own_emulator.emulator.world
    single = next(ext for ext in world.externals if len(world.followers_of(ext)) == 1)
    userid = world.followers_of(single)[0].userid
    client = signed_in(live_app.flask_app, userid)
    assert panel(client, "contacts", single)[0] == 200
    change_world(own_emulator, "remove_follow", userid=userid, external_userid=single, by="client")
    assert gone(client, "contacts", single)


def a_group(emulator):
    """The world's first group."""
    return next(iter(emulator.emulator.world.groups.values()))


def test_a_new_group_opens_for_its_owner_from_local_data(live_app, own_emulator):
    world = own_emulator.emulator.world
    owner = a_relation(own_emulator)[0]
    members = world.contacts_of(owner)[:3]
    answer = change_world(own_emulator, "create_group", owner=owner, name="十二月新客答疑群", members=members)
    assert [c["ChangeType"] for c in answer["callbacks"]] == ["create"]
    chat_id = answer["result"]["chat_id"]
    client = signed_in(live_app.flask_app, owner)
    assert eventually(lambda: inbox_count(live_app.flask_app, status="done") == 1)
    before = wecom_calls(own_emulator, "/cgi-bin/externalcontact/groupchat/get")
    assert shows(client, "groups", chat_id, "十二月新客答疑群")
    assert "<strong>4</strong>" in panel(client, "groups", chat_id)[1]
    assert wecom_calls(own_emulator, "/cgi-bin/externalcontact/groupchat/get") == before


def test_staff_joining_and_leaving_a_group_gains_and_loses_access(live_app, own_emulator):
    group = a_group(own_emulator)
    client = signed_in(live_app.flask_app, "sunli")  # compliance: in no group
    assert panel(client, "groups", group.chat_id)[0] == 404
    answer = change_world(own_emulator, "join_group", chat_id=group.chat_id, userid="sunli", join_scene=1)
    assert [(c["ChangeType"], c["UpdateDetail"]) for c in answer["callbacks"]] == [("update", "add_member")]
    assert shows(client, "groups", group.chat_id, group.name)
    change_world(own_emulator, "leave_group", chat_id=group.chat_id, userid="sunli")
    assert gone(client, "groups", group.chat_id)
    with live_app.flask_app.app_context():
        member = db.session.scalar(select(GroupMember).where(GroupMember.chat_id == group.chat_id,
                                                             GroupMember.member_id == "sunli"))
        assert member.left_at is not None  # kept, with its leave time


def test_clients_joining_and_leaving_change_the_counts(live_app, own_emulator):
    group = a_group(own_emulator)
    externals = sum(1 for m in group.members if m.type == 2)
    client = signed_in(live_app.flask_app, group.owner)
    assert f"<strong>{externals}</strong><span>外部联系人</span>" in panel(client, "groups", group.chat_id)[1]
    change_world(own_emulator, "join_group", chat_id=group.chat_id, name="新朋友")
    assert shows(client, "groups", group.chat_id, f"<strong>{externals + 1}</strong><span>外部联系人</span>")
    leaver = next(m.userid for m in group.members if m.type == 2)
    change_world(own_emulator, "leave_group", chat_id=group.chat_id, userid=leaver)
    assert shows(client, "groups", group.chat_id, f"<strong>{externals}</strong><span>外部联系人</span>")


@pytest.mark.parametrize("action,args,detail,text", [
    ("rename_group", {"name": "ETF定投·2027"}, "change_name", "ETF定投·2027"),
    ("set_notice", {"notice": "元旦休市安排见群公告"}, "change_notice", "元旦休市安排见群公告"),
])
def test_group_name_and_notice_changes_show(live_app, own_emulator, action, args, detail, text):
    group = a_group(own_emulator)
    client = signed_in(live_app.flask_app, group.owner)
    assert text not in panel(client, "groups", group.chat_id)[1]
    answer = change_world(own_emulator, action, chat_id=group.chat_id, **args)
    assert answer["callbacks"][0]["UpdateDetail"] == detail
    assert shows(client, "groups", group.chat_id, text)


def test_a_new_owner_shows_and_a_dismissed_group_is_gone(live_app, own_emulator):
    group = a_group(own_emulator)
    heir = next(m.userid for m in group.members if m.type == 1 and m.userid != group.owner)
    world = own_emulator.emulator.world
    client = signed_in(live_app.flask_app, heir)
    assert panel(client, "groups", group.chat_id)[0] == 200
    change_world(own_emulator, "change_owner", chat_id=group.chat_id, userid=heir)
    assert shows(client, "groups", group.chat_id, f"群主 {world.staff[heir].name}")
    answer = change_world(own_emulator, "dismiss_group", chat_id=group.chat_id)
    assert [c["ChangeType"] for c in answer["callbacks"]] == ["dismiss"]
    assert gone(client, "groups", group.chat_id)


def test_corp_tag_created_renamed_and_deleted(live_app, own_emulator):
    world = own_emulator.emulator.world
    userid, external_userid = next((u, e) for (u, e), f in world.follows.items() if f.tag_ids)
    tag_id = world.follows[(userid, external_userid)].tag_ids[0]
    old_name = world.tag(tag_id)[1].name
    client = signed_in(live_app.flask_app, userid)
    assert f">{old_name}<" in panel(client, "contacts", external_userid)[1]
    created = change_world(own_emulator, "add_tag", group_name="兴趣", name="港股通")["result"]["tag_id"]

    def mirrored(tag):
        with live_app.flask_app.app_context():
            return db.session.get(CorpTag, tag)
    assert eventually(lambda: mirrored(created) is not None)
    change_world(own_emulator, "rename_tag", tag_id=tag_id, name="高潜客户")
    assert shows(client, "contacts", external_userid, ">高潜客户<")  # no contact callback needed
    change_world(own_emulator, "delete_tag", tag_id=tag_id)
    assert eventually(lambda: ">高潜客户<" not in panel(client, "contacts", external_userid)[1])
    assert mirrored(tag_id) is None


# -- WeCom's habits: duplicates, reordering, late, lost; a crash between store and process -----------

def switches(emulator, **values):
    """Flip the emulator's callback switches."""
    requests.post(f"{emulator.url}/_admin/callback/switches", json=values, timeout=5).raise_for_status()


def test_duplicate_deliveries_are_processed_once(live_app, own_emulator):
    userid, external_userid = a_relation(own_emulator)
    switches(own_emulator, duplicate=True)
    before = wecom_calls(own_emulator, "/cgi-bin/externalcontact/get")
    answer = change_world(own_emulator, "edit_follow", userid=userid, external_userid=external_userid,
                          remark="重复投递")
    requests.post(f"{own_emulator.url}/_admin/callback/wait", timeout=10)
    assert answer["callbacks"][0]["answers"] == [200, 200]  # both deliveries answered 200
    assert eventually(lambda: inbox_count(live_app.flask_app, status="done") == 1)
    assert inbox_count(live_app.flask_app) == 1
    assert wecom_calls(own_emulator, "/cgi-bin/externalcontact/get") == before + 1  # processed once


def test_two_edits_within_one_second_both_show(live_app, own_emulator):
    userid, external_userid = a_relation(own_emulator)
    client = signed_in(live_app.flask_app, userid)
    for remark in ("先改的备注", "紧接着又改"):  # identical callbacks: the second is a duplicate ...
        change_world(own_emulator, "edit_follow", userid=userid, external_userid=external_userid, remark=remark)
    assert shows(client, "contacts", external_userid, "紧接着又改")  # ... yet the fetch saw both


def test_reordered_edits_converge_on_the_latest(live_app, own_emulator):
    userid, external_userid = a_relation(own_emulator)
    client = signed_in(live_app.flask_app, userid)
    switches(own_emulator, hold=True)
    for remark in ("第一次备注", "第二次备注", "最后的备注"):
        change_world(own_emulator, "edit_follow", userid=userid, external_userid=external_userid, remark=remark)
        # a second apart: within one second WeCom's callbacks are identical, so one would be a duplicate
        requests.post(f"{own_emulator.url}/_admin/clock", json={"advance": 1}, timeout=5)
    switches(own_emulator, hold=False)
    released = requests.post(f"{own_emulator.url}/_admin/callback/release", json={"order": "reverse"}, timeout=10)
    assert released.json()["released"] == 3
    assert eventually(lambda: inbox_count(live_app.flask_app, status="done") == 3)
    assert shows(client, "contacts", external_userid, "最后的备注")


def test_a_late_delete_after_a_re_add_leaves_the_relation_active(live_app, own_emulator):
    world = own_emulator.emulator.world
    userid, external_userid = a_relation(own_emulator)
    client = signed_in(live_app.flask_app, userid)
    assert panel(client, "contacts", external_userid)[0] == 200
    switches(own_emulator, hold=True)
    change_world(own_emulator, "remove_follow", userid=userid, external_userid=external_userid, by="client")
    change_world(own_emulator, "add_follow", userid=userid, external_userid=external_userid, remark="又加回来了")
    switches(own_emulator, hold=False)
    requests.post(f"{own_emulator.url}/_admin/callback/release", json={"order": "reverse"}, timeout=10)
    assert eventually(lambda: inbox_count(live_app.flask_app, status="done") == 2)
    assert world.follow(userid, external_userid)  # WeCom has the relation ...
    assert shows(client, "contacts", external_userid, "又加回来了")  # ... and so does the sidebar


def test_a_crash_between_store_and_process_is_repaired_by_the_drain(live_app, own_emulator):
    app = live_app.flask_app
    userid, external_userid = a_relation(own_emulator)
    client = signed_in(app, userid)
    assert panel(client, "contacts", external_userid)[0] == 200
    switches(own_emulator, drop=1)  # the request that stored it died before processing it:
    change_world(own_emulator, "edit_follow", userid=userid, external_userid=external_userid, remark="崩溃之后")
    xml = own_emulator.emulator.extensions["wecom_emulator"].callbacks.log[-1].xml.encode()
    with app.app_context():
        from sidebar.sync.callback import parse_xml
        assert inbox.store(xml, parse_xml(xml)) is not None  # ... what it had stored
    assert "崩溃之后" not in panel(client, "contacts", external_userid)[1]
    result = app.test_cli_runner().invoke(args=["drain-inbox"])
    assert result.exit_code == 0, result.output
    assert "done: 1" in result.output
    assert "崩溃之后" in panel(client, "contacts", external_userid)[1]


def test_wecom_down_while_processing_leaves_the_row_for_the_drain(live_app, own_emulator):
    app = live_app.flask_app
    userid, external_userid = a_relation(own_emulator)
    client = signed_in(app, userid)
    assert panel(client, "contacts", external_userid)[0] == 200
    requests.post(f"{own_emulator.url}/_admin/faults", json={"down": True}, timeout=5)
    change_world(own_emulator, "edit_follow", userid=userid, external_userid=external_userid, remark="稍后处理")
    assert eventually(lambda: inbox_count(app, status="failed") == 1)
    failed = app.test_cli_runner().invoke(args=["drain-inbox"])
    assert failed.exit_code == 1 and "failed: 1" in failed.output
    requests.delete(f"{own_emulator.url}/_admin/faults", timeout=5)
    drained = app.test_cli_runner().invoke(args=["drain-inbox"])
    assert drained.exit_code == 0 and "done: 1" in drained.output, drained.output
    assert "稍后处理" in panel(client, "contacts", external_userid)[1]


def test_a_lost_callback_is_repaired_by_the_full_sync(live_app, own_emulator):
    app = live_app.flask_app
    userid, external_userid = a_relation(own_emulator)
    client = signed_in(app, userid)
    assert panel(client, "contacts", external_userid)[0] == 200
    removed = a_relation(own_emulator, 1)
    assert removed[0] == userid
    assert panel(client, "contacts", removed[1])[0] == 200
    switches(own_emulator, drop=-1)
    change_world(own_emulator, "edit_follow", userid=userid, external_userid=external_userid, remark="回调丢了")
    change_world(own_emulator, "remove_follow", userid=userid, external_userid=removed[1])
    assert inbox_count(app) == 0
    assert "回调丢了" not in panel(client, "contacts", external_userid)[1]
    assert panel(client, "contacts", removed[1])[0] == 200  # stale: nobody told us
    result = app.test_cli_runner().invoke(args=["sync"])
    assert result.exit_code == 0, result.output
    assert "回调丢了" in panel(client, "contacts", external_userid)[1]
    assert panel(client, "contacts", removed[1])[0] == 404


# -- the demo: a change made in the simulated client reaches the sidebar ------------------------------

def test_demo_a_remark_changed_in_the_client_shows_in_the_sidebar(browser, demo_server):
    from playwright.sync_api import expect

    userid, external_userid = next(iter(demo_server.emulator.world.follows))
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        page.goto(f"{demo_server.url}/_wecom/client?userid={userid}&chat=contact:{external_userid}")
        sidebar = page.frame_locator("#sidebar-frame")
        expect(sidebar.locator("article.contact h1")).to_be_visible(timeout=15000)
        page.click("#world-tools summary")
        page.fill("input[name=remark]", "王先生-周五约见")
        page.click("text=修改备注")
        expect(page.locator(".world-notice")).to_contain_text("edit_external_contact → 200")
        expect(page.frame_locator("#sidebar-frame").locator("article.contact h1")).to_have_text(
            "王先生-周五约见", timeout=15000)
        page.click("#world-tools summary")
        page.click("text=客户删除了我")
        expect(page.locator(".world-notice")).to_contain_text("del_follow_user → 200")
        assert external_userid not in page.locator("#chat-list").inner_html()  # gone from the chat list
    finally:
        page.close()
