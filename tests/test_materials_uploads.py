"""Uploads are hostile: limits before storing, type from the bytes, no markup, hashed names, clean failures."""
import hashlib
import io
import os

import pytest

from helpers import signed_in, upload
from sidebar.extensions import db
from sidebar.materials import samples
from sidebar.models import Material, StoredFile

MB = 1024 * 1024
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><html><body><script>fetch('/console/audit')</script></body></html>"


@pytest.fixture
def editor(library_app):
    return signed_in(library_app, "zhaomin")


def stored_files(app):
    """Every file under the upload folder."""
    root = app.config["SIDEBAR_UPLOAD_DIR"]
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]


def nothing_stored(app):
    """No material row, no file row, no file on disk."""
    with app.app_context():
        rows = db.session.scalar(db.select(db.func.count(Material.id))), \
            db.session.scalar(db.select(db.func.count(StoredFile.sha256)))
    return rows == (0, 0) and stored_files(app) == []


def test_a_png_poster_is_stored_under_its_hash_outside_static_and_served_safely(library_app, editor):
    data = samples.png()
    response = upload(editor, "image", data, "海报.png", "image/png")
    assert response.status_code == 303
    digest = hashlib.sha256(data).hexdigest()
    [path] = stored_files(library_app)
    assert os.path.basename(path) == digest
    assert not os.path.abspath(path).startswith(os.path.abspath(library_app.static_folder))
    served = editor.get(f"/console/files/{digest}")
    assert served.data == data
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"].startswith("inline")
    assert "sandbox" in served.headers["Content-Security-Policy"]


@pytest.mark.parametrize("kind,data,name,mimetype,reason", [
    ("image", HTML, "poster.png", "image/png", "不接受 HTML、SVG、XML 或脚本文件"),
    ("image", SVG, "poster.svg", "image/svg+xml", "不接受 HTML、SVG、XML 或脚本文件"),
    ("link", SVG, "cover.png", "image/png", "不接受 HTML、SVG、XML 或脚本文件"),
    ("file", HTML, "report.pdf", "application/pdf", "不接受 HTML、SVG、XML 或脚本文件"),
    ("file", b"\xef\xbb\xbf  \n<html><script>x</script>", "report.pdf", "application/pdf", "不接受"),
    ("file", b"#!/bin/sh\nrm -rf /\n", "run.pdf", "application/pdf", "不接受"),
    ("image", samples.pdf(), "poster.png", "image/png", "图片格式不支持"),
    ("file", b"MZ\x90\x00" + b"\x00" * 200, "setup.pdf", "application/pdf", "文件格式不支持"),
    ("video", b"\x00\x00\x00\x14ftypqt  " + b"\x00" * 100, "clip.mp4", "video/mp4", "视频格式不支持"),
    ("image", b"\x89PN", "tiny.png", "image/png", "文件为空或过小"),
])
def test_hostile_or_wrong_files_are_refused_by_their_bytes_and_nothing_is_kept(
        library_app, editor, kind, data, name, mimetype, reason):
    response = upload(editor, kind, data, name, mimetype)
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    assert nothing_stored(library_app)


@pytest.mark.parametrize("kind,limit", [("image", 10 * MB), ("video", 10 * MB), ("file", 20 * MB)])
def test_files_over_the_wecom_limit_answer_413_and_nothing_is_kept(library_app, editor, kind, limit):
    head = {"image": samples.png(), "video": samples.mp4(), "file": samples.pdf()}[kind]
    response = upload(editor, kind, head + b"\x00" * (limit + 1 - len(head)), "big.bin")
    assert response.status_code == 413
    assert "不能超过" in response.get_data(as_text=True)
    assert nothing_stored(library_app)


def test_a_file_at_the_limit_is_accepted(library_app, editor):
    data = samples.pdf() + b"\x00" * (20 * MB - len(samples.pdf()))
    assert upload(editor, "file", data, "full.pdf", "application/pdf").status_code == 303


def test_a_request_body_over_the_form_limit_stops_at_413(library_app, editor):
    data = samples.pdf() + b"\x00" * (32 * MB)
    assert upload(editor, "file", data, "huge.pdf", "application/pdf").status_code == 413
    assert nothing_stored(library_app)


