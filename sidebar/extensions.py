"""Extension objects, created here and bound to the app in create_app (database tuning: database.py)."""
from flask import current_app
from flask_htmx import HTMX
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base shared by every model."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
htmx = HTMX()


def init_wecom(app, table):
    """Bind one WeCom client, caching in the given table, to the app."""
    from .wecom import DatabaseTokenCache, WeComClient

    cache = DatabaseTokenCache(lambda: db.engine, table)
    app.extensions["wecom"] = WeComClient(app.config["WECOM_API_BASE"], app.config["WECOM_OAUTH_BASE"],
                                          app.config["WECOM_CORP_ID"],
                                          app.config["WECOM_AGENT_ID"], app.config["WECOM_SECRET"], cache,
                                          rate_limit_pause=app.config["WECOM_RATE_LIMIT_PAUSE"],
                                          outage_pause=app.config["WECOM_OUTAGE_PAUSE"],
                                          timeout=app.config["WECOM_TIMEOUT"])


def wecom():
    """The current app's WeCom client."""
    return current_app.extensions["wecom"]
