"""What a WeCom callback means for the local copy: every event is a "re-fetch this now" trigger.

Callbacks come late, twice, out of order or never; re-fetching the current state makes the order
irrelevant and a repeat harmless. The one thing done before asking WeCom is ending a follow a
delete event names, so that advisor's access goes at once, even if WeCom cannot be reached (a
re-fetch that still lists the relation brings it back).
"""
from dataclasses import dataclass

from ..acquisition import arrival
from ..domain.directory import dismiss_group, end_follows, store_contact, store_group
from ..materials import qualified
from ..models import china_today
from ..wecom import WeComError, errors
from .tags import refresh_corp_tags

CONTACT_EVENT = "change_external_contact"
CHAT_EVENT = "change_external_chat"
TAG_EVENT = "change_external_tag"
ENDING = ("del_follow_user", "del_external_contact")


def handle(wecom, fields, refreshed=None):
    """Apply one decrypted callback; False when it is not an event we act on.

    `refreshed` (a set) lets a drain fetch each contact, group or tag list once per pass: every
    event in the pass was stored before the pass began, so one fetch answers them all.
    """
    event = fields.get("Event")
    if event == CONTACT_EVENT and _text(fields, "ExternalUserID"):
        _contact_event(wecom, fields, refreshed)
    elif event == CHAT_EVENT and _text(fields, "ChatId"):
        _chat_event(wecom, fields, refreshed)
    elif event == TAG_EVENT:
        _once(refreshed, ("tags",), lambda: refresh_corp_tags(wecom))
    else:
        return False
    return True


def _text(fields, name):
    """A field's text, or '' when absent or not plain text."""
    value = fields.get(name)
    return value if isinstance(value, str) else ""


def _contact_event(wecom, fields, refreshed):
    """End the named follow first for a delete, then re-fetch the contact."""
    external_userid, userid = _text(fields, "ExternalUserID"), _text(fields, "UserID")
    if fields.get("ChangeType") in ENDING and userid:
        end_follows(external_userid, userid)
    _once(refreshed, ("contact", external_userid), lambda: refresh_contact(wecom, external_userid))
    if arrival.is_channel_add(fields):  # the welcome went already (a priority task); the channel and its tags now
        arrival.record_add(wecom, fields)


def _chat_event(wecom, fields, refreshed):
    """A dismissed group is marked so; any other change re-fetches the group."""
    chat_id = _text(fields, "ChatId")
    if fields.get("ChangeType") == "dismiss":
        dismiss_group(chat_id)
        return
    _once(refreshed, ("group", chat_id), lambda: _refresh_chat(wecom, chat_id))


def refresh_contact(wecom, external_userid):
    """Store the contact as WeCom has it now; WeCom knowing no relation ends every follow of it."""
    try:
        store_contact(wecom.get_external_contact(external_userid))  # WeCom's error comes before any write
    except WeComError as error:
        if error.errcode not in errors.CONTACT_GONE:
            raise
        end_follows(external_userid)


@dataclass
class GroupRefresh:
    """What re-fetching one group found."""

    group: object  # the stored GroupChat, None when WeCom no longer knows the group
    dismissed: bool  # this refresh marked it dismissed
    arrivals: int  # joins through a channel's code attributed now


def refresh_group(wecom, chat_id, fetch=None, touch=True):
    """Store the group as WeCom has it now and attribute joins through a channel's code (the member's
    `state`); WeCom not knowing it means it was dismissed. One home for the callbacks and the full sync,
    which fetches through its pacer (`fetch`) and does not count its own pass as a change (`touch`)."""
    try:
        data = (fetch or wecom.get_group_chat)(chat_id)  # WeCom's error comes before any write: nothing to undo
    except WeComError as error:
        if error.errcode != errors.GROUP_GONE:
            raise
        return GroupRefresh(None, bool(dismiss_group(chat_id)), 0)
    return GroupRefresh(store_group(data, touch=touch), False, arrival.record_joins(data))


def _refresh_chat(wecom, chat_id):
    """A callback's re-fetch; a member who joined without a matching class lifts a qualified mark."""
    refresh_group(wecom, chat_id)
    qualified.recheck(chat_id, china_today())


def _once(refreshed, key, fetch):
    """Run fetch unless this pass already did it for key."""
    if refreshed is not None and key in refreshed:
        return
    fetch()
    if refreshed is not None:
        refreshed.add(key)
