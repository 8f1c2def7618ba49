"""WeCom's service statistics kept as history (T+1, China days): get_user_behavior_data one advisor at a time
(several userids give one aggregate) and groupchat/statistic per group owner.

Every run looks back LOOKBACK_DAYS and fetches only the days not stored yet, each row committed as it
comes, so a run stopped midway (an outage, a rate limit it could not wait out) is continued by the next
one without a duplicate row, and a day already stored is never asked for again. Calls are paced.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from ..database import upsert
from ..extensions import db
from ..models import CHINA, AdvisorActivity, GroupActivity, china_today
from .pacing import Pacer

LOOKBACK_DAYS = 30  # WeCom answers at most 30 days a query; a longer outage loses the oldest days
MAX_AGE_DAYS = 180  # WeCom keeps 180 days
MAX_OWNERS = 100  # groupchat/statistic's owner_filter
BEHAVIOR_FIELDS = ("chat_cnt", "message_cnt", "negative_feedback_cnt", "new_apply_cnt", "new_contact_cnt")
GROUP_FIELDS = ("new_chat_cnt", "chat_total", "chat_has_msg", "new_member_cnt", "member_total", "member_has_msg",
                "msg_total")


@dataclass
class ActivityResult:
    """What a run stored: rows of advisor days and owner days, and the WeCom calls it made."""

    advisor_days: int = 0
    owner_days: int = 0
    calls: int = 0

    def describe(self):
        """In words, for /console/jobs."""
        return f"顾问日数据 {self.advisor_days} 条，群主日数据 {self.owner_days} 条，调用 {self.calls} 次"


def fetch_activity(wecom, today=None, days=LOOKBACK_DAYS, pace=None):
    """Fetch and store the missing days among the `days` before today (China time); returns an ActivityResult."""
    today = today or china_today()
    wanted = [today - timedelta(days=n) for n in range(min(days, MAX_AGE_DAYS), 0, -1)]  # T+1: yesterday last
    pacer = Pacer(wecom, **({} if pace is None else {"pace": pace}))
    result = ActivityResult()
    advisors = pacer.call(wecom.get_follow_user_list)
    result.calls += 1
    stored = _stored(AdvisorActivity.userid, wanted)
    for userid in advisors:
        for first, last in missing_runs([day for day in wanted if (userid, day) not in stored]):
            _fetch_behavior(wecom, pacer, userid, first, last, result)
    stored = _stored(GroupActivity.owner, wanted)
    for day in wanted:
        owners = [userid for userid in advisors if (userid, day) not in stored]
        for start in range(0, len(owners), MAX_OWNERS):
            _fetch_groups(wecom, pacer, owners[start:start + MAX_OWNERS], day, result)
    return result


def _stored(column, days):
    """(userid, day) pairs already stored for these days."""
    model = column.class_
    return set(db.session.execute(select(column, model.day).where(model.day.between(days[0], days[-1]))).tuples()) \
        if days else set()


def missing_runs(days):
    """Consecutive stretches of the (sorted) days as (first, last): one query each, none over a stored day."""
    runs = []
    for day in days:
        if runs and runs[-1][1] == day - timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [tuple(run) for run in runs]


def epoch(day):
    """The epoch of a China day's midnight, as WeCom's statistics take and give days."""
    return int(datetime(day.year, day.month, day.day, tzinfo=CHINA).timestamp())


def _fetch_behavior(wecom, pacer, userid, first, last, result):
    """One advisor's days from first to last: one call, a row a day (zeros for a day WeCom leaves out)."""
    answer = pacer.call(wecom.get_user_behavior_data, [userid], epoch(first), epoch(last))
    result.calls += 1
    by_day = {datetime.fromtimestamp(item["stat_time"], CHINA).date(): item for item in answer}
    rows = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        item = by_day.get(day, {})
        chats = int(item.get("chat_cnt") or 0)
        rows.append({"userid": userid, "day": day, **{name: int(item.get(name) or 0) for name in BEHAVIOR_FIELDS},
                     # a rate and a time of no chats are no figures: they must not pull an average down
                     "reply_percentage": float(item["reply_percentage"]) if chats and "reply_percentage" in item
                     else None,
                     "avg_reply_time": float(item["avg_reply_time"]) if chats and "avg_reply_time" in item else None})
    result.advisor_days += _insert(AdvisorActivity, rows)


def _fetch_groups(wecom, pacer, owners, day, result):
    """The owners' group figures of one day: one call, a row per owner (zeros for an owner without groups)."""
    items = pacer.call(wecom.group_chat_statistic, owners, epoch(day), epoch(day))
    result.calls += 1
    by_owner = {item["owner"]: item.get("data", {}) for item in items}
    rows = [{"owner": owner, "day": day, **{name: int(by_owner.get(owner, {}).get(name) or 0) for name in GROUP_FIELDS}}
            for owner in owners]
    result.owner_days += _insert(GroupActivity, rows)


def _insert(model, rows):
    """Insert the rows and commit; a row another run stored meanwhile is left as it is. Returns len(rows).

    Boundary: each day's figures are committed as they come, so a run stopped midway keeps the days it fetched.
    """
    if rows:
        db.session.execute(upsert(db.engine, model).values(rows).on_conflict_do_nothing())
        db.session.commit()
    return len(rows)
