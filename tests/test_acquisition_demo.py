"""The demo's channels: seeded once with 90 days of arrivals, their codes scannable after every start (issue 20)."""
import pytest
import requests
from sqlalchemy import func, select

from helpers import signed_in, start_demo
from sidebar.demo import EMULATOR_PREFIX
from sidebar.extensions import db
from sidebar.models import Channel, ChannelArrival, utcnow

NAMES = {"抖音直播", "公众号菜单", "网点海报", "投教讲座"}


def counts_after_sync(app):
    """Arrivals by channel name once the demo's full sync ran (its member lists carry the seminar's state)."""
    from sidebar.extensions import wecom
    from sidebar.sync.full import sync

    with app.app_context():
        sync(wecom(), pace=0)
        return dict(db.session.execute(select(Channel.name, func.count(ChannelArrival.id)).join(
            ChannelArrival, ChannelArrival.channel_id == Channel.id).group_by(Channel.name)).tuples().all())



@pytest.mark.timeout(180)
def test_the_demo_channels_survive_a_second_start_and_their_codes_scan(tmp_path):
    first = start_demo(tmp_path / "instance.db")
    with first.flask_app.app_context():
        counted = dict(db.session.execute(select(Channel.name, func.count(ChannelArrival.id)).join(
            ChannelArrival, ChannelArrival.channel_id == Channel.id).group_by(Channel.name)).tuples().all())
        oldest = db.session.scalar(select(func.min(ChannelArrival.arrived_at)))
    try:
        assert counts_after_sync(first.flask_app) == counted  # the sync finds the seeded joins, adds none
    finally:
        first.stop()
    assert set(counted) == NAMES and all(counted.values())
    assert (utcnow() - oldest).days <= 90

    second = start_demo(tmp_path / "instance.db")
    try:
        app = second.flask_app
        with app.app_context():
            channels = {c.name: c for c in db.session.scalars(select(Channel))}
            again = dict(db.session.execute(select(Channel.name, func.count(ChannelArrival.id)).join(
                ChannelArrival, ChannelArrival.channel_id == Channel.id).group_by(Channel.name)).tuples().all())
        assert set(channels) == NAMES and again == counted  # seeded once
        # the new emulator's world has the same members, their join times moved with the clock: no new arrivals
        assert counts_after_sync(app) == counted
        from sidebar.identity.service import grant_role

        with app.app_context():
            grant_role("zhaomin", "operator")
            db.session.commit()
        operator = signed_in(app, "zhaomin")
        live = channels["抖音直播"]
        page = operator.get(f"/console/channels/{live.id}").get_data(as_text=True)
        assert "下载二维码" in page  # the QR image fetched from this start's emulator
        assert operator.get(f"/console/channels/{live.id}/qr.png").data.startswith(b"\x89PNG")
        scanned = requests.post(f"{second.url}{EMULATOR_PREFIX}/_admin/scan",
                                json={"config_id": live.config_id, "wait": False}, timeout=15)
        assert scanned.status_code == 200 and scanned.json()["result"]["userid"] in live.userids
        report = operator.get("/console/channels/report").get_data(as_text=True)
        assert all(name in report for name in NAMES)
    finally:
        second.stop()
