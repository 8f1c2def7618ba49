"""The callback inbox: store each decrypted callback once, process it, drain what is left.

A callback is stored before it is answered and processed by the worker (a task on the queue): a
crash in between, or a queue that could not be reached, leaves a pending row that the next drain
(a periodic job) processes. The dedupe key is a hash of the decrypted XML (every
external-contact event comes from `sys`, so sender and time cannot tell a retry from a new event).
Processing re-fetches from WeCom, so running a row twice (a drain racing the request) is harmless.
"""
import hashlib
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_, select, true
from sqlalchemy.exc import IntegrityError

from ..database import savepoint
from ..extensions import db
from ..models import CallbackInbox, utcnow
from ..wecom import WeComError
from . import events
from .callback import Malformed, echo, open_envelope, parse_xml

MAX_ATTEMPTS = 5  # a row failing this often waits for the nightly full sync instead
SETTLE = 1.2  # seconds: the rest of the event's second, plus a little for clock skew
KEEP_DAYS = 30  # done rows are the dedupe memory: WeCom retries within minutes, so a month is plenty


@dataclass
class DrainResult:
    """Rows processed by a drain, by outcome."""

    done: int = 0
    ignored: int = 0
    failed: int = 0
    purged: int = 0


def dedupe_key(xml):
    """sha256 of the decrypted XML bytes."""
    return hashlib.sha256(xml).hexdigest()


def store(xml, fields):
    """Store a decrypted callback; returns its id, or None when the same callback is already stored.

    Boundary: committed at once — the task that processes it is queued next and must find it, and WeCom is
    answered only once the callback is safe.
    """
    row = CallbackInbox(dedupe_key=dedupe_key(xml), event=_short(fields.get("Event") or fields.get("MsgType")),
                        change_type=_short(fields.get("ChangeType")) or None,
                        target=_short(fields.get("ExternalUserID") or fields.get("ChatId") or fields.get("Id")) or None,
                        body=xml.decode("utf-8"))
    try:
        with savepoint():
            db.session.add(row)
    except IntegrityError:
        return None
    db.session.commit()
    return row.id


def verify_url(crypto, params):
    """The plaintext a URL-verification GET must answer."""
    return echo(crypto, params)


def accept(crypto, params, body):
    """Verify, decrypt and store a callback POST; returns the new row's id, None for a repeat."""
    xml, fields = open_envelope(crypto, params, body)
    try:
        xml.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the message is not UTF-8") from None
    return store(xml, fields)


def _short(value):
    """A field as text that fits its column."""
    return value[:64] if isinstance(value, str) else ""


def process(wecom, row_id, refreshed=None, raise_failure=False):
    """Apply one stored callback unless it is already done; returns its new status.

    A WeCom failure leaves the row failed (for the drain) and, with raise_failure, is raised too (for
    the queue to retry).
    Boundary: each callback is a unit of its own — a failed one's writes are rolled back, and its outcome is
    committed (_finish), so a drain goes on with the next one.
    """
    row = db.session.get(CallbackInbox, row_id)
    if row is None or row.status in ("done", "ignored"):
        return row.status if row else None
    row_id, fields = row.id, parse_xml(row.body.encode("utf-8"))
    _settle(fields)
    try:
        handled = events.handle(wecom, fields, refreshed)
    except WeComError as error:
        db.session.rollback()
        status = _finish(row_id, "failed", str(error))
        if raise_failure:
            raise
        return status
    return _finish(row_id, "done" if handled else "ignored")


def _settle(fields):
    """Fetch only once the event's second is over (at most SETTLE seconds from now).

    Two changes within one second give byte-identical callbacks (CreateTime has whole seconds), so
    the second one is a "duplicate" that is never processed: the fetch for the first must come
    after that second to see both.
    """
    created = fields.get("CreateTime")
    if isinstance(created, str) and created.isdigit():
        wait = int(created) + SETTLE - time.time()
        if wait > 0:
            time.sleep(min(wait, SETTLE))


def _finish(row_id, status, error=None):
    """Record the outcome of one attempt.

    Boundary: committed with the callback's work, one callback at a time (see process).
    """
    row = db.session.get(CallbackInbox, row_id)
    row.status, row.error = status, (error or "")[:255] or None
    row.attempts += 1
    row.processed_at = utcnow()
    db.session.commit()
    return status


def drain(wecom, keep_days=KEEP_DAYS, settled_before=None):
    """Process every pending row (and failed ones with attempts left) in arrival order; purge old done rows.

    settled_before: only rows received before then (the periodic drain leaves the queue its fresh rows).
    """
    result, refreshed, after = DrainResult(), set(), 0
    received = CallbackInbox.received_at < settled_before if settled_before else true()
    # Rows arriving during the drain are left to the queue (or the next drain): the
    # once-per-pass fetches in `refreshed` only answer rows stored before the pass began.
    last = db.session.scalar(select(db.func.max(CallbackInbox.id))) or 0
    while True:
        ids = db.session.scalars(select(CallbackInbox.id).where(
            CallbackInbox.id > after, CallbackInbox.id <= last, received,
            or_(CallbackInbox.status == "pending",
                (CallbackInbox.status == "failed") & (CallbackInbox.attempts < MAX_ATTEMPTS)))
            .order_by(CallbackInbox.id).limit(200)).all()
        if not ids:
            break
        for row_id in ids:
            status = process(wecom, row_id, refreshed)
            setattr(result, status, getattr(result, status) + 1)
        after = ids[-1]
    result.purged = purge(keep_days)
    return result


def purge(keep_days=KEEP_DAYS):
    """Delete processed rows older than keep_days; returns how many."""
    cutoff = utcnow() - timedelta(days=keep_days)
    deleted = db.session.execute(delete(CallbackInbox).where(
        CallbackInbox.status.in_(("done", "ignored")), CallbackInbox.received_at < cutoff))
    return deleted.rowcount


def pending_count():
    """Rows still waiting to be processed (failed ones with attempts left included)."""
    return db.session.scalar(select(db.func.count()).select_from(CallbackInbox).where(or_(
        CallbackInbox.status == "pending",
        (CallbackInbox.status == "failed") & (CallbackInbox.attempts < MAX_ATTEMPTS))))
