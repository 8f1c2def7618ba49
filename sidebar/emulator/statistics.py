"""The department tree and WeCom's service statistics (wecom.md §5): get_user_behavior_data per member and
groupchat/statistic per group owner, derived from the world (follows added that day, group joins) plus a
deterministic hash of member and day for what the world does not record (chats, messages, reply times)."""
import hashlib
from datetime import datetime, timedelta, timezone

from .api import ApiError, endpoint

CHINA = timezone(timedelta(hours=8))
DAY = 86400
MAX_SPAN_DAYS = 30  # WeCom: a query covers at most 30 days…
MAX_AGE_DAYS = 180  # …within the last 180
MAX_IDS = 100
MAX_GROUP_LIMIT = 1000
INVALID = 40058  # invalid Request Parameter: the emulator's answer to a span or an age beyond the rules


@endpoint("department/list")
def list_departments(state, call):
    """The whole tree, or the department `id` and every department below it."""
    departments = list(state.world.departments.values())
    wanted = call.query.get("id")
    if wanted:
        if not wanted.isdigit() or int(wanted) not in state.world.departments:
            raise ApiError(60123)  # invalid party id
        below = {int(wanted)}
        for _ in departments:  # a tree is at most as deep as it has departments
            below |= {d.id for d in departments if d.parentid in below}
        departments = [d for d in departments if d.id in below]
    return {"department": [{"id": d.id, "name": d.name, "parentid": d.parentid, "order": d.id,
                            "department_leader": leaders(state.world, d.id)} for d in departments]}


def leaders(world, department_id):
    """The seed's managers of the department."""
    return [s.userid for s in world.staff.values() if s.role == "manager" and department_id in s.department]


@endpoint("externalcontact/get_user_behavior_data", "POST")
def user_behavior_data(state, call):
    """One entry per day of the span: the members' figures added together (one aggregate, like WeCom)."""
    userids, parties = call.body.get("userid") or [], call.body.get("partyid") or []
    if not isinstance(userids, list) or not isinstance(parties, list) or len(userids) > MAX_IDS \
            or len(parties) > MAX_IDS or not (userids or parties):
        raise ApiError(INVALID)
    for userid in userids:
        state.world.staff_member(userid)
    # a department's members count once, also when named by userid too
    userids = list(dict.fromkeys([*userids, *(s.userid for s in state.world.staff.values()
                                              if set(s.department) & set(parties))]))
    days = span_days(call.body.get("start_time"), call.body.get("end_time"), state.now())
    return {"behavior_data": [behavior(state.world, userids, day) for day in days]}


@endpoint("externalcontact/groupchat/statistic", "POST")
def group_statistic(state, call):
    """Per owner, their groups' figures over the span (each day's figures added up)."""
    body = call.body
    days = span_days(body.get("day_begin_time"), body.get("day_end_time") or body.get("day_begin_time"), state.now())
    limit = body.get("limit", 500)
    offset = body.get("offset", 0)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_GROUP_LIMIT or not isinstance(offset, int) or offset < 0:
        raise ApiError(INVALID)
    owners = (body.get("owner_filter") or {}).get("userid_list") or []
    if len(owners) > MAX_IDS:
        raise ApiError(INVALID)
    groups = list(state.world.groups.values())
    if not owners:
        owners = sorted({g.owner for g in groups})
        if len(owners) > MAX_GROUP_LIMIT:
            raise ApiError(81017)
    items = [{"owner": owner, "data": owner_figures([g for g in groups if g.owner == owner], days)}
             for owner in owners if any(g.owner == owner for g in groups)]
    return {"total": len(items), "next_offset": offset + limit, "items": items[offset:offset + limit]}


def span_days(start, end, now):
    """The China days (epoch of their midnight) from start to end; 40058 beyond 30 days or 180 days back."""
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in (start, end)) or end < start:
        raise ApiError(INVALID)
    first, last = midnight(start), midnight(end)
    if (last - first) // DAY >= MAX_SPAN_DAYS or first < midnight(now) - MAX_AGE_DAYS * DAY:
        raise ApiError(INVALID)
    return range(first, last + 1, DAY)


def midnight(epoch):
    """The epoch of the China midnight starting the day of epoch."""
    day = datetime.fromtimestamp(epoch, CHINA).date()
    return int(datetime(day.year, day.month, day.day, tzinfo=CHINA).timestamp())


def noise(*parts):
    """A stable pseudo-random number in [0, 1) for these parts."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def behavior(world, userids, day):
    """The members' figures of one day, added up; reply rate and time weighted by chats."""
    figures = [member_day(world, userid, day) for userid in userids]
    chats = sum(f["chat_cnt"] for f in figures)
    total = {"stat_time": day, **{key: sum(f[key] for f in figures) for key in
                                  ("chat_cnt", "message_cnt", "negative_feedback_cnt", "new_apply_cnt",
                                   "new_contact_cnt")}}
    total["reply_percentage"] = round(sum(f["reply_percentage"] * f["chat_cnt"] for f in figures) / chats, 2) \
        if chats else 0
    total["avg_reply_time"] = round(sum(f["avg_reply_time"] * f["chat_cnt"] for f in figures) / chats) \
        if chats else 0
    return total


def member_day(world, userid, day):
    """One member's day: new contacts are the follows the world says were added that day."""
    with world.lock:
        relations = [world.follows[(userid, e)] for e in world.contacts_of(userid)]
    known = sum(1 for r in relations if r.createtime < day + DAY)
    added = sum(1 for r in relations if day <= r.createtime < day + DAY)
    weekend = datetime.fromtimestamp(day, CHINA).weekday() >= 5
    chats = int((known * 0.15 + 2) * (0.4 if weekend else 1) * (0.5 + noise(userid, day, "chat")))
    return {"chat_cnt": chats, "message_cnt": int(chats * (2 + 5 * noise(userid, day, "msg"))),
            "reply_percentage": round(55 + 45 * noise(userid, day, "reply"), 2) if chats else 0,
            "avg_reply_time": 1 + int(40 * noise(userid, day, "time") ** 2) if chats else 0,
            "negative_feedback_cnt": int(noise(userid, day, "lost") < 0.08),
            "new_apply_cnt": added + int(noise(userid, day, "apply") < 0.2), "new_contact_cnt": added}


def owner_figures(groups, days):
    """An owner's groups' figures over the days, each day's added up."""
    totals = dict.fromkeys(("new_chat_cnt", "chat_total", "chat_has_msg", "new_member_cnt", "member_total",
                            "member_has_msg", "msg_total"), 0)
    for day in days:
        live = [g for g in groups if g.create_time < day + DAY]
        members = [m for g in live for m in g.members if m.join_time < day + DAY]
        active = [g for g in live if noise(g.chat_id, day, "active") < 0.7]
        speaking = int(len(members) * 0.1 * noise(day, "speak", *[g.chat_id for g in live]))
        totals["new_chat_cnt"] += sum(1 for g in live if g.create_time >= day)
        totals["chat_total"] += len(live)
        totals["chat_has_msg"] += len(active)
        totals["new_member_cnt"] += sum(1 for m in members if m.join_time >= day)
        totals["member_total"] += len(members)
        totals["member_has_msg"] += speaking
        totals["msg_total"] += speaking * (1 + int(4 * noise(day, "msgs", len(members))))
    return totals
