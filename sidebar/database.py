"""The database beyond its extension object: SQLite's connection settings and WAL checkpoints, and the
upserts both engines share."""
import logging
import threading
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from .extensions import db

log = logging.getLogger(__name__)
# Pages of WAL after which a commit copies the WAL back into the database (SQLite's default is 1000).
# A serving worker whose own thread checkpoints raises it: the commit that crossed 1,000 pages took
# ~1 s (copy and sync) on the benchmark's machine, inside some advisor's request.
SQLITE_SETTINGS = {"wal_autocheckpoint": 1000}


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, _record):
    """WAL lets readers run beside a writer; foreign keys are off in SQLite unless asked for."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={int(SQLITE_SETTINGS['wal_autocheckpoint'])}")
        cursor.close()


def checkpoint_in_background(app, every=1.0, backstop_pages=20000, stop=None):
    """On SQLite, checkpoint the WAL from a daemon thread every `every` seconds instead of in commits.

    For a serving process (gunicorn.conf.py): the copy and sync happen beside the requests, not in
    one of them. Commits still checkpoint past backstop_pages, should the thread ever fall behind.
    Returns the thread (it ends when the `stop` event is set), or None on another database.
    """
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return None
    SQLITE_SETTINGS["wal_autocheckpoint"] = backstop_pages
    engine.dispose()  # connections made before this keep the old setting: make new ones
    stop = stop or threading.Event()

    def run():
        """Checkpoint what readers no longer need (PASSIVE never waits on a reader or a writer)."""
        while not stop.wait(every):
            try:
                with engine.connect() as connection:
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except SQLAlchemyError:
                log.exception("WAL checkpoint failed; commits will checkpoint past %s pages", backstop_pages)

    thread = threading.Thread(target=run, name="wal-checkpoint", daemon=True)
    thread.start()
    return thread


def upsert(bind, table):
    """INSERT … ON CONFLICT for bind's database (SQLite and PostgreSQL; other dialects have none)."""
    return (postgresql if bind.dialect.name == "postgresql" else sqlite).insert(table)


@contextmanager
def savepoint():
    """A SAVEPOINT around a block that writes: an error inside undoes the block's writes only, never the caller's.

    For an expected error a service recovers from (a concurrent insert of the same keys): the session
    stays usable and the request's, job's or command's earlier work stays in its transaction.
    """
    _begin_sqlite()
    with db.session.begin_nested():
        yield


def _begin_sqlite():
    """On SQLite, open the transaction before the SAVEPOINT (pysqlite opens one only before a write).

    A SAVEPOINT outside a transaction starts one of its own, and its RELEASE would commit everything.
    IMMEDIATE, as pysqlite's own BEGIN before a write is in effect: the block is there to write, and a
    deferred BEGIN's first read would pin a snapshot that another connection's commit (the token cache's)
    makes too old to write on ("database is locked" at once, with no wait).
    """
    connection = db.session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def upsert_retrying(write, *args):
    """Run write(*args) in a savepoint, returning what it returned; if a concurrent writer inserted the
    same keys first, do it once more (nothing is committed: the caller's unit of work does that).

    The second run sees the other writer's rows and updates them instead of inserting.
    """
    for attempt in (1, 2):
        try:
            with savepoint():
                return write(*args)
        except IntegrityError:
            if attempt == 2:
                raise
