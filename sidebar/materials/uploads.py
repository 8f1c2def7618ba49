"""Hostile uploads: size limits before anything is stored, the type decided from the bytes.

Only what WeCom can send is accepted: JPG/PNG images (10 MB), MP4 video (10 MB), and for files
PDF and Office documents (20 MB). Markup (HTML, SVG, XML) and scripts are refused whatever their
name or declared type says.
"""
import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

MB = 1024 * 1024
LIMITS = {"image": 10 * MB, "video": 10 * MB, "file": 20 * MB}
MIN_SIZE = 6  # WeCom: every media file is over 5 bytes
NAME_MAX = 80
OOXML = {"word/": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
         "xl/": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
         "ppt/": ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation")}
KIND_WORDS = {"image": "图片", "video": "视频", "file": "文件"}
ACCEPTED = {"image": "JPG 或 PNG 图片", "video": "MP4 视频", "file": "PDF 或 Office 文档（docx/xlsx/pptx）"}


class UploadRejected(Exception):
    """The upload is refused; the message is for the uploader. status: 400, or 413 when too big."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


@dataclass
class Upload:
    """An accepted upload: its bytes, digest, type from the bytes, and a safe display name."""

    data: bytes
    sha256: str
    content_type: str
    extension: str
    name: str


def read_limited(stream, kind):
    """Read at most the kind's limit; one byte more means too big, and nothing is kept."""
    limit = LIMITS[kind]
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise UploadRejected(f"{KIND_WORDS[kind]}不能超过 {limit // MB} MB", status=413)
    return data


def accept(kind, filename, stream):
    """Check an uploaded file of a kind (image, video, file) and return it as an Upload."""
    data = read_limited(stream, kind)
    if len(data) < MIN_SIZE:
        raise UploadRejected("文件为空或过小")
    if looks_like_markup_or_script(data):
        raise UploadRejected("不接受 HTML、SVG、XML 或脚本文件")
    sniffed = sniff(kind, data)
    if sniffed is None:
        raise UploadRejected(f"{KIND_WORDS[kind]}格式不支持：请上传{ACCEPTED[kind]}（以文件内容判断，不看文件名）")
    extension, content_type = sniffed
    return Upload(data=data, sha256=hashlib.sha256(data).hexdigest(), content_type=content_type,
                  extension=extension, name=display_name(filename, extension))


def looks_like_markup_or_script(data):
    """Text that a browser could run or render: markup, or a script with a shebang."""
    head = data[:512].lstrip(b"\xef\xbb\xbf\xff\xfe\xfe\xff \t\r\n\x00")
    return head.startswith((b"<", b"#!"))


def sniff(kind, data):
    """(extension, content type) from the magic numbers, if the bytes are a format of this kind."""
    if kind == "image":
        if data.startswith(b"\xff\xd8\xff"):
            return "jpg", "image/jpeg"
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            return "png", "image/png"
    elif kind == "video":
        if data[4:8] == b"ftyp" and data[8:12] != b"qt  ":  # an ISO-BMFF (MP4) box, not QuickTime
            return "mp4", "video/mp4"
    elif kind == "file":
        if data.startswith(b"%PDF-"):
            return "pdf", "application/pdf"
        if data.startswith(b"PK\x03\x04"):
            return office_type(data)
    return None


def office_type(data):
    """A docx/xlsx/pptx from its zip entries; any other zip is refused."""
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    for prefix, found in OOXML.items():
        if any(name.startswith(prefix) for name in names):
            return found
    return None


def display_name(filename, extension):
    """The uploader's name without folders or control characters, ending in the sniffed extension."""
    base = re.split(r"[\\/]", filename or "")[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    base = re.sub(r'["<>:|?*]', "", base).strip(" .")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{(stem or 'file')[:NAME_MAX]}.{extension}"
