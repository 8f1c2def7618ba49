"""What an open chat accepts from sendChatMessage (wecom.md §4), and the chats of an advisor."""
import time
from dataclasses import dataclass
from operator import attrgetter
from urllib.parse import urlsplit

MEDIA_KINDS = ("image", "video", "file")


class Refused(Exception):
    """The WeCom client refuses the payload; the message is the err_msg keyword."""


@dataclass
class Chat:
    """One entry of the simulated client's chat list."""

    key: str  # contact:<external_userid>, group:<chat_id> or normal
    entry: str  # what getContext answers
    name: str
    subtitle: str  # beside the name in the header: @微信, @company or the member count
    detail: str  # the grey line under the name in the list
    avatar_id: str
    sort_time: int


def is_web_url(value):
    """Whether a value is an absolute http(s) URL."""
    parts = urlsplit(value) if isinstance(value, str) else None
    return bool(parts and parts.scheme in ("http", "https") and parts.netloc)


def text_of(content, field):
    """A required non-empty string field of a payload part."""
    value = content.get(field)
    if not isinstance(value, str) or not value.strip():
        raise Refused(f"invalid {field}")
    return value


def optional_text(content, field):
    """An optional string field of a payload part."""
    value = content.get(field, "")
    if not isinstance(value, str):
        raise Refused(f"invalid {field}")
    return value


def normalize(message, find_media):
    """The message as the chat shows it, or Refused. find_media(media_id) -> Media or None."""
    msgtype = message.get("msgtype") if isinstance(message, dict) else None
    content = message.get(msgtype) if msgtype else None
    if not isinstance(content, dict):
        raise Refused("invalid msgtype")
    if msgtype == "text":
        return {"msgtype": "text", "text": {"content": text_of(content, "content")}}
    if msgtype in MEDIA_KINDS:
        return media_message(msgtype, text_of(content, "mediaid"), find_media)
    if msgtype == "news":
        return news_message(content)
    if msgtype == "miniprogram":
        return miniprogram_message(content)
    raise Refused("invalid msgtype")


def media_message(kind, media_id, find_media):
    """An image, video or file message: the media_id must be live and of the same kind."""
    media = find_media(media_id)
    if media is None or media.type != kind:
        raise Refused("invalid mediaid")
    return {"msgtype": kind, kind: {"mediaid": media_id}, "media": media.describe()}


def news_message(content):
    """A link card."""
    if not is_web_url(content.get("link")):
        raise Refused("invalid link")
    img_url = optional_text(content, "imgUrl")
    if img_url and not is_web_url(img_url):
        raise Refused("invalid imgUrl")
    news = {"link": content["link"], "title": text_of(content, "title"),
            "desc": optional_text(content, "desc"), "imgUrl": img_url}
    return {"msgtype": "news", "news": news}


def miniprogram_message(content):
    """A mini-program card; its page must end in .html."""
    page = text_of(content, "page")
    if not page.split("?")[0].endswith(".html"):
        raise Refused("invalid page")
    if not is_web_url(content.get("imgUrl")):
        raise Refused("invalid imgUrl")
    card = {"appid": text_of(content, "appid"), "title": text_of(content, "title"),
            "imgUrl": content["imgUrl"], "page": page}
    return {"msgtype": "miniprogram", "miniprogram": card}


def chats_of(world, userid, now):
    """The advisor's chat list: the workbench entry, groups, then contacts, most recent first."""
    groups = [Chat(f"group:{g.chat_id}", "group_chat_tools", g.name, f"{len(g.members)} 人",
                   f"外部群 · {len(g.members)} 人", g.chat_id, g.create_time) for g in world.groups_of(userid)]
    contacts = [contact_chat(world, world.follows[(userid, ext)], now) for ext in world.contacts_of(userid)]
    workbench = Chat("normal", "normal", "工作台（非聊天）", "", "在聊天之外打开侧边栏应用", "", 0)
    recent = attrgetter("sort_time")
    return [workbench, *sorted(groups, key=recent, reverse=True), *sorted(contacts, key=recent, reverse=True)]


def contact_chat(world, relation, now):
    """A 1:1 chat entry named like WeCom does: remark or name, then @微信 or @company."""
    person = world.externals[relation.external_userid]
    suffix = "@微信" if person.type == 1 else f"@{person.corp_name}"
    name = relation.remark or person.name
    detail = " · ".join(filter(None, [added_text(relation.createtime, now), relation.description]))
    return Chat(f"contact:{person.external_userid}", "single_chat_tools", name, suffix, detail,
                person.external_userid, relation.createtime)


def added_text(createtime, now):
    """When the contact was added, as the chat list says it: 今天, N 天前, or the date."""
    days = int((now - createtime) // 86400)
    if days < 1:
        return "今天添加"
    if days < 30:
        return f"{days} 天前添加"
    return time.strftime("%Y-%m-%d 添加", time.localtime(createtime))
