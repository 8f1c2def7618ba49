"""开户实况: today's steps against the same time yesterday and last week, scoped to the branch, each opening
attributed to its advisor, the group the client was in and the last touch before it."""
import re
from datetime import datetime, timedelta, timezone

import pytest

from helpers import publish, signed_in
from manage_helpers import COMPLIANCE, MANAGER, add_contact, seed_branches
from sidebar.extensions import db
from sidebar.models import CHINA, GroupChat, GroupMember, JourneyEvent, MaterialVersion, Share
from sidebar.sync.profiles import import_profiles


def utcnow():
    """Naive UTC now, as stored."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def figure(page, kind, which):
    """A tile's number: kind (registered, opened, …) and which (today, yesterday, last_week)."""
    tile = re.search(rf'data-kind="{kind}">(.*?)</li>', page, re.S).group(1)
    return int(re.search(rf'data-figure="{which}">(\d+)<', tile).group(1))


@pytest.fixture
def live_app(app):
    """Branch 3 and 4 clients whose steps the import learns today, and earlier days' steps."""
    seed_branches(app)
    today = datetime.now(CHINA).date()
    with app.app_context():
        for ext, advisor in (("wo_a", "zhangwei"), ("wo_b", "lina"), ("wo_c", "zhangwei"), ("wo_w", "wangfang")):
            add_contact(ext, advisor, "2026-10-01 10:00", name=f"客户{ext[-1]}", unionid=f"u_{ext}")
        db.session.add(GroupChat(chat_id="wr_show", name="样板间", owner="zhangwei",
                                 created_at=utcnow() - timedelta(days=60)))
        db.session.add(GroupMember(chat_id="wr_show", member_id="wo_a", type=2, joined_at=utcnow() - timedelta(days=20)))
        db.session.add(GroupChat(chat_id="wr_left", name="已退的群", owner="zhangwei",
                                 created_at=utcnow() - timedelta(days=60)))
        db.session.add(GroupMember(chat_id="wr_left", member_id="wo_a", type=2, joined_at=utcnow() - timedelta(days=30),
                                   left_at=utcnow() - timedelta(days=25)))
        db.session.commit()
    material = publish(app, kind="text", title="开户福利说明")
    with app.app_context():
        version = db.session.scalar(db.select(MaterialVersion.id).where(MaterialVersion.material_id == material))
        for target_type, target_id, hours_ago, status in (("group", "wr_show", 5, "sent"), ("contact", "wo_a", 3, "sent"),
                                                          ("contact", "wo_a", 2, "cancelled")):
            moment = utcnow() - timedelta(hours=hours_ago)
            db.session.add(Share(advisor="zhangwei", material_id=material, version_id=version, target_type=target_type,
                                 target_id=target_id, status=status, created_at=moment, result_at=moment))
        db.session.commit()
        stage = {"registered": today.isoformat()}
        rows = [{"account_id": "880000000101", "unionid": "u_wo_a", "stage": "opened",
                 "stage_dates": {"registered": (today - timedelta(days=3)).isoformat(), "opened": today.isoformat()}},
                {"account_id": "880000000102", "unionid": "u_wo_b", "stage": "registered", "stage_dates": stage},
                {"account_id": "880000000103", "unionid": "u_wo_c", "stage": "registered", "stage_dates": stage},
                {"account_id": "880000000104", "unionid": "u_wo_w", "stage": "opened",
                 "stage_dates": {"registered": today.isoformat(), "opened": today.isoformat()}}]
        assert import_profiles(rows).accepted == 4
        # earlier days: what we knew by this time then counts, a step pushed later does not
        now = datetime.now(CHINA)
        for account, kind, back, late in (("880000000102", "opened", 1, False), ("880000000103", "opened", 1, True),
                                          ("880000000101", "applying", 7, False), ("880000000104", "applying", 7, False)):
            then = (now - timedelta(days=back)) + timedelta(hours=1 if late else -1)
            db.session.add(JourneyEvent(account_id=account, kind=kind, day=(now - timedelta(days=back)).date(),
                                        recorded_at=then.astimezone(timezone.utc).replace(tzinfo=None)))
        db.session.commit()
    return app


