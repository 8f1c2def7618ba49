"""Static files for a phone's network: compressed, and cached for a year under content-hashed URLs.

Every `url_for('static', filename=…)` gains `?v=<digest of the file's bytes>`. A request that names
the current digest is answered with a year's `immutable` caching, so a later open of the sidebar
asks for no script or stylesheet at all; a changed file gets a new URL. A request with another
digest (an old page during a deploy) or none gets the file with `no-cache`, as before.
Compression (brotli, or gzip) of static files, pages, fragments and JSON is Flask-Compress's.
"""
import hashlib
import os

from flask import request
from flask_compress import Compress

YEAR = 365 * 24 * 3600
compress = Compress()


def digest_of(path):
    """The first 12 hex digits of a file's SHA-256."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()[:12]


def digests(static_folder):
    """Every static file's digest, by its path under the folder (read once at start)."""
    found = {}
    for folder, _dirs, files in os.walk(static_folder):
        for name in files:
            path = os.path.join(folder, name)
            found[os.path.relpath(path, static_folder).replace(os.sep, "/")] = digest_of(path)
    return found


def init_app(app):
    """Version static URLs by content, cache them for a year, compress what is worth it."""
    known = digests(app.static_folder)

    @app.url_defaults
    def _add_digest(endpoint, values):
        """url_for('static', filename=f) -> /static/f?v=<digest>."""
        if endpoint == "static" and values.get("filename") in known:
            values.setdefault("v", known[values["filename"]])

    compress.init_app(app)
    # Registered after Flask-Compress, so it runs before it (Flask runs these in reverse).
    app.after_request(lambda response: _prepare_static(response, known))


def _prepare_static(response, known):
    """Static files: read into memory (compressed whole, file closed) and cached when versioned."""
    if request.endpoint != "static" or response.status_code != 200:
        return response
    # Streamed, Flask-Compress would compress through a generator that never closes the file.
    response.direct_passthrough = False
    response.get_data()
    if request.args.get("v") == known.get((request.view_args or {}).get("filename")):
        response.cache_control.public = True
        response.cache_control.max_age = YEAR
        response.cache_control.immutable = True
        response.cache_control.no_cache = None
    return response
