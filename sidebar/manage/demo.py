"""The demo's workbench: the recent steps spread over their days (so "the same time yesterday" means
something), a few accounts opened this morning, and a thread that opens one more every few minutes, through
the real import, so the live page moves while you watch."""
import hashlib
import logging
import threading
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import select

from ..extensions import db, wecom
from ..models import CHINA, ClientProfile, Follow, JourneyEvent, utcnow
from ..sync import full
from ..sync.profiles import import_profiles
from ..transactions import unit_of_work

log = logging.getLogger(__name__)
DEMO_ACCOUNT = "8877"  # accounts the demo opens: never among demo_data's 8800…/8899…
MORNING_OPENINGS = 4
EVERY = timedelta(minutes=3)
RECENT_DAYS = 8  # yesterday and a week ago are compared with today
JUST_IMPORTED = timedelta(minutes=10)


def seed_manage(now=None):
    """Spread the times of the recent steps the demo import just recorded over their days (at start)."""
    now = now or datetime.now(CHINA)
    today = now.date()
    since = utcnow() - JUST_IMPORTED
    for event in db.session.scalars(select(JourneyEvent).where(JourneyEvent.day >= today - timedelta(days=RECENT_DAYS),
                                                               JourneyEvent.recorded_at >= since)):
        event.recorded_at = _time_of_day(event, now)
    db.session.flush()


def _time_of_day(event, now):
    """A steady time between 09:00 and 17:00 of the step's day (naive UTC), never later than now."""
    minutes = int(hashlib.sha256(f"{event.account_id}{event.kind}".encode()).hexdigest(), 16) % 480
    moment = datetime.combine(event.day, time(9), CHINA) + timedelta(minutes=minutes)
    return min(moment, now - timedelta(minutes=1)).astimezone(timezone.utc).replace(tzinfo=None)


def open_one(world, now=None):
    """Open an account for the next contact who has none (else fund one the demo opened); its account id or None."""
    now = now or datetime.now(CHINA)
    today = now.date()
    have = set(db.session.scalars(select(ClientProfile.unionid).where(ClientProfile.unionid.is_not(None))))
    have |= set(db.session.scalars(select(ClientProfile.external_userid).where(ClientProfile.external_userid.is_not(None))))
    fresh = [c for c in world["contacts"] if c.get("unionid") and not {c["unionid"], c["external_userid"]} & have]
    if fresh:
        contact = fresh[0]
        row = {"account_id": _account_of(contact["unionid"]), "unionid": contact["unionid"], "name": contact["name"],
               "stage": "opened", "stage_dates": {"registered": (today - timedelta(days=3)).isoformat(),
                                                  "applying": (today - timedelta(days=1)).isoformat(),
                                                  "opened": today.isoformat()}}
    else:
        profile = db.session.scalar(select(ClientProfile).where(ClientProfile.account_id.startswith(DEMO_ACCOUNT),
                                                                ClientProfile.stage == "opened").limit(1))
        if profile is None:
            return None
        row = {"account_id": profile.account_id, "unionid": profile.unionid, "name": profile.name, "stage": "funded",
               "stage_dates": {**profile.stage_dates, "funded": today.isoformat()}, "total_assets": 50000}
    import_profiles([row], today=today)
    return row["account_id"]


def _account_of(unionid):
    """A steady 12-digit demo account id for a contact."""
    return DEMO_ACCOUNT + str(int(hashlib.sha256(unionid.encode()).hexdigest(), 16))[:8]


def prepare_morning(world, now=None):
    """Contacts from WeCom once (the nightly sync may not have run yet), and this morning's openings once."""
    now = now or datetime.now(CHINA)
    if db.session.scalar(select(Follow.id).limit(1)) is None:
        full.sync(wecom())
    opened_today = db.session.scalar(select(JourneyEvent.id).where(
        JourneyEvent.account_id.startswith(DEMO_ACCOUNT), JourneyEvent.kind == "opened",
        JourneyEvent.day == now.date()).limit(1))
    if opened_today is None:
        for _ in range(MORNING_OPENINGS):
            open_one(world, now)
        seed_manage(now)


def start_demo_openings(app, world, every=EVERY, after=None):
    """A daemon thread: the morning first (once the thread `after`, the first sync, is done), then one opening
    every few minutes; returns its stop event."""
    stop = threading.Event()

    def run():
        if after is not None:
            after.join()
        with app.app_context():
            _safely(prepare_morning, world)
        while not stop.wait(every.total_seconds()):
            with app.app_context():
                _safely(open_one, world)

    threading.Thread(target=run, name="demo-openings", daemon=True).start()
    return stop


def _safely(work, *args):
    """Run one step of the demo, a unit of work of its own; a failure is logged and the next turn tries again."""
    try:
        unit_of_work(work, *args)
    except Exception:  # noqa: BLE001 - the demo must keep moving whatever one turn met
        log.exception("demo openings: %s failed", work.__name__)
