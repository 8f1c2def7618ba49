"""The app's task queue (Huey): where it lives by the settings, built on first use, tasks registered per app.

Features enqueue here; what the tasks do and the worker that runs them are in sidebar/jobs/.

Empty SIDEBAR_QUEUE_URL: next to the database — a SQLite file beside a SQLite database, or tables in
the same PostgreSQL (made by migration 0011). A redis:// URL: Redis.
"""
import logging
import os
import threading

from flask import current_app
from huey import PostgresHuey, RedisHuey, SqliteHuey
from sqlalchemy.engine import make_url

NAME = "sidebar"
log = logging.getLogger(__name__)


def huey_for(config, instance_path):
    """A Huey for the settings; results are not kept (nothing reads them, and they would pile up)."""
    if config.get("SIDEBAR_QUEUE_URL"):
        return RedisHuey(NAME, results=False, url=config["SIDEBAR_QUEUE_URL"])
    database = make_url(config["SIDEBAR_DATABASE_URL"])
    if database.get_backend_name() == "postgresql":
        dsn = database.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresHuey(NAME, results=False, dsn=dsn, create_tables=False)
    return SqliteHuey(NAME, results=False, filename=queue_file(database.database, instance_path), timeout=30)


def queue_file(database_path, instance_path):
    """The SQLite queue's file: beside the database's (instance/sidebar-queue.db by default)."""
    if not database_path or database_path == ":memory:":
        return os.path.join(instance_path, "sidebar-queue.db")
    return os.path.splitext(database_path)[0] + "-queue.db"


def engine_of(config):
    """sqlite, postgresql or redis: where this app's queue lives."""
    if config.get("SIDEBAR_QUEUE_URL"):
        return "redis"
    return "postgresql" if make_url(config["SIDEBAR_DATABASE_URL"]).get_backend_name() == "postgresql" else "sqlite"


class Queue:
    """One app's queue and its tasks, made on first use: a web worker that never enqueues never connects."""

    def __init__(self, app):
        self.app = app
        self._huey = None
        self._tasks = {}
        self._lock = threading.Lock()

    @property
    def huey(self):
        """The Huey instance, built the first time it is needed."""
        return self._built()[0]

    def task(self, name):
        """The registered task called name."""
        return self._built()[1][name]

    def _built(self):
        """(Huey, its tasks by name), made and registered once."""
        with self._lock:
            if self._huey is None:
                from .jobs.tasks import register  # the tasks import the features: not at start-up

                huey = huey_for(self.app.config, self.app.instance_path)
                self._tasks = register(huey, self.app)
                self._huey = huey
        return self._huey, self._tasks

    def enqueue(self, name, *args, delay=None, **options):
        """Put task `name` on the queue (after `delay` seconds); False, logged, when the queue is unreachable."""
        try:
            task = self.task(name)
            if delay:
                task.schedule(args, delay=delay, **options)
            else:
                task(*args, **options)
        except Exception:  # noqa: BLE001 - sqlite3, psycopg or redis: the storage decides what it raises
            log.exception("could not enqueue %s; the periodic jobs repair what it would have done", name)
            return False
        return True

    def sizes(self):
        """(tasks waiting, tasks scheduled for later: retries and delayed work)."""
        huey = self.huey
        return huey.pending_count(), huey.scheduled_count()

    def close(self):
        """Close the queue's connection (tests: before their database is dropped)."""
        with self._lock:
            if self._huey is not None:
                self._huey.storage.close()


def init_app(app):
    """Give the app its queue (built on first use)."""
    app.extensions["jobs"] = Queue(app)


def queue():
    """The current app's queue."""
    return current_app.extensions["jobs"]


def enqueue(name, *args, delay=None):
    """Put task `name` on the current app's queue; False when the queue is unreachable (logged)."""
    return queue().enqueue(name, *args, delay=delay)
