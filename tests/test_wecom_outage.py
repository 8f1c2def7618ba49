"""WeCom in trouble (-1 to the end, 45009, a 503 gateway): the sidebar opens from local data with a
"数据更新于 …" note, media needing a fresh upload cannot be sent, WeCom is asked at most once per
interval (counted in the emulator's call log), and everything recovers without a restart."""
import time

import pytest
import requests

from helpers import advisors, make_app, publish, signed_in, wecom_calls

PAUSE = 1.0  # the app's outage pause in these tests: short, so recovery can be watched
GET_CONTACT = "/cgi-bin/externalcontact/get"


def fault(emulator, **spec):
    """Switch on an emulator fault."""
    requests.post(f"{emulator.url}/_admin/faults", json=spec, timeout=5).raise_for_status()


def clear_faults(emulator):
    """Switch every fault off (the call log stays)."""
    requests.delete(f"{emulator.url}/_admin/faults", timeout=5).raise_for_status()


@pytest.fixture
def outage_app(tmp_path, emulator):
    """An app that pauses a failing WeCom path for PAUSE seconds."""
    return make_app(tmp_path / "outage.db", emulator.url, WECOM_OUTAGE_PAUSE=PAUSE, WECOM_RATE_LIMIT_PAUSE=PAUSE)


def two_contacts(world, userid):
    """(one the sidebar will have opened, one it has never seen) of the advisor's contacts."""
    mine = [f["external_userid"] for f in world["follows"] if f["userid"] == userid]
    return mine[0], mine[1]


def page(client, external_userid):
    """(status, html) of a contact panel."""
    response = client.get(f"/sidebar/contacts/{external_userid}")
    return response.status_code, response.get_data(as_text=True)


FAULTS = {"down (503 gateway)": {"down": True}, "-1 busy to the end": {"errcode": -1, "path": GET_CONTACT},
          "45009 rate limited": {"errcode": 45009, "path": GET_CONTACT}}


@pytest.mark.parametrize("name", list(FAULTS))
def test_local_data_with_a_note_one_attempt_per_interval_and_recovery(outage_app, emulator, world, name):
    userid = advisors(world)[0]
    client = signed_in(outage_app, userid)
    known, never_seen = two_contacts(world, userid)
    status, html = page(client, known)
    assert status == 200 and "数据更新于" not in html
    fault(emulator, **FAULTS[name])

    status, html = page(client, never_seen)
    assert status == 503 and "企业微信暂时无法访问" in html, "WeCom's trouble is not 'not yours'"
    after_first = wecom_calls(emulator, GET_CONTACT)
    status, html = page(client, known)
    assert status == 200 and "数据更新于" in html, "the known client opens from local data, dated"
    for _ in range(5):
        assert page(client, never_seen)[0] == 503
    assert wecom_calls(emulator, GET_CONTACT) == after_first, "no retry storm within the pause"

    time.sleep(PAUSE + 0.1)
    assert page(client, never_seen)[0] == 503
    assert wecom_calls(emulator, GET_CONTACT) > after_first, "one new attempt once the interval is over"

    clear_faults(emulator)
    time.sleep(PAUSE + 0.1)
    status, html = page(client, never_seen)
    assert status == 200, "recovered without a restart"
    status, html = page(client, known)
    assert status == 200 and "数据更新于" not in html


def test_a_wecom_that_times_out_is_treated_like_one_that_is_down(tmp_path, emulator, world):
    app = make_app(tmp_path / "slow.db", emulator.url, WECOM_OUTAGE_PAUSE=PAUSE, WECOM_TIMEOUT=(1, 0.5))
    userid = advisors(world)[0]
    client = signed_in(app, userid)
    known, never_seen = two_contacts(world, userid)
    assert page(client, known)[0] == 200
    fault(emulator, delay=1.5)
    started = time.monotonic()
    assert page(client, never_seen)[0] == 503
    assert page(client, never_seen)[0] == 503  # paused: not even tried
    status, html = page(client, known)
    assert status == 200 and "数据更新于" in html
    assert time.monotonic() - started < 1.5, "one slow attempt, then answers at once"
    clear_faults(emulator)
    time.sleep(PAUSE + 1.1)  # the emulator finishes the slow answer; the pause ends
    assert page(client, never_seen)[0] == 200


def test_group_panel_opens_from_local_data_with_the_note(outage_app, emulator, world):
    userid = advisors(world)[0]
    client = signed_in(outage_app, userid)
    group = next(g for g in world["groups"] if g["owner"] == userid)
    assert client.get(f"/sidebar/groups/{group['chat_id']}").status_code == 200
    fault(emulator, down=True)
    assert page(client, two_contacts(world, userid)[1])[0] == 503
    opened = client.get(f"/sidebar/groups/{group['chat_id']}")
    assert opened.status_code == 200 and "数据更新于" in opened.get_data(as_text=True)


def test_media_needing_a_fresh_upload_cannot_be_sent_while_wecom_is_down(tmp_path, emulator, world):
    from helpers import CONSOLE_STAFF
    from sidebar.extensions import db
    from sidebar.identity.service import grant_role

    app = make_app(tmp_path / "share.db", emulator.url, WECOM_OUTAGE_PAUSE=PAUSE)
    with app.app_context():
        for staff, role in CONSOLE_STAFF.items():
            grant_role(staff, role)
        db.session.commit()
    poster = publish(app, kind="image", title="海报素材")
    text = publish(app, kind="text", title="文字话术")
    userid = advisors(world)[0]
    client = signed_in(app, userid)
    known, never_seen = two_contacts(world, userid)
    assert page(client, known)[0] == 200
    library = f"/sidebar/materials?chat=contact:{known}"
    assert "需要重新上传" not in client.get(library).get_data(as_text=True)

    fault(emulator, down=True)
    assert page(client, never_seen)[0] == 503
    html = client.get(library).get_data(as_text=True)
    poster_item = html[html.index(f'data-material-id="{poster}"'):]
    poster_item = poster_item[:poster_item.index("</li>")]
    assert "disabled" in poster_item and "需要重新上传到企业微信" in poster_item
    text_item = html[html.index(f'data-material-id="{text}"'):]
    assert "disabled" not in text_item[:text_item.index("</li>")], "a text needs no upload: still sendable"
    refused = client.post(f"/sidebar/materials/{poster}/shares", data={"target": f"contact:{known}"},
                          headers={"X-CSRFToken": client.csrf})
    assert refused.status_code == 503

    clear_faults(emulator)
    time.sleep(PAUSE + 0.1)
    assert page(client, never_seen)[0] == 200
    html = client.get(library).get_data(as_text=True)
    assert "需要重新上传" not in html


def test_a_note_on_a_never_seen_contact_while_wecom_is_down_is_the_same_503_as_opening_it(outage_app, emulator,
                                                                                             world):
    userid = advisors(world)[0]
    client = signed_in(outage_app, userid)
    _, never_seen = two_contacts(world, userid)
    fault(emulator, down=True)
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(f"/sidebar/contacts/{never_seen}/notes", data={"body": "回访"},
                               headers={"X-CSRFToken": client.csrf, **headers})
        assert response.status_code == 503 and "企业微信暂时无法访问" in response.get_data(as_text=True)
