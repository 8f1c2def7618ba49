"""Client and group panels: authorised on the server, opened from local data, masked."""
import re

import pytest
import requests

from helpers import advisors, in_one_window, login, make_app, same_answer, wecom_calls
from sidebar.domain.directory import store_contact

CONTACT_GET, GROUP_GET = "/cgi-bin/externalcontact/get", "/cgi-bin/externalcontact/groupchat/get"


def fault(emulator, **spec):
    """Switch on an emulator fault."""
    requests.post(f"{emulator.url}/_admin/faults", json=spec, timeout=5).raise_for_status()


def followers(world):
    """external_userid -> set of advisors following them."""
    result = {}
    for follow in world["follows"]:
        result.setdefault(follow["external_userid"], set()).add(follow["userid"])
    return result


def contact_followed_by(world, userid, with_mobile=False):
    """A contact userid follows (with a remark mobile, if asked)."""
    for follow in world["follows"]:
        if follow["userid"] == userid and (follow["remark_mobiles"] or not with_mobile):
            return follow
    raise LookupError(userid)


def contact_not_followed_by(world, userid):
    """A contact that only other advisors follow."""
    return next(c for c, who in followers(world).items() if userid not in who)


def staff_in(group):
    """userids of the staff in a group, owner included."""
    return {m["userid"] for m in group["members"] if m["type"] == 1} | {group["owner"]}


@pytest.fixture
def advisor(client, world):
    """The first seeded advisor, logged in."""
    userid = advisors(world)[0]
    login(client, userid)
    return userid


def test_first_open_asks_wecom_once_then_opens_from_local_data(client, emulator, world, advisor):
    follow = contact_followed_by(world, advisor)
    contact = next(c for c in world["contacts"] if c["external_userid"] == follow["external_userid"])
    url = f"/sidebar/contacts/{follow['external_userid']}"
    first = client.get(url)
    assert first.status_code == 200
    assert contact["name"] in first.get_data(as_text=True)
    assert wecom_calls(emulator, "/cgi-bin/externalcontact/get") == 1
    before = wecom_calls(emulator)
    assert client.get(url).status_code == 200
    assert wecom_calls(emulator) == before, "a warm open makes no WeCom call"


def test_another_advisors_client_and_an_unknown_id_get_the_same_404(client, world, advisor):
    others = client.get(f"/sidebar/contacts/{contact_not_followed_by(world, advisor)}")
    unknown = client.get("/sidebar/contacts/wmNoSuchContact000000000000")
    assert others.status_code == unknown.status_code == 404
    assert same_answer(others, unknown)


def test_an_unknown_id_is_asked_about_once_in_five_minutes_for_every_worker(app, client, emulator, world, advisor,
                                                                             tmp_path):
    contact, group = "/sidebar/contacts/wmNoSuchContact000000000001", "/sidebar/groups/wrNoSuchGroup000000000001"
    before = {path: wecom_calls(emulator, path) for path in (CONTACT_GET, GROUP_GET)}
    other_worker = make_app(tmp_path / "sidebar.db", emulator.url).test_client()  # the same database
    login(other_worker, advisors(world)[1])
    for browser in (client, client, other_worker):
        assert browser.get(contact).status_code == 404
        assert browser.get(group).status_code == 404
    assert {path: wecom_calls(emulator, path) - before[path] for path in before} == {CONTACT_GET: 1, GROUP_GET: 1}


def test_lookups_of_chats_we_lack_are_limited_per_advisor(tmp_path, emulator, world):
    app = make_app(tmp_path / "lookups.db", emulator.url, LOOKUP_RATE_LIMIT=(3, 60))
    first, second = app.test_client(), app.test_client()
    login(first, advisors(world)[0])
    login(second, advisors(world)[1])
    mine = contact_followed_by(world, advisors(world)[0])["external_userid"]
    with app.app_context():  # known locally, as a callback or the full sync would have stored it
        store_contact(app.extensions["wecom"].get_external_contact(mine))

    def burst(round_):
        for number in range(3):
            assert first.get(f"/sidebar/contacts/wmUnknown{round_}{number:020d}").status_code == 404
        calls = wecom_calls(emulator, CONTACT_GET)
        stopped = first.get(f"/sidebar/contacts/wmUnknown{round_}{9:020d}", headers={"HX-Request": "true"})
        assert stopped.status_code == 429 and 1 <= int(stopped.headers["Retry-After"]) <= 60
        assert wecom_calls(emulator, CONTACT_GET) == calls, "refused before asking WeCom"
        assert first.get(f"/sidebar/contacts/{mine}").status_code == 200, "what is known still opens"
        assert second.get(f"/sidebar/contacts/wmUnknown{round_}{0:020d}").status_code == 404, "per advisor"

    in_one_window(burst, "abc")


