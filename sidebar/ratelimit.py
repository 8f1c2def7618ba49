"""A fixed-window rate limit kept in the database, so every worker and host counts together."""
import random
import time

from flask import current_app
from sqlalchemy import delete
from werkzeug.exceptions import TooManyRequests

from .extensions import db, upsert
from .models import RateLimit

CLEANUP_CHANCE = 0.01  # now and then, forget windows that are long over
FORGET_AFTER = 86400  # no window is longer than a day


def allow(key, limit, window_seconds, now=None):
    """Count a hit for key; False once the key has had `limit` hits in the current window."""
    now = int(now or time.time())
    window = now - now % window_seconds  # the window's start, epoch seconds
    stmt = upsert(db.engine, RateLimit).values(key=key[:80], window=window, hits=1)
    stmt = stmt.on_conflict_do_update(index_elements=[RateLimit.key], set_={
        "hits": db.case((RateLimit.window == window, RateLimit.hits + 1), else_=1),
        "window": window,
    }).returning(RateLimit.hits)
    hits = db.session.execute(stmt).scalar_one()
    if random.random() < CLEANUP_CHANCE:
        db.session.execute(delete(RateLimit).where(RateLimit.window < now - FORGET_AFTER))
    db.session.commit()
    return hits <= limit


def enforce(key, limit, window_seconds, setting=None):
    """Count a hit for key; raise 429 with Retry-After (to the window's end) once over the limit.

    setting names an optional app config value `(limit, window_seconds)` that overrides the defaults.
    """
    if setting:
        limit, window_seconds = current_app.config.get(setting) or (limit, window_seconds)
    now = int(time.time())
    if not allow(key, limit, window_seconds, now=now):
        raise TooManyRequests(retry_after=window_seconds - now % window_seconds or window_seconds)
