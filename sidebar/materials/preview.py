"""Before sending: what the client will receive from a material in this chat, and whether it was sent here.

The preview is built from the same approved version the share would send and drawn by the console's
partial (templates/materials/_received.html, from received.received_of), and says why it would be
blocked, by the rule the share applies.
"""
from dataclasses import dataclass
from datetime import timedelta

from ..models import utcnow
from .audience import audience_for
from .library import last_sent
from .sharing import _live_version, blocking_reason

ASK_AGAIN_WITHIN = timedelta(days=1)  # sending the same material to the same chat again this soon asks first


@dataclass
class Preview:
    """A material as the chat would receive it."""

    material: object
    version: object
    audience: object
    blocked: str | None  # the reason the share would be refused, or None
    sent_at: object  # when it last reached this chat (UTC), or None

    @property
    def ask_again(self):
        """Sent here within a day: the page asks before sending again."""
        return sent_recently(self.sent_at)


def sent_recently(sent_at):
    """Whether a material that reached the chat at sent_at (UTC) did so within ASK_AGAIN_WITHIN."""
    return bool(sent_at and utcnow() - sent_at < ASK_AGAIN_WITHIN)


def preview(wecom, advisor, material_id, target, today):
    """The preview for the chat `target`; NotVisible when the chat or material is not the advisor's to see."""
    audience = audience_for(wecom, advisor, target, today)
    material, version = _live_version(material_id)
    return Preview(material, version, audience,
                   blocked=blocking_reason(material, version, audience, today),
                   sent_at=last_sent(audience, [material.id]).get(material.id))
