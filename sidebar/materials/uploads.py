"""Hostile uploads: size limits before anything is stored, the type decided from the bytes.

Only what WeCom can send is accepted: JPG/PNG images (10 MB), MP4 video (10 MB), and for files
PDF and Office documents (20 MB). Markup (HTML, SVG, XML) and scripts are refused whatever their
name or declared type says. An Office document is a zip: its directory is measured from the end
record before zipfile reads it, so a zip of a million empty entries costs nothing to refuse.
"""
import hashlib
import io
import re
import struct
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
MAX_ENTRIES = 10_000  # a 1,000-slide deck has about 5,000 parts
MAX_DIRECTORY = 2 * MB  # 10,000 directory records of ~200 bytes (46 fixed, the name, extras)
MAX_UNPACKED = 500 * MB  # dense spreadsheet XML packs about 20×: 20 MB → 400 MB; beyond that a zip bomb
END = struct.Struct("<4s4H2LH")  # end of central directory: signature, disks, entries, size, offset, comment
END64_LOCATOR = struct.Struct("<4sLQL")
END64 = struct.Struct("<4sQ2H2L4Q")  # Zip64 end record: entries and size as 8-byte numbers
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
    """A docx/xlsx/pptx from its zip entries; any other zip is refused, an oversized one with its reason."""
    directory = directory_of(data)
    if directory is None:
        return None
    check_directory(*directory)
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError):
        return None
    if sum(info.file_size for info in infos) > MAX_UNPACKED:
        raise UploadRejected(f"文档解压后超过 {MAX_UNPACKED // MB} MB，不像正常的 Office 文档，请检查后重新导出")
    names = [info.filename for info in infos]
    if "[Content_Types].xml" not in names:
        return None
    for prefix, found in OOXML.items():
        if any(name.startswith(prefix) for name in names):
            return found
    return None


def directory_of(data):
    """(entries declared, directory bytes, records counted) of a zip's central directory, or None.

    The end record is found the way zipfile finds it (the last one, and the Zip64 record it points
    to), and the directory is the `size` bytes zipfile will read just before it. Every record zipfile
    accepts starts with PK\\1\\2, so counting those bounds its work even when the end record lies.
    """
    if data[-END.size:-END.size + 4] == b"PK\x05\x06" and data[-2:] == b"\x00\x00":
        end = len(data) - END.size
    else:
        end = data.rfind(b"PK\x05\x06", max(len(data) - END.size - 0xFFFF, 0))
    if end < 0 or end + END.size > len(data):
        return None
    entries, size = END.unpack_from(data, end)[4:6]
    locator = end - END64_LOCATOR.size
    if locator >= END64.size and data[locator:locator + 4] == b"PK\x06\x07":
        record = END64.unpack_from(data, locator - END64.size)
        if record[0] == b"PK\x06\x06":
            end, entries, size = locator - END64.size, record[7], record[8]
    if size > MAX_DIRECTORY:
        return entries, size, 0  # too big to be worth counting
    return entries, size, data.count(b"PK\x01\x02", max(end - size, 0), end)


def check_directory(entries, size, records):
    """Refuse a zip with more entries or a bigger directory than a document has."""
    if max(entries, records) > MAX_ENTRIES or size > MAX_DIRECTORY:
        raise UploadRejected(f"文档内部文件过多（上限 {MAX_ENTRIES:,} 个），不像正常的 Office 文档，请检查后重新导出")


def display_name(filename, extension):
    """The uploader's name, safe to show and to send in a header, ending in the sniffed extension.

    Without folders, control or format (bidi) characters, line separators, or what Windows forbids.
    """
    base = re.split(r"[\\/]", filename or "")[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base)
                   if unicodedata.category(ch)[0] != "C" and ch not in "\u2028\u2029")
    base = re.sub(r'["<>:|?*]', "", base).strip(" .")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{(stem or 'file')[:NAME_MAX]}.{extension}"
