"""A fixed-window rate limit kept in the database, so every worker and host counts together."""
import hashlib
import hmac
import random
import time

from flask import current_app, request
from sqlalchemy import delete
from werkzeug.exceptions import TooManyRequests

from .addresses import client_of
from .database import upsert
from .extensions import db
from .models import RateLimit

CLEANUP_CHANCE = 0.01  # now and then, forget windows that are long over
FORGET_AFTER = 86400  # no window is longer than a day


def allow(key, limit, window_seconds, now=None):
    """Count a hit for key; False once the key has had `limit` hits in the current window.

    Boundary: the hit is committed at once — a refused request (429) rolls back, yet its hit must count, and the
    counter's row is not kept locked for the rest of the request.
    """
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


def once_per(key, seconds, now=None):
    """True for at most one caller every `seconds` for key, across every worker and host (a gate, not a count).

    The row keeps when the gate last opened; the conditional upsert opens it again only after `seconds`.
    Boundary: committed at once, like allow(): the gate is shut for every other caller from now on.
    """
    now = int(now or time.time())
    stmt = upsert(db.engine, RateLimit).values(key=key[:80], window=now, hits=1)
    stmt = stmt.on_conflict_do_update(index_elements=[RateLimit.key], set_={"window": now, "hits": 1},
                                      where=RateLimit.window <= now - seconds).returning(RateLimit.window)
    opened = db.session.execute(stmt).scalar_one_or_none() is not None
    db.session.commit()
    return opened


def enforce(key, limit, window_seconds):
    """Count a hit for key; raise 429 with Retry-After (to the window's end) once over the limit."""
    now = int(time.time())
    if not allow(key, limit, window_seconds, now=now):
        raise TooManyRequests(retry_after=window_seconds - now % window_seconds or window_seconds)


def client_key(name):
    """The key of name's count for this request's client (addresses.client_of), as a keyed hash: the
    table keeps no client address."""
    client = client_of(request.remote_addr) or "unknown"
    digest = hmac.new(current_app.secret_key.encode(), client.encode(), hashlib.sha256).hexdigest()
    return f"{name}:{digest[:32]}"
