"""GET /healthz: liveness and database reachability; GET /readyz adds the task queue."""
from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .queue import queue

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.get("/readyz")
def readyz():
    """200 when the database and the task queue answer (queue lengths included), 503 when one does not."""
    database = healthz()
    if isinstance(database, tuple):  # the 503 of an unreachable database
        return database
    try:
        pending, scheduled = queue().sizes()
    except Exception:  # noqa: BLE001 - sqlite3, psycopg or redis: whichever the queue lives on
        return jsonify(status="error", database="ok", queue="unreachable"), 503
    return jsonify(status="ok", database="ok", queue="ok", pending=pending, scheduled=scheduled)
