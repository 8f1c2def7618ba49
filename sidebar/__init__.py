"""Sidebar: the WeCom chat-toolbar app of a securities firm's advisors."""
import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import assets, database, memo, params, queue, transactions, versions, web  # noqa: F401 (database: its SQLite settings)
from .config import load_settings
from .extensions import csrf, db, htmx, init_wecom, migrate
from .materials import storage as material_storage


def create_app(test_config=None):
    """Build the app; test_config (a dict) overrides settings read from the environment."""
    app = Flask(__name__, template_folder="../templates", static_folder="../static",
                instance_relative_config=True)
    app.config.update(load_settings(os.environ, test_config, app.instance_path))
    os.makedirs(app.instance_path, exist_ok=True)
    transactions.init_app(app)  # first: its commit runs after every other response hook
    _init_extensions(app)
    params.init_app(app)  # its URL converters must be in place before the blueprints add their rules
    _register_blueprints(app)
    _register_commands(app)
    web.init_app(app)
    _trust_proxies(app)
    return app


def _trust_proxies(app):
    """Behind N reverse proxies, take client address and scheme from their X-Forwarded-* headers."""
    count = app.config["SIDEBAR_TRUSTED_PROXIES"]
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def _init_extensions(app):
    """Bind the extension objects of extensions.py."""
    from .models import TokenCache, in_schema

    db.init_app(app)
    versions.init_app(app)
    migrate.init_app(app, db, directory=os.path.abspath(os.path.join(app.root_path, "..", "migrations")),
                     render_as_batch=True, include_name=in_schema)
    csrf.init_app(app)
    htmx.init_app(app)
    init_wecom(app, TokenCache.__table__)
    material_storage.init_app(app)
    memo.init_app(app)
    assets.init_app(app)
    queue.init_app(app)


def _register_blueprints(app):
    """One blueprint per feature."""
    from .actions.views import bp as actions_bp
    from .acquisition.console import bp as channels_bp
    from .health import bp as health_bp
    from .identity.views import bp as identity_bp
    from .insight.views import bp as insight_bp
    from .jobs.views import bp as jobs_bp
    from .manage.activity import bp as manage_activity_bp
    from .manage.views import bp as manage_bp
    from .manage.wall_views import bp as manage_walls_bp
    from .materials.console import bp as console_bp
    from .materials.qualified_console import bp as qualified_console_bp
    from .materials.views import bp as materials_bp
    from .sop.console import bp as sop_console_bp
    from .sop.mass_views import bp as sop_mass_bp
    from .sop.views import bp as sop_bp
    from .sync.callback_views import bp as callbacks_bp
    from .sync.views import bp as sync_bp

    for blueprint in (health_bp, identity_bp, insight_bp, sync_bp, callbacks_bp, materials_bp, console_bp, jobs_bp,
                      sop_bp, sop_console_bp, sop_mass_bp, manage_activity_bp, manage_bp, qualified_console_bp,
                      actions_bp, channels_bp, manage_walls_bp):
        app.register_blueprint(blueprint)


def _register_commands(app):
    """The `flask --app wsgi …` commands of the contract."""
    from .demo import demo
    from .identity.commands import roles
    from .insight.snapshot import snapshot_command
    from .jobs.commands import lock_commands, worker_command
    from .sop.commands import sop, sop_tick_command
    from .sync.commands import drain_inbox_command, import_profiles_command, push_tags_command, sync_command

    app.cli.add_command(demo)
    app.cli.add_command(roles)
    app.cli.add_command(import_profiles_command)
    for command in (sync_command, push_tags_command, drain_inbox_command):
        app.cli.add_command(command)
    app.cli.add_command(snapshot_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(sop)
    app.cli.add_command(sop_tick_command)
    lock_commands(app.cli)  # sync, push-tags, drain-inbox, snapshot: by hand, under the worker's lock
    transactions.commit_commands(app)  # last: every command, locked ones too, commits when it succeeds