@pytest.mark.parametrize("name,shown", [
    ("../../../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\windows\\system32\\evil.pdf", "evil.pdf"),  # the multipart parser may unescape the backslashes
    ("/var/www/static/x.html", "x.pdf"),
    ('报告"\r\n<script>.exe', "报告"),
])
def test_path_traversal_names_only_name_the_download(library_app, editor, name, shown):
    data = samples.pdf()
    assert upload(editor, "file", data, name, "application/pdf").status_code == 303
    [path] = stored_files(library_app)
    assert os.path.commonpath([path, library_app.config["SIDEBAR_UPLOAD_DIR"]]) == library_app.config["SIDEBAR_UPLOAD_DIR"]
    with library_app.app_context():
        material = db.session.scalar(db.select(Material))
        name = material.head.file_name
        assert shown in name and name.endswith(".pdf") and not set(name) & set("/\\\r\n\"<>") and ".." not in name
    served = editor.get(f"/console/files/{hashlib.sha256(data).hexdigest()}", query_string={"name": name})
    disposition = served.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "\r" not in disposition and "\n" not in disposition and "/" not in disposition
    assert served.headers["Content-Type"] == "application/pdf"


def test_a_valid_file_with_an_invalid_form_leaves_no_file_behind(library_app, editor):
    response = upload(editor, "image", samples.png(), "ok.png", "image/png", title="")
    assert response.status_code == 400
    assert nothing_stored(library_app)


def test_office_documents_are_accepted_other_zips_are_not(library_app, editor):
    import zipfile

    def zipped(names):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for entry in names:
                archive.writestr(entry, "<x/>")
        return buffer.getvalue()

    assert upload(editor, "file", zipped(["payload/index.html"]), "deck.pptx").status_code == 400
    assert upload(editor, "file", zipped(["[Content_Types].xml", "ppt/presentation.xml"]), "deck.zip").status_code == 303
    with library_app.app_context():
        stored = db.session.scalar(db.select(StoredFile))
        assert stored.extension == "pptx"


def test_the_same_bytes_uploaded_twice_are_stored_once(library_app, editor):
    data = samples.png()
    assert upload(editor, "image", data, "a.png").status_code == 303
    assert upload(editor, "image", data, "b.png").status_code == 303
    assert len(stored_files(library_app)) == 1


def test_an_upload_folder_inside_static_is_refused_at_start(tmp_path, emulator):
    from helpers import make_app
    from sidebar.config import ConfigError

    with pytest.raises(ConfigError, match="SIDEBAR_UPLOAD_DIR"):
        make_app(tmp_path / "x.db", emulator.url,
                 SIDEBAR_UPLOAD_DIR=os.path.join(os.path.dirname(__file__), "..", "static", "uploads"))


OFFICE_PARTS = ["[Content_Types].xml", "word/document.xml"]


def crafted_zip(records, entries=None, unpacked=0, zip64=False):
    """A zip of empty entries written by hand, as small as its directory: every record points at one local header.

    records: the directory's names; entries: what the end record declares (the true count unless a lie is
    wanted); unpacked: the size each record declares unpacked; zip64: the counts in a Zip64 end record.
    """
    import struct

    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 33, 0, 0, 0, 1, 0) + b"x"
    directory = b"".join(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 33, 0, 0, unpacked,
                                     len(name.encode()), 0, 0, 0, 0, 0, 0) + name.encode() for name in records)
    entries = len(records) if entries is None else entries
    tail = b""
    if zip64:
        at = len(local) + len(directory)
        tail = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, len(directory),
                           len(local)) + struct.pack("<4sLQL", b"PK\x06\x07", 0, at, 1)
        entries, size, offset = 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF
    else:
        size, offset = len(directory), len(local)
    return local + directory + tail + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, min(entries, 0xFFFF),
                                                  min(entries, 0xFFFF), size, offset, 0)


def numbered(count):
    """The Office parts and empty entries up to count records."""
    return OFFICE_PARTS + [f"e/{index:x}" for index in range(count - len(OFFICE_PARTS))]


