"""Where uploaded bytes live: a tiny interface, with a filesystem implementation by default.

Keys are SHA-256 hex digests, so a key never names a path the uploader chose. An object store
(S3, OSS) can be added later by implementing the same four methods.
"""
import os
import re
import tempfile

from flask import current_app

from ..config import ConfigError

KEY = re.compile(r"[0-9a-f]{64}")


class Storage:
    """Content-addressed blob storage."""

    def put(self, key, data):
        """Store data under key; returns False when it was there already."""
        raise NotImplementedError

    def get(self, key):
        """The bytes under key (FileNotFoundError when absent)."""
        raise NotImplementedError

    def delete(self, key):
        """Remove key if present."""
        raise NotImplementedError

    def exists(self, key):
        """Whether key is stored."""
        raise NotImplementedError


class FilesystemStorage(Storage):
    """Files under root/ab/cd/<sha256>, written atomically (temp file, then rename)."""

    def __init__(self, root):
        self.root = os.path.abspath(root)

    def _path(self, key):
        """The file of a key; refuses anything that is not a digest."""
        if not KEY.fullmatch(key or ""):
            raise ValueError("storage keys are SHA-256 hex digests")
        return os.path.join(self.root, key[:2], key[2:4], key)

    def put(self, key, data):
        """Write once; a second upload of the same bytes is a no-op."""
        path = self._path(key)
        if os.path.exists(path):
            return False
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temp, path)
        except BaseException:
            os.unlink(temp)
            raise
        return True

    def get(self, key):
        """Read the whole file (uploads are at most 20 MB)."""
        with open(self._path(key), "rb") as source:
            return source.read()

    def delete(self, key):
        """Remove the file; absent is fine."""
        try:
            os.unlink(self._path(key))
        except FileNotFoundError:
            pass

    def exists(self, key):
        """Whether the file is there."""
        return os.path.exists(self._path(key))


def init_app(app):
    """Bind the storage named by the settings (the filesystem under SIDEBAR_UPLOAD_DIR)."""
    root = os.path.abspath(app.config["SIDEBAR_UPLOAD_DIR"])
    static = os.path.abspath(app.static_folder)
    if os.path.commonpath([root, static]) == static:  # uploads must never be served as our own files
        raise ConfigError("SIDEBAR_UPLOAD_DIR must not be inside static/")
    app.extensions["material_storage"] = FilesystemStorage(root)


def storage():
    """The current app's storage."""
    return current_app.extensions["material_storage"]
