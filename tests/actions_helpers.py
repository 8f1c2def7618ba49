"""Shared set-up of the next-step, reminder and profile-edit tests: clients in each situation, scenes."""
import re
from datetime import datetime, timedelta

from sidebar.extensions import db
from sidebar.materials.scenes import set_scene
from sidebar.models import CHINA, china_today
from sop_helpers import add_client

ADVISOR = "zhangwei"


def days_ago(days):
    """An ISO date `days` before today (China)."""
    return (china_today() - timedelta(days=days)).isoformat()


def in_days(days):
    """A date `days` after today (China)."""
    return china_today() + timedelta(days=days)


def added(days):
    """The China-time 'YYYY-MM-DD HH:MM' of an add `days` ago at noon."""
    return f"{days_ago(days)} 12:00"


# external_userid -> (when added, profile fields or None): one client in each situation of the issue
SITUATIONS = {
    "wmNEXTxProspect": (added(40), None),
    "wmNEXTxApplying1": (added(40), dict(stage="applying", stage_dates={"registered": days_ago(9),
                                                                        "applying": days_ago(6)})),
    "wmNEXTxOpenedNF1": (added(40), dict(stage="opened", stage_dates={"opened": days_ago(5)}, risk_level="C3",
                                         risk_expires=in_days(300))),
    "wmNEXTxDormant01": (added(400), dict(stage="traded", stage_dates={"funded": days_ago(390)}, risk_level="C4",
                                          risk_expires=in_days(300),
                                          last_trade_date=china_today() - timedelta(days=200))),
    "wmNEXTxExpired01": (added(400), dict(stage="traded", risk_level="C3", risk_expires=in_days(-10),
                                          last_trade_date=china_today() - timedelta(days=3))),
    "wmNEXTxExpiring1": (added(400), dict(stage="traded", risk_level="C3", risk_expires=in_days(12),
                                          last_trade_date=china_today() - timedelta(days=3))),
    "wmNEXTxAddedTdy1": (datetime.now(CHINA).strftime("%Y-%m-%d %H:%M"), None),
    "wmNEXTxFreshOpn1": (added(40), dict(stage="opened", stage_dates={"opened": days_ago(1)}, risk_level="C3",
                                         risk_expires=in_days(300))),
}


def seed_situations(app, advisor=ADVISOR):
    """The clients of SITUATIONS, followed by advisor."""
    with app.app_context():
        for external_userid, (when, profile) in SITUATIONS.items():
            add_client(external_userid, advisor, added=when, name="客户" + external_userid[2:6], **(profile or {}))
        db.session.commit()


def scene(app, material_id, key, editor="zhaomin"):
    """Set a material's 用于 scene as the content team would."""
    with app.app_context():
        set_scene(editor, material_id, key)
        db.session.commit()


def next_steps(html):
    """(scene, reason, material title or None) of each 下一步 item of a panel, in order."""
    section = re.search(r'<section class="card next-steps".*?</section>', html, re.S)
    if section is None:
        return []
    items = re.findall(r'<li class="material next-step" data-scene="([a-z_]+)">(.*?)</li>', section.group(0), re.S)
    found = []
    for key, body in items:
        reason = re.search(r'<p class="next-reason">(.*?)</p>', body, re.S).group(1)
        title = re.search(r'<p class="next-material">(.*?)</p>', body, re.S)
        found.append((key, reason, title.group(1) if title else None))
    return found
