"""Rendered fragments kept in the worker's memory while the data they were rendered from is unchanged.

A copy is keyed by everything the fragment depends on — the caller's key (view, viewer, choices,
today) plus the data versions of the kinds it reads — and is dropped after MAX_AGE seconds anyway,
for what moves with the clock alone ("joined in the last 7 days"). Only htmx fragments are kept:
a whole page carries the session's CSRF token.
"""
import threading
import time
from collections import OrderedDict

from flask import Response, current_app

from . import versions

MAX_AGE = 60  # seconds
SIZE = 512  # copies per worker (a group panel is ~20 KB)


class FragmentCache:
    """A bounded, thread-safe map of key -> (stored at, body, status, headers), least recently used out."""

    def __init__(self, size=SIZE, max_age=MAX_AGE):
        self._copies, self._lock, self.size, self.max_age = OrderedDict(), threading.Lock(), size, max_age

    def get(self, key):
        """The copy stored under key if younger than max_age, else None."""
        with self._lock:
            copy = self._copies.get(key)
            if copy is None or time.monotonic() - copy[0] > self.max_age:
                return None
            self._copies.move_to_end(key)
            return copy[1:]

    def put(self, key, response):
        """Keep a copy of a response (its body, status and headers)."""
        with self._lock:
            self._copies[key] = (time.monotonic(), response.get_data(), response.status_code,
                                 list(response.headers.items()))
            self._copies.move_to_end(key)
            while len(self._copies) > self.size:
                self._copies.popitem(last=False)


def init_app(app):
    """Give the app its cache (one per worker process)."""
    app.extensions["fragments"] = FragmentCache()


def cached(key, kinds, render):
    """render()'s response, or a copy of the one rendered for the same key and data versions."""
    cache = current_app.extensions["fragments"]
    key = (key, versions.current(kinds))  # read before the data: see versions.py
    copy = cache.get(key)
    if copy is not None:
        body, status, headers = copy
        return Response(body, status, headers)
    response = render()
    if response.status_code == 200:
        cache.put(key, response)
    return response
