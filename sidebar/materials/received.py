"""What a client receives when a version of a material is shared, for previews (console and sidebar).

The same message sharing.build_message sends, described without asking WeCom for a media_id:
tests/test_console_received.py shares through the emulator and compares.
"""
from dataclasses import dataclass

from .media import sent_name

KIND_OF_MESSAGE = {"text": "text", "image": "image", "video": "video", "file": "file", "link": "news",
                   "miniprogram": "miniprogram"}


@dataclass
class Received:
    """One shared message as the client's WeChat shows it, and the disclaimer sent after it."""

    kind: str  # text, image, video, file, news, miniprogram
    title: str
    text: str | None  # a text message's whole content
    desc: str | None  # a link card's description
    picture: bool  # a poster or a card's cover is shown
    file_name: str | None  # the name the file reaches the chat with (its title, not the uploaded name)
    file_size: str | None  # "1.2 MB", as WeChat writes it under a file
    follow_up: str | None


def received_of(version):
    """The message a client receives for this version (the disclaimer of a product follows it)."""
    kind = version.material.kind
    disclaimer = version.disclaimer if version.risk_level else None
    text = version.body + (f"\n\n{disclaimer}" if disclaimer else "") if kind == "text" else None
    desc = " ".join(filter(None, [version.summary, disclaimer])) if kind == "link" else None
    picture = bool(version.file_sha) if kind == "image" else bool(version.cover_sha)
    stored = version.file if kind in ("image", "video", "file") else None
    return Received(kind=KIND_OF_MESSAGE[kind], title=version.title, text=text, desc=desc, picture=picture,
                    file_name=sent_name(version.title, stored) if stored else None,
                    file_size=size_label(stored.size) if stored else None,
                    follow_up=disclaimer if kind not in ("text", "link") else None)


def size_label(size):
    """Bytes as WeChat writes a file's size: 980 B, 34.5 KB, 1.2 MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"
