"""What message/send accepts (wecom.md §5): the message types the sidebar sends, checked like WeCom.

text {content ≤2048 bytes}; textcard {title ≤128 bytes, description ≤512 bytes, url, btntxt ≤4
characters}; template_card {card_type, …} with a task_id for the interactive cards, card_action
for the notices, and at most 6 buttons; markdown, image, file, video and news are accepted as is.
"""
from . import api  # api calls check_message: its ApiError is read when a message is checked
from .chat import is_web_url

CARD_TYPES = ("text_notice", "news_notice", "button_interaction", "vote_interaction", "multiple_interaction")
INTERACTIVE = ("button_interaction", "vote_interaction", "multiple_interaction")
LOOSE = ("markdown", "image", "voice", "video", "file", "news", "mpnews", "miniprogram_notice")


def check_message(body):
    """Raise ApiError unless the body's msgtype is known and its content complete."""
    kind = body.get("msgtype")
    content = body.get(kind) if isinstance(kind, str) else None
    if kind not in ("text", "textcard", "template_card", *LOOSE):
        raise api.ApiError(40008)
    if not isinstance(content, dict):
        raise api.ApiError(40058)
    if kind == "text":
        _text(content)
    elif kind == "textcard":
        _textcard(content)
    elif kind == "template_card":
        _template_card(content)


def _size(value, limit):
    """Whether a value is a non-empty string of at most limit UTF-8 bytes."""
    return isinstance(value, str) and value.strip() != "" and len(value.encode()) <= limit


def _text(content):
    """A text message: its content (44004 when empty)."""
    if not isinstance(content.get("content"), str) or not content["content"].strip():
        raise api.ApiError(44004)
    if len(content["content"].encode()) > 2048:
        raise api.ApiError(40058)


def _textcard(content):
    """A text card: title, description and a web url; an optional button text of up to 4 characters."""
    if not (_size(content.get("title"), 128) and _size(content.get("description"), 512)
            and is_web_url(content.get("url"))):
        raise api.ApiError(40058)
    if "btntxt" in content and not (isinstance(content["btntxt"], str) and len(content["btntxt"]) <= 4):
        raise api.ApiError(40058)


def _template_card(content):
    """A template card: a known card_type; a task_id when interactive, a card_action when a notice."""
    card_type = content.get("card_type")
    if card_type not in CARD_TYPES:
        raise api.ApiError(40058)
    if card_type in INTERACTIVE and not _size(content.get("task_id"), 128):
        raise api.ApiError(40058)
    if card_type in ("text_notice", "news_notice"):
        action = content.get("card_action")
        if not isinstance(action, dict) or action.get("type") not in (1, 2):
            raise api.ApiError(40058)
        if action["type"] == 1 and not is_web_url(action.get("url")):
            raise api.ApiError(40058)
        title = (content.get("main_title") or {}).get("title")
        if card_type == "text_notice" and not (_size(title, 128) or _size(content.get("sub_title_text"), 4096)):
            raise api.ApiError(40058)
    buttons = content.get("button_list") or []
    if card_type == "button_interaction" and not (isinstance(buttons, list) and 1 <= len(buttons) <= 6
                                                  and all(isinstance(b, dict) and b.get("text") and b.get("key")
                                                          for b in buttons)):
        raise api.ApiError(40058)
