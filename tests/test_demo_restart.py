"""`flask --app wsgi demo` started again on the same instance/ database: a new emulator, nothing stale."""
import re

import pytest
import requests

from helpers import start_demo
from sidebar.demo import EMULATOR_PREFIX
from sidebar.extensions import db
from sidebar.models import MaterialVersion

ADVISOR = "zhangwei"
POSTER = "双十一开户福利海报"  # a general image of the demo's library



def advisor_session(server):
    """A browser signed in as the advisor through the emulator's OAuth page; `.csrf` is its token."""
    browser = requests.Session()
    browser.cookies.set("wecom_userid", ADVISOR)
    page = browser.get(f"{server.url}/sidebar/", timeout=15)
    assert page.status_code == 200, page.status_code
    browser.csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    return browser


def emulator_accepts_agent_config(server, browser):
    """Whether the emulator (as the WeCom client) accepts the agentConfig signature the app gives the shell."""
    url = f"{server.url}/sidebar/"
    signed = browser.get(f"{server.url}/jssdk/signature", params={"type": "agent", "url": url}, timeout=15)
    assert signed.status_code == 200, signed.text
    verdict = requests.post(f"{server.url}{EMULATOR_PREFIX}/jsapi/verify", timeout=15, json={
        "type": "agent", "corpid": server.flask_app.config["WECOM_CORP_ID"],
        "agentid": server.flask_app.config["WECOM_AGENT_ID"], "url": url, **signed.json()})
    return verdict.json()


def shared_poster_is_live(server, browser, contact):
    """Prepare a share of the demo's general poster; whether the emulator knows the media_id it carries."""
    with server.flask_app.app_context():
        poster = db.session.scalar(db.select(MaterialVersion.material_id).where(MaterialVersion.title == POSTER))
    shared = browser.post(f"{server.url}/sidebar/materials/{poster}/shares", data={"target": f"contact:{contact}"},
                          headers={"X-CSRFToken": browser.csrf, "Accept": "application/json"}, timeout=15)
    assert shared.status_code == 200, shared.text
    media_id = shared.json()["message"]["image"]["mediaid"]
    return requests.get(f"{server.url}{EMULATOR_PREFIX}/media/{media_id}", timeout=15).status_code == 200


@pytest.mark.timeout(120)
def test_a_second_start_on_the_same_database_signs_and_shares_with_the_new_emulator(tmp_path):
    first = start_demo(tmp_path / "instance.db")
    contact = next(ext for ext in first.emulator.world.contacts_of(ADVISOR))
    try:
        browser = advisor_session(first)
        assert emulator_accepts_agent_config(first, browser) == {"ok": True}
        assert shared_poster_is_live(first, browser, contact)  # a media_id is now kept in the database
    finally:
        first.stop()

    second = start_demo(tmp_path / "instance.db")  # stopped and started again: a new emulator
    try:
        browser = advisor_session(second)
        assert emulator_accepts_agent_config(second, browser) == {"ok": True}
        assert shared_poster_is_live(second, browser, contact)
    finally:
        second.stop()
