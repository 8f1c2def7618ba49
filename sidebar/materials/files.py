"""Serving stored files: the type we decided at upload, never sniffed, never run, never publicly cached."""
import io
import unicodedata
from urllib.parse import quote

from flask import send_file
from werkzeug.http import dump_options_header

from ..extensions import db
from ..models import StoredFile
from .uploads import display_name

FILE_CSP = "default-src 'none'; sandbox"  # a PDF viewer or image shown alone runs nothing of ours
ATTR_CHARS = "!#$&+-.^_`|~"  # RFC 5987 attr-char besides letters and digits: left as they are in filename*


def stored_file(sha256):
    """The StoredFile row, or None."""
    return db.session.get(StoredFile, sha256) if sha256 else None


def send_stored(storage, stored, name, inline=False, max_age=None):
    """A response with the file's bytes: nosniff, a sandbox CSP, a clean Content-Disposition.

    Kept by the viewer's own browser for max_age seconds at most, never by a cache on the way
    (werkzeug would mark it `public`); without max_age not kept at all.
    """
    response = send_file(io.BytesIO(storage.get(stored.sha256)), mimetype=stored.content_type, etag=stored.sha256)
    response.headers["Cache-Control"] = f"private, max-age={max_age}" if max_age else "private, no-store"
    response.headers["Content-Disposition"] = content_disposition("inline" if inline else "attachment",
                                                                  display_name(name, stored.extension))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = FILE_CSP
    return response


def content_disposition(kind, name):
    """The header for a clean name: ASCII as it is, else an ASCII fallback and the name as filename*."""
    if name.isascii():
        return dump_options_header(kind, {"filename": name})
    stem, extension = name.rsplit(".", 1)
    fallback = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode().strip(" .") or "file"
    return dump_options_header(kind, {"filename": f"{fallback}.{extension}",
                                      "filename*": "UTF-8''" + quote(name, safe=ATTR_CHARS)})
