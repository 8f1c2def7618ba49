"""Temporary media (media/upload): WeCom's size and format limits, and the 3-day life."""
import secrets
from dataclasses import dataclass

MB = 1024 * 1024
MEDIA_TTL = 3 * 86400
MIN_SIZE = 6  # wecom.md: every file must be over 5 bytes
MAX_SIZE = {"image": 10 * MB, "video": 10 * MB, "file": 20 * MB}
TOO_BIG = {"image": 40009, "video": 40011, "file": 40006}


class MediaRejected(Exception):
    """An upload WeCom would refuse; carries the errcode."""

    def __init__(self, errcode):
        super().__init__(errcode)
        self.errcode = errcode


@dataclass
class Media:
    media_id: str
    type: str
    filename: str
    content_type: str
    data: bytes
    created_at: int

    def alive(self, now):
        """Whether the media_id still works (3 days after upload)."""
        return now < self.created_at + MEDIA_TTL

    def describe(self):
        """What a chat shows about it (everything but the bytes)."""
        return {"media_id": self.media_id, "type": self.type, "filename": self.filename,
                "content_type": self.content_type, "size": len(self.data), "created_at": self.created_at}


def sniff(kind, data):
    """Whether the bytes are in a format WeCom accepts for this kind (JPG/PNG image, MP4 video)."""
    if kind == "image":
        return data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")
    if kind == "video":
        return data[4:8] == b"ftyp"
    return True


def check_upload(kind, data):
    """Raise MediaRejected unless WeCom would take this upload."""
    if kind not in MAX_SIZE:
        raise MediaRejected(40004)
    if len(data) == 0:
        raise MediaRejected(44001)
    if len(data) > MAX_SIZE[kind]:
        raise MediaRejected(TOO_BIG[kind])
    if len(data) < MIN_SIZE:
        raise MediaRejected(40006)
    if not sniff(kind, data):
        raise MediaRejected(40005)


class MediaStore:
    """Uploaded media by media_id. Not locked itself: the emulator holds its one lock."""

    def __init__(self):
        self.items = {}

    def upload(self, kind, filename, content_type, data, now):
        """Store an upload WeCom would accept and return it; expired uploads are dropped."""
        check_upload(kind, data)
        self.items = {k: m for k, m in self.items.items() if m.alive(now)}
        media_id = "3" + secrets.token_urlsafe(40)
        self.items[media_id] = Media(media_id, kind, filename, content_type, data, int(now))
        return self.items[media_id]

    def get(self, media_id, now):
        """The live media with this id, or None."""
        media = self.items.get(media_id)
        return media if media and media.alive(now) else None
