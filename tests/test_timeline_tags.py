"""客户动态 shows the tags an advisor changed through the sidebar's profile edit: added and removed, newest
first, with who and when in China time; a tag's name is as it was when changed."""
import re
from datetime import datetime

import pytest

from helpers import make_app, signed_in
from sidebar.extensions import wecom
from sidebar.models import CHINA
from sidebar.sync.tags import refresh_corp_tags

ADVISOR = "zhangwei"


@pytest.fixture
def scene(tmp_path, own_emulator):
    """(the app, the advisor signed in, the relation in WeCom's world, a corp tag it lacks, one it carries)."""
    app = make_app(tmp_path / "sidebar.db", own_emulator.url)
    world = own_emulator.emulator.world
    relation = next(f for (userid, _), f in world.follows.items() if userid == ADVISOR and f.tag_ids)
    carried = world.tag(relation.tag_ids[0])[1]
    missing = next(t for g in world.tag_groups.values() for t in g.tags if t.id not in relation.tag_ids)
    advisor = signed_in(app, ADVISOR)
    assert advisor.get(f"/sidebar/contacts/{relation.external_userid}").status_code == 200
    with app.app_context():
        refresh_corp_tags(wecom())
    return app, advisor, relation, missing, carried


def post(client, url, **form):
    """A POST as htmx sends it, with the session's CSRF token."""
    answer = client.post(url, data=form, headers={"X-CSRFToken": client.csrf, "HX-Request": "true"})
    assert answer.status_code in (200, 303), answer.status_code
    return answer


def feed(client, external_userid):
    """[(text, meta)] of the timeline's first page."""
    html = client.get(f"/sidebar/contacts/{external_userid}/timeline", headers={"HX-Request": "true"}).get_data(as_text=True)
    return list(zip(re.findall(r'<p class="event-text">(.*?)</p>', html, re.S),
                    re.findall(r'<p class="event-meta">(.*?)</p>', html, re.S)))


def test_tags_changed_in_the_sidebar_are_in_the_timeline_newest_first_with_who_and_when(scene, own_emulator):
    app, advisor, relation, missing, carried = scene
    contact = relation.external_userid
    started = datetime.now(CHINA)
    post(advisor, f"/sidebar/contacts/{contact}/notes", body="先记一笔")
    post(advisor, f"/sidebar/contacts/{contact}/profile", add_tag=missing.id)
    post(advisor, f"/sidebar/contacts/{contact}/profile", remove_tag=carried.id)
    post(advisor, f"/sidebar/contacts/{contact}/profile", remove_tag=missing.id)
    post(advisor, f"/sidebar/contacts/{contact}/profile", remove_tag=missing.id)  # no longer carried: no change
    ended = datetime.now(CHINA)

    events = feed(advisor, contact)
    assert [text for text, _ in events[:4]] == [f"移除标签「{missing.name}」", f"移除标签「{carried.name}」",
                                               f"添加标签「{missing.name}」", "跟进记录：先记一笔"], events
    name = own_emulator.emulator.world.staff_member(ADVISOR).name
    moments = {started.strftime("%m-%d %H:%M"), ended.strftime("%m-%d %H:%M")}  # China time, not UTC
    for _, meta in events[:3]:
        when, who = meta.split(" · ")
        assert when in moments, meta
        assert who == name, meta
    # WeCom has the last state the timeline tells
    assert missing.id not in relation.tag_ids and carried.id not in relation.tag_ids
