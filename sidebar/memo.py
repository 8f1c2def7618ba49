"""Copies of what was computed from local data, kept in the worker's memory while that data is unchanged.

A copy is keyed by everything it depends on — the caller's key (view, viewer, choices, today) plus
the data versions of what it reads (versions.py) — and is dropped after MAX_AGE seconds anyway,
for what moves with the clock alone ("joined in the last 7 days"). Of rendered responses only htmx
fragments are kept, and a form's CSRF token is kept as a blank that each request fills with its own.
"""
import threading
import time
from collections import OrderedDict

from flask import Response, current_app, g
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


def value(key, data, compute):
    """compute(), or the value it gave for the same key while the data versions named in `data` are unchanged."""
    copies, key = current_app.extensions["memo"], (key, versions.current(data))  # versions before data
    found = copies.get(key, _MISSING)
    if found is _MISSING:
        found = compute()
        copies.put(key, found)
    return found


def response(key, data, render):
    """render()'s response, or a copy of the one rendered for the same key and data versions."""
    body, status, headers = value(key, data, lambda: _parts(render()))
    if CSRF_BLANK in body:
        body = body.replace(CSRF_BLANK, generate_csrf().encode())
    return Response(body, status, headers)


def _parts(response):
    """What a response needs to be sent again: body (its CSRF token blanked), status and the view's own
    headers (no cookie yet)."""
    body, token = response.get_data(), g.get(current_app.config["WTF_CSRF_FIELD_NAME"])
    if token:  # a form's token is the session's: another session (the advisor's PC) must get its own
        body = body.replace(token.encode(), CSRF_BLANK)
    return body, response.status_code, list(response.headers.items())


CSRF_BLANK = b"<!--csrf-->"  # "<" is escaped in every value the templates show: no text can read like it


_MISSING = object()
