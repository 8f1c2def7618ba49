"""客户动态 (issue 16 item 4): notes, shares sent and blocked, opens, stages reached and groups joined in one
feed, newest first, paged, each with who and when; authorised and logged like the notes."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from helpers import publish, signed_in
from sidebar.extensions import db
from sidebar.models import CHINA, ClientView, china_today
from sidebar.sync.profiles import import_profiles

ADVISOR = "zhangwei"


@pytest.fixture
def client_in_group(library_app, world):
    """A client of the advisor who is in one of the advisor's groups, with a dated journey; the panels opened."""
    follows = {f["external_userid"] for f in world["follows"] if f["userid"] == ADVISOR}
    people = {c["external_userid"]: c for c in world["contacts"]}
    group, member = next((g, m) for g in world["groups"] if ADVISOR in {x["userid"] for x in g["members"]}
                         for m in g["members"] if m["type"] == 2 and m["userid"] in follows
                         and people.get(m["userid"], {}).get("unionid"))
    today = china_today()
    dates = {"registered": today - timedelta(days=20), "applying": today - timedelta(days=15),
             "opened": today - timedelta(days=10)}
    with library_app.app_context():
        result = import_profiles([{"account_id": "880000001234", "unionid": people[member["userid"]]["unionid"],
                                   "name": "测试客户", "stage": "opened", "risk_level": "C2",
                                   "risk_expires": (today + timedelta(days=300)).isoformat(),
                                   "stage_dates": {k: v.isoformat() for k, v in dates.items()}, "tags": []}])
        db.session.commit()
        assert not result.rejected, result.rejected
    advisor = signed_in(library_app, ADVISOR)
    assert advisor.get(f"/sidebar/contacts/{member['userid']}").status_code == 200
    assert advisor.get(f"/sidebar/groups/{group['chat_id']}").status_code == 200
    return {"advisor": advisor, "id": member["userid"], "group": group, "member": member, "dates": dates}


def post(client, url, **form):
    """A form POST with the session's CSRF token."""
    return client.post(url, data=form, headers={"X-CSRFToken": client.csrf})


def feed(client, external_userid, page=1):
    """(texts, metas) of a page of the timeline, and whether it offers more."""
    answer = client.get(f"/sidebar/contacts/{external_userid}/timeline", query_string={"page": page},
                        headers={"HX-Request": "true"})
    assert answer.status_code == 200, answer.status_code
    text = answer.get_data(as_text=True)
    texts = re.findall(r'<p class="event-text">(.*?)</p>', text, re.S)
    metas = re.findall(r'<p class="event-meta">(.*?)</p>', text, re.S)
    return [t.replace("&lt;", "<").replace("&gt;", ">") for t in texts], metas, "更多动态" in text


def test_the_timeline_holds_every_kind_newest_first_with_who_and_when(library_app, client_in_group, world):
    scene, advisor = client_in_group, client_in_group["advisor"]
    contact = scene["id"]
    assert post(advisor, f"/sidebar/contacts/{contact}/notes", body="约了周五电话，手机 13812345678").status_code in (200, 303)
    article = publish(library_app, "link", title="ETF入门")
    prepared = post(advisor, f"/sidebar/materials/{article}/shares", target=f"contact:{contact}").get_json()
    post(advisor, prepared["report_url"], result="sent")
    token = prepared["message"]["news"]["link"].rsplit("/r/", 1)[1]
    assert library_app.test_client().get(f"/r/{token}", headers={"User-Agent": "Mozilla/5.0 MicroMessenger"}).status_code == 302
    product = publish(library_app, "text", title="科创进取", risk_level="R4")
    assert post(advisor, f"/sidebar/materials/{product}/shares", target=f"contact:{contact}").status_code == 403

    texts, metas, more = feed(advisor, contact)
    recent = ["发送《科创进取》被拦截：", "打开了《ETF入门》", "发送《ETF入门》", "跟进记录：约了周五电话"]
    assert [next(t for t in texts if t.startswith(prefix)) for prefix in recent] == texts[:4], texts
    assert "13812345678" not in "".join(texts) and "138****5678" in texts[3], "numbers masked"
    joined = datetime.fromtimestamp(scene["member"]["join_time"], timezone.utc).replace(tzinfo=None)
    older = sorted([(joined, f"加入群「{scene['group']['name']}」")] +
                   [(datetime.combine(day, datetime.min.time(), CHINA).astimezone(timezone.utc).replace(tzinfo=None),
                     f"达成：{label}") for day, label in ((scene["dates"]["registered"], "注册"),
                                                          (scene["dates"]["applying"], "开户中"),
                                                          (scene["dates"]["opened"], "已开户"))], reverse=True)
    assert texts[4:] == [text for _, text in older]
    name = next(s["name"] for s in world["staff"] if s["userid"] == ADVISOR)
    assert metas[0].endswith(f"· {name}") and metas[1].endswith("· 客户") and not more
    assert re.match(r"\d{2}-\d{2} \d{2}:\d{2} ·", metas[0]), "China time, to the minute"


def test_the_timeline_pages_without_gaps_or_repeats(library_app, client_in_group):
    advisor, contact = client_in_group["advisor"], client_in_group["id"]
    for n in range(22):
        post(advisor, f"/sidebar/contacts/{contact}/notes", body=f"第 {n} 次跟进")
    first, _, more = feed(advisor, contact)
    second, _, more_after = feed(advisor, contact, 2)
    assert len(first) == 20 and more and not more_after
    notes = [t for t in first + second if t.startswith("跟进记录")]
    assert notes == [f"跟进记录：第 {n} 次跟进" for n in reversed(range(22))]
    assert len(first + second) == 22 + 4, "22 notes, 3 stages and the group joined"


def test_the_timeline_is_authorised_and_logged_like_the_notes(library_app, client_in_group):
    contact = client_in_group["id"]

    def views():
        with library_app.app_context():
            return db.session.scalar(select(func.count()).select_from(ClientView).where(ClientView.external_userid == contact))
    before = views()
    feed(client_in_group["advisor"], contact)
    assert views() == before + 1
    stranger = signed_in(library_app, "sunli")
    assert stranger.get(f"/sidebar/contacts/{contact}/timeline").status_code == 404
    assert views() == before + 1