def test_malformed_ids_are_refused_without_asking_wecom(client, emulator, advisor):
    before = wecom_calls(emulator)
    for bad in ["x" * 65, "wm%20space", "wm<script>"]:
        assert client.get(f"/sidebar/contacts/{bad}").status_code == 404
        assert client.get(f"/sidebar/groups/{bad}").status_code == 404
    assert wecom_calls(emulator) == before


def test_mobile_numbers_never_reach_the_page_whole(client, world, advisor):
    follow = contact_followed_by(world, advisor, with_mobile=True)
    html = client.get(f"/sidebar/contacts/{follow['external_userid']}").get_data(as_text=True)
    for mobile in follow["remark_mobiles"]:
        assert mobile not in html
        assert f"{mobile[:3]}****{mobile[-4:]}" in html
    assert not re.search(r"1[3-9]\d{9}", html)


def test_htmx_gets_the_fragment_and_a_browser_the_page(client, world, advisor):
    url = f"/sidebar/contacts/{contact_followed_by(world, advisor)['external_userid']}"
    fragment = client.get(url, headers={"HX-Request": "true"})
    page = client.get(url)
    assert "<html" not in fragment.get_data(as_text=True)
    assert "<html" in page.get_data(as_text=True)
    assert 'class="card contact"' in fragment.get_data(as_text=True)
    for response in (fragment, page):
        assert "HX-Request" in response.headers["Vary"]
        assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("header", ["HX-Boosted", "HX-History-Restore-Request"])
def test_a_boosted_or_history_restoring_htmx_request_gets_the_whole_page_never_a_kept_fragment(client, world, advisor,
                                                                                                header):
    # htmx swaps a boosted answer, or one restoring history after a cache miss, into the whole body:
    # a fragment there would leave a page without its shell, scripts and styles.
    group = next(g for g in world["groups"] if advisor in staff_in(g))
    contact = contact_followed_by(world, advisor)["external_userid"]
    for url in (f"/sidebar/groups/{group['chat_id']}", f"/sidebar/contacts/{contact}"):
        fragment = client.get(url, headers={"HX-Request": "true"})  # the group panel's is now kept in memory
        assert "<html" not in fragment.get_data(as_text=True)
        whole = client.get(url, headers={"HX-Request": "true", header: "true"})
        html = whole.get_data(as_text=True)
        assert whole.status_code == 200 and "<html" in html and 'name="csrf-token"' in html, url
        assert "HX-Request" in whole.headers["Vary"] and whole.headers["Cache-Control"] == "no-store"


def test_group_panel_for_a_member_shows_the_group(client, emulator, world, advisor):
    group = next(g for g in world["groups"] if advisor in staff_in(g))
    response = client.get(f"/sidebar/groups/{group['chat_id']}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert group["name"] in html
    assert f"<strong>{len(group['members'])}</strong>" in html
    externals = sum(1 for m in group["members"] if m["type"] == 2)
    assert f"<strong>{externals}</strong><span>外部联系人</span>" in html
    before = wecom_calls(emulator)
    assert client.get(f"/sidebar/groups/{group['chat_id']}").status_code == 200
    assert wecom_calls(emulator) == before


def test_group_of_others_and_unknown_group_get_the_same_404(client, world, advisor):
    outside = next(g for g in world["groups"] if advisor not in staff_in(g))
    others = client.get(f"/sidebar/groups/{outside['chat_id']}")
    unknown = client.get("/sidebar/groups/wrNoSuchGroup0000000000")
    assert others.status_code == unknown.status_code == 404
    assert same_answer(others, unknown)


def test_wecom_down_known_client_still_opens_unknown_one_says_so(client, emulator, world, advisor):
    follows = [f for f in world["follows"] if f["userid"] == advisor]
    known, never_seen = follows[0]["external_userid"], follows[1]["external_userid"]
    assert client.get(f"/sidebar/contacts/{known}").status_code == 200
    fault(emulator, down=True)
    assert client.get(f"/sidebar/contacts/{known}").status_code == 200
    unavailable = client.get(f"/sidebar/contacts/{never_seen}")
    assert unavailable.status_code == 503
    assert "企业微信暂时无法访问" in unavailable.get_data(as_text=True)


def test_every_chat_of_every_advisor_opens_its_panel(app, emulator, world):
    """What the simulated client lists for an advisor, the sidebar shows."""
    for userid in advisors(world):
        client = app.test_client()
        login(client, userid)
        contacts = [f["external_userid"] for f in world["follows"] if f["userid"] == userid]
        groups = [g["chat_id"] for g in world["groups"] if userid in staff_in(g)]
        assert contacts and groups or userid != advisors(world)[0]
        for external_userid in contacts:
            assert client.get(f"/sidebar/contacts/{external_userid}").status_code == 200, (userid, external_userid)
        for chat_id in groups:
            assert client.get(f"/sidebar/groups/{chat_id}").status_code == 200, (userid, chat_id)
