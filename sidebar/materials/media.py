"""WeCom media_ids for stored files: uploaded once, kept with their 3-day life, renewed when near it."""
import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import savepoint
from ..extensions import db
from ..models import Material, MaterialVersion, StoredFile, WeComMedia, utcnow

MEDIA_LIFE = timedelta(days=3)
UNSAFE_IN_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f]')  # not allowed in a file name on the client's phone or PC
RENEW_BEFORE = timedelta(hours=6)  # a share prepared now may be confirmed by the advisor a while later
RENEW_AHEAD = timedelta(hours=2)  # the hourly renewal looks this far ahead: one failed run loses nothing


def media_id_for(wecom, storage, stored, kind, filename, now=None):
    """A live media_id for a stored file as `kind` (image, video, file): cached, or uploaded now."""
    now = now or utcnow()
    cached = db.session.get(WeComMedia, (stored.sha256, kind))
    if cached is not None and cached.expires_at - RENEW_BEFORE > now:
        return cached.media_id
    return _upload(wecom, storage, stored, kind, filename, now)


def renew_expiring(wecom, storage, ahead=RENEW_AHEAD, now=None):
    """Re-upload the media of live materials that a share would otherwise have to upload within `ahead`.

    Only files uploaded before (shared at least once) are kept alive; returns how many were renewed.
    """
    now = now or utcnow()
    rows = db.session.execute(
        select(StoredFile, WeComMedia.type, MaterialVersion.title)
        .join(WeComMedia, WeComMedia.sha256 == StoredFile.sha256)
        .join(MaterialVersion, MaterialVersion.file_sha == StoredFile.sha256)
        .join(Material, (Material.id == MaterialVersion.material_id) & (Material.kind == WeComMedia.type))
        .where(Material.withdrawn_at.is_(None), MaterialVersion.status == "approved",
               WeComMedia.expires_at <= now + ahead + RENEW_BEFORE)).all()
    due = {(stored.sha256, kind): (stored, kind, title) for stored, kind, title in rows}  # once a file
    for stored, kind, title in due.values():
        _upload(wecom, storage, stored, kind, sent_name(title, stored), now)
    return len(due)


def _upload(wecom, storage, stored, kind, filename, now):
    """Upload the file to WeCom and keep its media_id; returns it."""
    media_id = wecom.upload_media(kind, filename, storage.get(stored.sha256), stored.content_type)
    _remember(stored.sha256, kind, media_id, now)
    return media_id


def sent_name(title, stored):
    """The name a file reaches the chat with: the material's title and the file's true extension, never
    the name it was uploaded under (research_v3_final.pdf tells the client nothing)."""
    name = UNSAFE_IN_NAMES.sub("", title or "").strip() or "附件"
    return f"{name}.{stored.extension}"


def needs_upload(stored, kind, now=None):
    """Whether sharing this file now would need a fresh upload to WeCom (no live media_id kept)."""
    cached = db.session.get(WeComMedia, (stored.sha256, kind))
    return cached is None or cached.expires_at - RENEW_BEFORE <= (now or utcnow())


def _remember(sha256, kind, media_id, now):
    """Store the new media_id; a worker that uploaded the same file at the same moment may win.

    Boundary: committed at once — the upload happened, and the next one (a cover, then the file; the renewal
    job's loop) must not run with a write transaction held: the WeCom client's token cache writes on a
    connection of its own, which SQLite would lock out.
    """
    try:
        with savepoint():
            row = db.session.get(WeComMedia, (sha256, kind))
            if row is None:
                row = WeComMedia(sha256=sha256, type=kind)
                db.session.add(row)
            row.media_id, row.uploaded_at, row.expires_at = media_id, now, now + MEDIA_LIFE
    except IntegrityError:
        pass  # the other worker's media_id is as good as ours
    db.session.commit()
