"""The demo: a client in each 下一步 situation with the material the console set for it, and the
prospect who gives their mobile linked end to end."""
from datetime import date, timedelta

import pytest
import requests

from actions_helpers import next_steps
from helpers import login
from sidebar.actions.demo import SCENE_TITLES, WAITING_MOBILE
from sidebar.demo_data import demo_profiles
from sidebar.models import china_today
from test_client_insight import profile_of

TODAY = china_today()


def demo_case(world, predicate):
    """(advisor, external_userid) of a demo contact whose current profile row matches predicate."""
    rows = list({row["account_id"]: row for row in demo_profiles(world, TODAY)}.values())
    for follow in world["follows"]:
        row = profile_of(world, rows, follow["external_userid"])
        if predicate(row):
            return follow["userid"], follow["external_userid"]
    pytest.fail("the demo must have a client in this situation")


def stalled(row, stage, days=3):
    """Whether the row has been at stage for at least `days`."""
    since = row and row["stage"] == stage and row["stage_dates"].get(stage)
    return bool(since) and (TODAY - date.fromisoformat(since)).days >= days


SITUATIONS = {
    "open_account": lambda row: row is None,
    "applying": lambda row: stalled(row, "applying"),
    "funding": lambda row: stalled(row, "opened"),
    "win_back": lambda row: row and row["stage"] in ("funded", "traded") and row["last_trade_date"]
    and TODAY - date.fromisoformat(row["last_trade_date"]) > timedelta(days=180),
    "reassess": lambda row: row and row["risk_level"] and row["risk_expires"] < TODAY.isoformat(),
}


def panel(server, userid, external_userid):
    """The client panel fragment as userid sees it on the demo server."""
    client = server.flask_app.test_client()
    login(client, userid)
    return client, client.get(f"/sidebar/contacts/{external_userid}", headers={"HX-Request": "true"})


def test_the_demo_has_a_client_in_each_situation_with_its_scene_material(demo_server):
    world = requests.get(f"{demo_server.url}/_wecom/_admin/world", timeout=10).json()
    for scene, predicate in SITUATIONS.items():
        userid, external_userid = demo_case(world, predicate)
        steps = next_steps(panel(demo_server, userid, external_userid)[1].get_data(as_text=True))
        assert (scene, SCENE_TITLES[scene]) in [(key, title) for key, _, title in steps], (scene, steps)
    steps = next_steps(panel(demo_server, "zhangwei", "wmDemoNewToday000000000001")[1].get_data(as_text=True))
    assert [(key, title) for key, _, title in steps] == [("welcome", "新客户欢迎语"),
                                                        ("open_account", "申江证券开户小程序")]


def test_the_demo_prospect_is_linked_by_the_mobile_they_give(demo_server):
    from helpers import csrf_token

    client, _ = panel(demo_server, "zhangwei", "wmDemoWaitsForMobile000001")
    answer = client.post("/sidebar/contacts/wmDemoWaitsForMobile000001/mobiles", data={"mobile": WAITING_MOBILE},
                         headers={"X-CSRFToken": csrf_token(client), "HX-Request": "true"})
    assert answer.status_code == 200 and answer.headers["HX-Retarget"] == "#panel"
    html = answer.get_data(as_text=True)
    assert "****0777" in html
    assert [key for key, _, _ in next_steps(html)] == ["funding"]
