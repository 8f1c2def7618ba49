"""WeCom media_ids for stored files: uploaded once, kept with their 3-day life, renewed when near it."""
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import WeComMedia, utcnow

MEDIA_LIFE = timedelta(days=3)
RENEW_BEFORE = timedelta(hours=6)  # a share prepared now may be confirmed by the advisor a while later


def media_id_for(client, storage, stored, kind, filename, now=None):
    """A live media_id for a stored file as `kind` (image, video, file): cached, or uploaded now."""
    now = now or utcnow()
    cached = db.session.get(WeComMedia, (stored.sha256, kind))
    if cached is not None and cached.expires_at - RENEW_BEFORE > now:
        return cached.media_id
    media_id = client.upload_media(kind, filename, storage.get(stored.sha256), stored.content_type)
    _remember(stored.sha256, kind, media_id, now)
    return media_id


def needs_upload(stored, kind, now=None):
    """Whether sharing this file now would need a fresh upload to WeCom (no live media_id kept)."""
    cached = db.session.get(WeComMedia, (stored.sha256, kind))
    return cached is None or cached.expires_at - RENEW_BEFORE <= (now or utcnow())


def _remember(sha256, kind, media_id, now):
    """Store the new media_id; a worker that uploaded the same file at the same moment may win."""
    row = db.session.get(WeComMedia, (sha256, kind))
    if row is None:
        row = WeComMedia(sha256=sha256, type=kind)
        db.session.add(row)
    row.media_id, row.uploaded_at, row.expires_at = media_id, now, now + MEDIA_LIFE
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # the other worker's media_id is as good as ours
