"""Extension objects, created here and bound to the app in create_app."""
from flask import current_app
from flask_htmx import HTMX
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base shared by every model."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
htmx = HTMX()


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, _record):
    """WAL lets readers run beside a writer; foreign keys are off in SQLite unless asked for."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def init_wecom(app, table):
    """Bind one WeCom client, caching in the given table, to the app."""
    from .wecom import DatabaseTokenCache, WeComClient

    cache = DatabaseTokenCache(lambda: db.engine, table)
    app.extensions["wecom"] = WeComClient(app.config["WECOM_API_BASE"], app.config["WECOM_OAUTH_BASE"],
                                          app.config["WECOM_CORP_ID"],
                                          app.config["WECOM_AGENT_ID"], app.config["WECOM_SECRET"], cache,
                                          rate_limit_pause=app.config.get("WECOM_RATE_LIMIT_PAUSE", 60),
                                          outage_pause=app.config.get("WECOM_OUTAGE_PAUSE", 10),
                                          timeout=app.config.get("WECOM_TIMEOUT", (3.05, 10)))


def wecom():
    """The current app's WeCom client."""
    return current_app.extensions["wecom"]


def commit_upsert(write, *args):
    """Run write(*args) and commit, returning what it returned; if a concurrent writer inserted the
    same keys first, do it once more.

    The second run sees the other writer's rows and updates them instead of inserting.
    """
    for attempt in (1, 2):
        try:
            written = write(*args)
            db.session.commit()
            return written
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