def test_a_zip_of_two_hundred_thousand_entries_is_refused_from_its_end_record(library_app, editor):
    data = crafted_zip(numbered(200_000))
    assert len(data) < 11 * MB, "small on disk: the directory is the whole file"
    response = upload(editor, "file", data, "年报.docx")
    assert response.status_code == 400
    assert "文档内部文件过多（上限 10,000 个）" in response.get_data(as_text=True)
    assert nothing_stored(library_app)


@pytest.mark.parametrize("data,reason", [
    (crafted_zip(numbered(10_001)), "文档内部文件过多"),
    (crafted_zip(numbered(10_001), entries=2), "文档内部文件过多"),  # the end record lies: the records count
    (crafted_zip(numbered(70_000), zip64=True), "文档内部文件过多"),
    (crafted_zip(OFFICE_PARTS + ["word/media/a.bin"], unpacked=200 * MB), "文档解压后超过 500 MB"),
], ids=["one-over", "lying-end-record", "zip64", "bomb"])
def test_zips_bigger_than_a_document_are_refused_with_the_reason(library_app, editor, data, reason):
    response = upload(editor, "file", data, "deck.docx")
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    assert nothing_stored(library_app)


@pytest.mark.parametrize("zip64", [False, True])
def test_a_document_of_ten_thousand_parts_is_accepted(library_app, editor, zip64):
    assert upload(editor, "file", crafted_zip(numbered(10_000), zip64=zip64), "big.docx").status_code == 303
    with library_app.app_context():
        assert db.session.scalar(db.select(StoredFile.extension)) == "docx"


@pytest.mark.parametrize("asked,saved", [
    ("../../etc/研报.pdf", "研报.pdf"),
    ("C:\\Users\\x\\季报.exe", "季报.pdf"),
    ("invoice\u202efdp.exe", "invoicefdp.pdf"),  # RLO would show it as invoiceexe.pdf
    ("a\u2066b\u200fc\u2028d.pdf", "abcd.pdf"),
    ("长" * 300 + ".pdf", "长" * 80 + ".pdf"),
])
def test_the_name_a_file_is_served_under_is_cleaned(library_app, editor, asked, saved):
    from werkzeug.http import parse_options_header

    data = samples.pdf()
    assert upload(editor, "file", data, "note.pdf", "application/pdf").status_code == 303
    served = editor.get(f"/console/files/{hashlib.sha256(data).hexdigest()}", query_string={"name": asked})
    assert served.status_code == 200
    header = served.headers["Content-Disposition"]
    assert header.isascii() and "\r" not in header and "\n" not in header
    assert parse_options_header(header) == ("attachment", {"filename": saved}), "what the browser saves"


def test_a_name_with_a_line_break_is_refused_before_it_reaches_a_header(library_app, editor):
    data = samples.pdf()
    assert upload(editor, "file", data, "note.pdf", "application/pdf").status_code == 303
    served = editor.get(f"/console/files/{hashlib.sha256(data).hexdigest()}",
                        query_string={"name": "report\r\nSet-Cookie: session=x.pdf"})
    assert served.status_code == 400 and "Content-Disposition" not in served.headers
    assert not any("session=x" in value for value in served.headers.getlist("Set-Cookie"))


def test_a_chinese_name_has_an_ascii_fallback_beside_filename_star(library_app, editor):
    data = samples.pdf()
    upload(editor, "file", data, "note.pdf", "application/pdf")
    served = editor.get(f"/console/files/{hashlib.sha256(data).hexdigest()}", query_string={"name": "研报.pdf"})
    assert served.headers["Content-Disposition"] == \
        "attachment; filename=file.pdf; filename*=UTF-8''%E7%A0%94%E6%8A%A5.pdf", "not the hidden file .pdf"


def test_console_files_are_never_kept_by_a_cache(library_app, editor):
    data = samples.png()
    upload(editor, "image", data, "draft.png", "image/png")
    served = editor.get(f"/console/files/{hashlib.sha256(data).hexdigest()}")
    assert served.status_code == 200
    assert served.headers["Cache-Control"] == "private, no-store", "a draft is not for any cache, shared or not"
