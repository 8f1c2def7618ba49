"""Serving stored files: the type we decided at upload, never sniffed, never run."""
import io

from flask import send_file

from ..extensions import db
from ..models import StoredFile

FILE_CSP = "default-src 'none'; sandbox"  # a PDF viewer or image shown alone runs nothing of ours


def stored_file(sha256):
    """The StoredFile row, or None."""
    return db.session.get(StoredFile, sha256) if sha256 else None


def send_stored(storage, stored, name, inline=False, max_age=3600):
    """A response with the file's bytes: nosniff, a sandbox CSP, and a safe Content-Disposition."""
    response = send_file(io.BytesIO(storage.get(stored.sha256)), mimetype=stored.content_type,
                         as_attachment=not inline, download_name=name or f"file.{stored.extension}",
                         etag=stored.sha256, max_age=max_age)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.cache_control.private = True
    return response
