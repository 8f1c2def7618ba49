"""`flask --app wsgi demo`: the embedded default (SQLite, the WeCom emulator, seeded data, a worker)."""
import click
from flask_migrate import upgrade
from sqlalchemy import delete
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from .extensions import db

EMULATOR_PREFIX = "/_wecom"


def mount_emulator(app):
    """The app with the WeCom emulator beside it at /_wecom; returns (wsgi_app, emulator)."""
    from .emulator import create_emulator

    emulator = create_emulator(corp_id=app.config["WECOM_CORP_ID"], agent_id=app.config["WECOM_AGENT_ID"],
                               secret=app.config["WECOM_SECRET"], sidebar_url="/sidebar/",
                               logout_url="/auth/logout", **_callback_settings(app))
    return DispatcherMiddleware(app, {EMULATOR_PREFIX: emulator}), emulator


def _callback_settings(app):
    """The emulator's callback target: this server's /wecom/callback, with the app's Token and key."""
    api_base = app.config["WECOM_API_BASE"]
    if not app.config.get("WECOM_TOKEN") or not api_base.endswith(EMULATOR_PREFIX):
        return {}
    return {"callback_url": api_base[:-len(EMULATOR_PREFIX)] + "/wecom/callback",
            "callback_token": app.config["WECOM_TOKEN"], "callback_aes_key": app.config["WECOM_AES_KEY"]}


def prepare_demo(app):
    """Schema, emulator and the demo's trading data; returns (wsgi_app, emulator)."""
    from .acquisition.demo import seed_acquisition
    from .demo_data import demo_profiles, group_history, prospect_profiles
    from .insight.snapshot import backfill
    from .materials.demo import seed_materials
    from .materials.storage import storage
    from .sop.demo import seed_sop
    from .sync.profiles import import_profiles

    wsgi_app, emulator = mount_emulator(app)
    world = emulator.world.as_json()
    with app.app_context():
        upgrade()
        forget_last_emulator()
        rows = demo_profiles(world) + prospect_profiles(world)
        result = import_profiles(rows)
        backfill(group_history(world, rows))  # 90 days of group snapshots; the showroom grows ×5 / ×15
        seed_materials(storage())  # console roles and an approved library, products R1–R5
        seed_sop(world)  # the showroom story's SOP plans, 90 days of their history, a task due now
        seed_acquisition(world, emulator, app.config["WECOM_API_BASE"], storage())  # channels, 90 days of arrivals
    app.logger.info("demo: %d profile rows imported, %d rejected", result.accepted, len(result.rejected))
    return wsgi_app, emulator


def forget_last_emulator():
    """Drop the token, tickets and media ids a previous run's emulator issued: this one is new.

    Each start seeds a new emulator with new secrets, while instance/ keeps the database; what the
    old one issued would be served from the cache and refused (agentConfig: invalid signature).
    """
    from .models import TokenCache, WeComMedia

    db.session.execute(delete(TokenCache))
    db.session.execute(delete(WeComMedia))
    db.session.commit()


def emulated_settings(base_url):
    """Settings that point the app at an emulator mounted on the server at base_url."""
    wecom = base_url.rstrip("/") + EMULATOR_PREFIX
    return {"WECOM_API_BASE": wecom, "WECOM_OAUTH_BASE": wecom}


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo(host, port):
    """Run the demo: schema, emulator at /_wecom, the simulated WeCom client, and a task-queue worker."""
    from . import create_app
    from .jobs.worker import start_worker

    browser_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{browser_host}:{port}"
    app = create_app({"SIDEBAR_MODE": "demo", **emulated_settings(base)})
    wsgi_app, _ = prepare_demo(app)
    server = make_server(host, port, wsgi_app, threaded=True)  # listening before the worker calls the emulator
    worker = start_worker(app)
    click.echo(f"Sidebar demo: open the simulated WeCom client at {base}{EMULATOR_PREFIX}/client")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop(graceful=True)
