"""One cache of access token and tickets, in the database every worker and host shares.

WeCom allows few ticket fetches an hour, so exactly one worker refreshes a value at a time. It
claims the refresh with an atomic conditional UPDATE (a row lock on PostgreSQL, SQLite's single
write lock) that ends before WeCom is called, so no database lock is held across the network.
Meanwhile the others keep serving the current value, or, when there is none, wait for the claimant.
"""
import time

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from .errors import WeComUnavailable

REFRESH_MARGIN = 300  # refresh in the last five minutes of a value's life
LEASE_SECONDS = 30  # a claimant that died frees the claim after this long
WAIT_SECONDS = 20  # longest a request waits for another worker's refresh
POLL_SECONDS = 0.05


class DatabaseTokenCache:
    """Token/ticket cache over the token_cache table of a SQLAlchemy engine."""

    def __init__(self, engine_factory, table, clock=time.time, sleep=time.sleep):
        self._engine = engine_factory  # called per use: the engine may be bound late
        self._table = table
        self._clock = clock
        self._sleep = sleep

    def get(self, key, fetch):
        """Return the cached value for key, calling fetch() -> (value, expires_in) when due."""
        row = self._read(key)
        now = self._clock()
        if row and row.value and row.expires_at - now > REFRESH_MARGIN:
            return row.value
        if row and row.value and row.expires_at > now:
            return self._refresh(key, fetch) if self._claim(key) else row.value
        return self._wait_or_refresh(key, fetch)

    def drop(self, key, value=None):
        """Forget value (WeCom said it is invalid), unless another worker already replaced it; without
        a value, forget whatever is cached."""
        table = self._table
        stale = table.c.key == key if value is None else (table.c.key == key) & (table.c.value == value)
        with self._engine().begin() as conn:
            conn.execute(update(table).where(stale).values(value=None, expires_at=0))

    def _wait_or_refresh(self, key, fetch):
        """No usable value: refresh it ourselves, or wait for the worker that is doing so."""
        deadline = self._clock() + WAIT_SECONDS
        while True:
            if self._claim(key):
                return self._refresh(key, fetch)
            self._sleep(POLL_SECONDS)
            row = self._read(key)
            if row and row.value and row.expires_at > self._clock():
                return row.value
            if self._clock() > deadline:
                raise WeComUnavailable(f"timed out waiting for another worker to refresh {key}")

    def _read(self, key):
        """The cache row for key, or None."""
        table = self._table
        with self._engine().connect() as conn:
            return conn.execute(select(table).where(table.c.key == key)).first()

    def _claim(self, key):
        """Atomically become the one worker refreshing key; False if another holds the claim."""
        table = self._table
        for _ in range(2):
            now = int(self._clock())
            with self._engine().begin() as conn:
                # only a value still due for refresh may be claimed: a worker that waited
                # must not refresh again what the claimant has just stored
                claimed = conn.execute(update(table).where(
                    table.c.key == key, table.c.lease_until < now,
                    table.c.expires_at - REFRESH_MARGIN <= now).values(lease_until=now + LEASE_SECONDS))
            if claimed.rowcount == 1:
                return True
            if self._read(key) is not None:
                return False
            self._insert_empty(key)
        return False

    def _insert_empty(self, key):
        """Create the row a claim updates; losing the race to insert it is fine."""
        try:
            with self._engine().begin() as conn:
                conn.execute(insert(self._table).values(key=key, value=None, expires_at=0, lease_until=0))
        except IntegrityError:
            pass

    def _refresh(self, key, fetch):
        """Fetch a new value while holding the claim, store it and release the claim."""
        table = self._table
        try:
            value, expires_in = fetch()
        except BaseException:
            with self._engine().begin() as conn:
                conn.execute(update(table).where(table.c.key == key).values(lease_until=0))
            raise
        with self._engine().begin() as conn:
            conn.execute(update(table).where(table.c.key == key).values(
                value=value, expires_at=int(self._clock()) + int(expires_in), lease_until=0))
        return value
