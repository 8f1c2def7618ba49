"""What WeCom keeps of enterprise mass sends (客户群发): the tasks, their recipients, the monthly counts.

The API and the sender's confirmation are in groupmsg.py; this module is data only (the state holds it).
"""
import calendar
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


@dataclass
class Recipient:
    """One client or group of a mass send, through one member: 0 not sent, 1 sent, 2 not a friend, 3 over the cap."""

    userid: str
    target: str
    status: int = 0
    send_time: int = 0


@dataclass
class MassSend:
    """A mass-send task as WeCom keeps it."""

    msgid: str
    chat_type: str
    creator: str
    text: str
    attachments: list
    created: int
    recipients: list = field(default_factory=list)
    sent: dict = field(default_factory=dict)  # userid -> send_time of the member's confirmation
    cancelled: bool = False
    reminds: list = field(default_factory=list)

    def as_json(self):
        """For /_admin/groupmsg and the simulated client."""
        return {"msgid": self.msgid, "chat_type": self.chat_type, "creator": self.creator, "text": self.text,
                "attachments": self.attachments, "created": self.created, "cancelled": self.cancelled,
                "sent": self.sent, "reminds": len(self.reminds),
                "recipients": [vars(r) for r in self.recipients]}


class MassSends:
    """Every mass send and how many each recipient received per month."""

    def __init__(self):
        self.clear()

    def clear(self):
        """Forget mass sends, monthly counts and the cap override."""
        self.items = {}
        self.received = {}  # (target, "YYYY-MM") -> count
        self.cap = None  # None: as many as the month has days

    def cap_for(self, moment):
        """The monthly cap of the month of an epoch time."""
        local = datetime.fromtimestamp(moment, CHINA)
        return self.cap if self.cap is not None else calendar.monthrange(local.year, local.month)[1]

    def pending_for(self, userid):
        """The member's mass sends still waiting for their confirmation, oldest first."""
        return [m for m in self.items.values() if not m.cancelled and userid not in m.sent
                and any(r.userid == userid for r in m.recipients)]


def month_of(moment):
    """'YYYY-MM' of an epoch time, China time."""
    return datetime.fromtimestamp(moment, CHINA).strftime("%Y-%m")
