"""Shared set-up of the workbench tests: two branches (departments 3 and 4 of the emulator's corp), clients
with dated journeys, the roles that read them."""
from datetime import date

from sidebar.extensions import db
from sidebar.identity.service import grant_role
from sidebar.models import ClientProfile, ExternalContact, Follow, Staff
from sop_helpers import utc

MANAGER, COMPLIANCE = "zhouqiang", "sunli"  # the emulator's manager (department 3) and compliance
BRANCH_3 = ("zhangwei", "lina")  # 浦东营业部, zhouqiang's
BRANCH_4 = ("wangfang",)  # 徐汇营业部
SINCE, UNTIL = "2026-11-01", "2026-11-30"


def add_member(userid, name, department):
    """A corp member in one department (as user/get would have stored them)."""
    db.session.merge(Staff(userid=userid, name=name, department=[department]))


def add_contact(external_userid, advisor, added, name="客户", unionid=None):
    """A contact the advisor added at China time 'YYYY-MM-DD HH:MM'."""
    if db.session.get(ExternalContact, external_userid) is None:
        db.session.add(ExternalContact(external_userid=external_userid, name=name, unionid=unionid))
    db.session.add(Follow(userid=advisor, external_userid=external_userid, added_at=utc(added), remark=name))
    db.session.flush()


def add_profile(external_userid, account_id, stage, last_trade=None, **dates):
    """A trading profile linked to the contact, its stages dated by ISO strings."""
    db.session.add(ClientProfile(account_id=account_id, external_userid=external_userid, stage=stage,
                                 stage_dates=dates, name="客户",
                                 last_trade_date=date.fromisoformat(last_trade) if last_trade else None))


def seed_branches(app):
    """The two branches' staff and the workbench roles."""
    with app.app_context():
        for userid, name, department in (("zhangwei", "张伟", 3), ("lina", "李娜", 3), ("wangfang", "王芳", 4),
                                         ("zhouqiang", "周强", 3), ("sunli", "孙丽", 5)):
            add_member(userid, name, department)
        db.session.commit()
        grant_role(MANAGER, "manager")
        grant_role(COMPLIANCE, "compliance")
        db.session.commit()


def seed_funnel(app):
    """November's cohort: the figures the funnel test expects are worked out by hand in its docstring."""
    seed_branches(app)
    with app.app_context():
        add_contact("wm_c1", "zhangwei", "2026-11-02 10:00", "甲一")
        add_profile("wm_c1", "880000000001", "traded", registered="2026-11-03", opened="2026-11-05",
                    funded="2026-11-06", traded="2026-11-10", last_trade="2026-11-10")
        add_contact("wm_c2", "zhangwei", "2026-11-10 10:00", "甲二")
        add_profile("wm_c2", "880000000002", "opened", registered="2026-11-12", applying="2026-11-15",
                    opened="2026-11-20")
        add_contact("wm_c3", "zhangwei", "2026-11-15 10:00", "甲三")
        add_contact("wm_c4", "zhangwei", "2026-10-01 10:00", "甲四")  # added before the period
        add_profile("wm_c4", "880000000004", "funded", funded="2026-10-05")
        add_contact("wm_c5", "zhangwei", "2026-11-20 10:00", "甲五")
        add_profile("wm_c5", "880000000005", "funded", funded="2026-12-01")  # after the period
        add_contact("wm_c6", "zhangwei", "2026-11-05 10:00", "甲六")
        add_contact("wm_c6", "lina", "2026-11-06 10:00", "甲六")  # lina follows later: zhangwei owns it
        add_contact("wm_l1", "lina", "2026-11-08 10:00", "乙一")
        add_profile("wm_l1", "880000000011", "opened", registered="2026-11-01", opened="2026-11-09")
        add_contact("wm_d1", "lina", "2025-01-01 10:00", "乙沉睡")
        add_profile("wm_d1", "880000000012", "funded", funded="2025-02-01", last_trade="2025-03-01")
        add_contact("wm_w1", "wangfang", "2026-11-03 10:00", "丙一")  # the other branch
        add_profile("wm_w1", "880000000021", "funded", registered="2026-11-04", opened="2026-11-04",
                    funded="2026-11-07")
        db.session.commit()


OTHER_MANAGER = "wangfang"  # made manager of her own 徐汇营业部 (department 4): a member the emulator signs in


def seed_channels(app):
    """The channels that brought November's cohort (on top of seed_funnel): see test_manage_channels."""
    from acquisition_helpers import add_arrival

    with app.app_context():
        add_arrival("地推", "wm_c1", "2026-11-02 09:50")
        add_arrival("地推", "wm_c2", "2026-11-10 09:50")
        add_arrival("直播", "wm_c6", "2026-11-05 09:50")
        add_arrival("地推", "wm_c6", "2026-11-20 09:50", userid="lina")  # a later arrival: not its channel
        add_arrival("直播", "wm_l1", "2026-11-08 09:50", userid="lina")
        add_arrival("直播", "wm_w1", "2026-11-03 09:50", userid="wangfang")  # the other branch
        db.session.commit()
    seed_other_manager(app)


def seed_other_manager(app):
    """A manager of 徐汇营业部 (department 4)."""
    with app.app_context():
        grant_role(OTHER_MANAGER, "manager")
        db.session.commit()
