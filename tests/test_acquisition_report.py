"""The channel report counts verified relationships and the funnel by the channel of the first arrival,
checked against figures worked out by hand from the seeded rows (issue 20)."""
import re
from datetime import timedelta

import pytest

from helpers import signed_in
from sidebar.extensions import db
from sidebar.models import (Channel, ChannelArrival, ClientProfile, ExternalContact, Follow, GroupChat, GroupMember,
                            china_day, utcnow)

NOW = utcnow()


def seed_contact(external_userid, advisor, channel, days_ago, ended=False, stage=None, opened_after=None, key=None):
    """A contact who arrived through channel days_ago, their follow (ended or not) and maybe an account."""
    arrived = NOW - timedelta(days=days_ago)
    if db.session.get(ExternalContact, external_userid) is None:
        db.session.add(ExternalContact(external_userid=external_userid, name="客户"))
    db.session.add(Follow(userid=advisor, external_userid=external_userid, added_at=arrived,
                          ended_at=NOW - timedelta(days=1) if ended else None))
    db.session.flush()
    db.session.add(ChannelArrival(source_key=key or f"c:{advisor}:{external_userid}", channel_id=channel.id,
                                  state=channel.state, kind="contact", external_userid=external_userid, userid=advisor,
                                  arrived_at=arrived, welcome="sent"))
    if stage:
        _profile(external_userid, stage, arrived, opened_after)


def _profile(external_userid, stage, arrived, opened_after):
    """The trading account linked to the contact; opened opened_after days after the arrival's China day."""
    dates = {"registered": china_day(arrived).isoformat()}
    if opened_after is not None:
        dates["opened"] = (china_day(arrived) + timedelta(days=opened_after)).isoformat()
    db.session.add(ClientProfile(account_id="88" + external_userid[-6:], external_userid=external_userid, stage=stage,
                                 stage_dates=dates))


@pytest.fixture
def seeded(app):
    """Two channels and the arrivals described in the test."""
    from sidebar.identity.service import grant_role

    with app.app_context():
        grant_role("zhouqiang", "manager")
        db.session.commit()
        live = Channel(name="抖音直播", kind="contact", state="qdlive", userids=["zhangwei"], created_by="zhaomin")
        poster = Channel(name="网点海报", kind="contact", state="qdposter", userids=["lina"], created_by="zhaomin")
        db.session.add_all([live, poster])
        db.session.flush()
        seed_contact("wmC000001", "zhangwei", live, 30, stage="funded", opened_after=4)
        seed_contact("wmC000002", "zhangwei", live, 30, ended=True, stage="opened", opened_after=10)
        seed_contact("wmC000003", "zhangwei", live, 3, stage="registered")
        seed_contact("wmC000004", "zhangwei", live, 20)
        seed_contact("wmC000005", "lina", poster, 40, stage="traded", opened_after=2)
        seed_contact("wmC000001", "lina", poster, 10)  # a second arrival: counted as an add, not a contact
        db.session.add(GroupChat(chat_id="wrROOM", name="直播粉丝群", owner="zhangwei"))
        db.session.add(ExternalContact(external_userid="wmC000006", name="群成员"))
        db.session.flush()
        db.session.add(GroupMember(chat_id="wrROOM", member_id="wmC000006", type=2))
        joined = NOW - timedelta(days=15)
        db.session.add(ChannelArrival(source_key="g:wrROOM:wmC000006", channel_id=live.id, state="qdlive", kind="group",
                                      external_userid="wmC000006", userid="zhangwei", chat_id="wrROOM",
                                      arrived_at=joined, welcome="unset"))
        _profile("wmC000006", "opened", joined, 6)
        db.session.commit()
        return {"live": live.id, "poster": poster.id}


def figures(html, channel_id):
    """figure name -> text of one channel's row of the report."""
    row = re.search(rf'<tr data-channel="{channel_id}">(.*?)</tr>', html, re.S).group(1)
    return dict(re.findall(r'data-figure="(\w+)">([^<]*)<', row))


def test_the_report_counts_verified_relationships_and_the_funnel_by_first_channel(app, seeded):
    html = signed_in(app, "zhouqiang").get("/console/channels/report").get_data(as_text=True)
    # 抖音直播: contacts 1-4 and the group member 6. Verified: 1 (kept 30 days, account) and 6 (in the group
    # 15 days, account); not 2 (deleted), 3 (3 days), 4 (no account). Opened: 1, 2, 6 after 4, 10, 6 days.
    assert figures(html, seeded["live"]) == {"verified": "2", "contacts": "5", "opened": "3", "funded": "1",
                                             "days_to_open": "6", "adds": "5"}
    # 网点海报: contact 5, and contact 1's second arrival (an add, still 抖音直播's contact).
    assert figures(html, seeded["poster"]) == {"verified": "1", "contacts": "1", "opened": "1", "funded": "1",
                                               "days_to_open": "2", "adds": "2"}


def test_an_advisor_cannot_read_the_report(app, seeded):
    assert signed_in(app, "lina").get("/console/channels/report").status_code == 403