def test_todays_steps_against_the_same_time_yesterday_and_last_week_in_the_managers_branch(live_app):
    """Branch 3 today: registered wo_b, wo_c (wo_a's registration was 3 days ago) = 2; opened wo_a = 1.
    Yesterday by this time: wo_b's opening (wo_c's was pushed an hour later) = 1. Last week: wo_a applying = 1
    (wo_w is branch 4)."""
    page = signed_in(live_app, MANAGER).get("/manage/openings").get_data(as_text=True)
    assert figure(page, "registered", "today") == 2
    assert figure(page, "opened", "today") == 1
    assert figure(page, "opened", "yesterday") == 1
    assert figure(page, "applying", "last_week") == 1
    assert "****0104" not in page and "王芳" not in page, "the other branch's opening is not shown"
    assert 'hx-trigger="every 30s"' in page
    firm = signed_in(live_app, COMPLIANCE).get("/manage/openings").get_data(as_text=True)
    assert figure(firm, "opened", "today") == 2 and figure(firm, "applying", "last_week") == 2


def test_an_opening_is_attributed_to_its_advisor_the_group_they_were_in_and_the_last_touch(live_app):
    manager = signed_in(live_app, MANAGER)
    page = manager.get("/manage/openings").get_data(as_text=True)
    opening = re.search(r'<li class="opening" data-account="\*\*\*\*0101">(.*?)</li>', page, re.S).group(1)
    assert "顾问：张伟" in opening
    assert "所在群：样板间" in opening, "the group they were in, not the one they had left"
    assert "最后触达：物料 · 开户福利说明" in opening
    assert "880000000101" not in page
    fragment = manager.get("/manage/openings", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.startswith('<div id="openings"') and "<html" not in fragment


def test_the_last_touch_is_the_latest_sent_share_before_the_opening(live_app):
    with live_app.app_context():
        from sidebar.manage.journeys import owners_of
        from sidebar.manage.openings import attribute

        event = db.session.scalar(db.select(JourneyEvent).where(JourneyEvent.account_id == "880000000101",
                                                                JourneyEvent.kind == "opened"))
        contact_share, group_share = (db.session.scalar(db.select(Share).where(
            Share.target_type == kind, Share.status == "sent")) for kind in ("contact", "group"))
        opening, = attribute([event], owners_of({"880000000101"}))
        assert opening.touch_at == contact_share.result_at  # 3 h ago, not the group's (5 h) nor the cancelled one
        event.recorded_at = contact_share.result_at - timedelta(minutes=1)
        opening, = attribute([event], owners_of({"880000000101"}))
        assert opening.touch_at == group_share.result_at, "then the group's share came last"


def test_the_wall_shows_the_branchs_day_and_refreshes_itself(live_app):
    wall = signed_in(live_app, MANAGER).get("/manage/wall")
    page = wall.get_data(as_text=True)
    assert wall.status_code == 200 and 'class="wall"' in page and 'hx-trigger="every 30s"' in page
    assert figure(page, "opened", "today") == 1 and figure(page, "registered", "today") == 2
    assert "****0101" in page and "****0104" not in page, "only the branch's openings"
    assert "部门 3" in page and "部门 4" not in page
    assert signed_in(live_app, "zhangwei").get("/manage/wall").status_code == 403


def test_each_figure_opens_todays_rows_behind_it_masked_and_scoped(live_app):
    manager = signed_in(live_app, MANAGER)
    page = manager.get("/manage/openings").get_data(as_text=True)
    assert "/manage/openings/rows?kind=registered" in page and "/manage/openings/rows?kind=opened&amp;advisor=zhangwei" in page
    registered = manager.get("/manage/openings/rows?kind=registered").get_data(as_text=True)
    assert sorted(re.findall(r'data-account="([^"]+)"', registered)) == ["****0102", "****0103"]
    assert "880000000102" not in registered
    lina = manager.get("/manage/openings/rows?kind=registered&advisor=lina").get_data(as_text=True)
    assert re.findall(r'data-account="([^"]+)"', lina) == ["****0102"]
    assert manager.get("/manage/openings/rows?kind=opened&advisor=wangfang").status_code == 404
    assert "****0104" not in manager.get("/manage/openings/rows?kind=opened").get_data(as_text=True)
