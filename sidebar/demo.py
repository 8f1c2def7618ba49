"""`flask --app wsgi demo`: the embedded default (SQLite, the WeCom emulator, seeded data)."""
import click
from flask_migrate import upgrade
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import run_simple

EMULATOR_PREFIX = "/_wecom"


def mount_emulator(app):
    """The app with the WeCom emulator beside it at /_wecom; returns (wsgi_app, emulator)."""
    from .emulator import create_emulator

    emulator = create_emulator(corp_id=app.config["WECOM_CORP_ID"], agent_id=app.config["WECOM_AGENT_ID"],
                               secret=app.config["WECOM_SECRET"], sidebar_url="/sidebar/",
                               logout_url="/auth/logout")
    return DispatcherMiddleware(app, {EMULATOR_PREFIX: emulator}), emulator


def prepare_demo(app):
    """Schema, emulator and the demo's trading data; returns (wsgi_app, emulator)."""
    from .demo_data import demo_profiles
    from .sync.profiles import import_profiles

    wsgi_app, emulator = mount_emulator(app)
    with app.app_context():
        upgrade()
        result = import_profiles(demo_profiles(emulator.world.as_json()))
    app.logger.info("demo: %d profile rows imported, %d rejected", result.accepted, len(result.rejected))
    return wsgi_app, emulator


def emulated_settings(base_url):
    """Settings that point the app at an emulator mounted on the server at base_url."""
    wecom = base_url.rstrip("/") + EMULATOR_PREFIX
    return {"WECOM_API_BASE": wecom, "WECOM_OAUTH_BASE": wecom}


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo(host, port):
    """Run the demo: schema, emulator at /_wecom, the simulated WeCom client."""
    from . import create_app

    browser_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{browser_host}:{port}"
    app = create_app({"SIDEBAR_MODE": "demo", **emulated_settings(base)})
    wsgi_app, _ = prepare_demo(app)
    click.echo(f"Sidebar demo: open the simulated WeCom client at {base}{EMULATOR_PREFIX}/client")
    run_simple(host, port, wsgi_app, threaded=True, use_reloader=False)
