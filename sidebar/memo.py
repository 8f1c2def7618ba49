"""Copies of what was computed from local data, kept in the worker's memory while that data is unchanged.

A copy is keyed by everything it depends on — the caller's key (view, viewer, choices, today) plus
the data versions of what it reads (versions.py) — and is dropped after MAX_AGE seconds anyway,
for what moves with the clock alone ("joined in the last 7 days"). Of rendered responses only htmx
fragments are kept, cut around a form's CSRF token, which each request fills in with its session's own.
"""
import threading
import time
from collections import OrderedDict

from flask import Response, current_app, g, session
from flask_wtf.csrf import generate_csrf

from . import versions

MAX_AGE = 60  # seconds
SIZE = 256  # copies per worker: at most ~45 MB (a group panel ~40 KB, a library window of 500 ~170 KB)


class MemoryCache:
    """A bounded, thread-safe map of key -> (stored at, value), least recently used out."""

    def __init__(self, size=SIZE, max_age=MAX_AGE):
        self._copies, self._lock, self.size, self.max_age = OrderedDict(), threading.Lock(), size, max_age

    def get(self, key, default=None):
        """The value stored under key if younger than max_age, else default."""
        with self._lock:
            copy = self._copies.get(key)
            if copy is None or time.monotonic() - copy[0] > self.max_age:
                return default
            self._copies.move_to_end(key)
            return copy[1]

    def put(self, key, value):
        """Keep value under key."""
        with self._lock:
            self._copies[key] = (time.monotonic(), value)
            self._copies.move_to_end(key)
            while len(self._copies) > self.size:
                self._copies.popitem(last=False)


def init_app(app):
    """Give the app its copies (one store per worker process)."""
    app.extensions["memo"] = MemoryCache()
    app.extensions["memo-csrf"] = MemoryCache(size=1024)  # sessions' signed CSRF tokens, by their secret


def value(key, data, compute):
    """compute(), or the value it gave for the same key while the data versions named in `data` are unchanged."""
    return _kept((key, versions.current(data)), compute)  # versions before data


def response(key, data, render):
    """render()'s response, or a copy of the one rendered for the same key and data versions."""
    return kept_response(key, versions.current(data), render)


def kept_response(key, stamp, render):
    """response() for data versions the caller read already (stamp, before any of the data)."""
    pieces, status, headers = _kept((key, stamp), lambda: _parts(render()))
    body = pieces[0] if len(pieces) == 1 else _csrf_token().encode().join(pieces)
    return Response(body, status, headers)


def _csrf_token():
    """This session's CSRF token (Flask-WTF's), signed once a minute per session rather than in every request.

    Kept only while tokens do not age (WTF_CSRF_TIME_LIMIT None): any signature of the session's secret
    is then as good as a new one.
    """
    config = current_app.config
    secret = session.get(config["WTF_CSRF_FIELD_NAME"])
    if secret is None or config["WTF_CSRF_TIME_LIMIT"] is not None:
        return generate_csrf()
    signed = current_app.extensions["memo-csrf"]
    token = signed.get(secret)
    if token is None:
        token = generate_csrf()
        signed.put(secret, token)
    return token


def _kept(key, compute):
    """The value kept under key, or compute()'s, kept from now on."""
    copies = current_app.extensions["memo"]
    found = copies.get(key, _MISSING)
    if found is _MISSING:
        found = compute()
        copies.put(key, found)
    return found


def _parts(response):
    """What a response needs to be sent again: body (in pieces around its CSRF tokens), status and the
    view's own headers (no cookie yet)."""
    body, token = response.get_data(), g.get(current_app.config["WTF_CSRF_FIELD_NAME"])
    # a form's token is the session's: another session (the advisor's PC) must get its own
    pieces = body.split(token.encode()) if token else [body]
    return pieces, response.status_code, list(response.headers.items())


_MISSING = object()
