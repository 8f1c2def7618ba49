"""`flask --app wsgi demo`: the embedded default (SQLite, the WeCom emulator, seeded data, a worker)."""
import click
from flask_migrate import upgrade
from sqlalchemy import delete
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import WSGIRequestHandler, make_server

from .addresses import logged_path, network_of
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
    """Schema, emulator and the demo's trading data; returns (wsgi_app, emulator).

    Boundary: the demo's seeding is one unit of work, committed before the server starts.
    """
    from .actions.demo import seed_actions
    from .acquisition.demo import seed_acquisition
    from .demo_data import demo_profiles, group_history, prospect_profiles
    from .insight.snapshot import backfill
    from .manage.activity_demo import seed_activity
    from .manage.demo import seed_manage
    from .materials.demo import seed_materials, seed_qualified_group
    from .materials.storage import storage
    from .sop.demo import seed_sop
    from .sop.mass_demo import seed_mass_send
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
        seed_activity(emulator.world)  # the department tree, its managers and 90 days of WeCom statistics
        seed_manage()  # the recent journey steps spread over their days (开户实况 compares the same time)
        seed_mass_send(world)  # a step due for several of the showroom owner's clients: 客户群发 in the 工作台
        seed_qualified_group(emulator.world)  # a 合格投资者群 compliance marked C4
        seed_actions(emulator.world, storage())  # 下一步: scenes on materials, a client added today, a mobile to link
        seed_acquisition(world, emulator, app.config["WECOM_API_BASE"], storage())  # channels, 90 days of arrivals
        db.session.commit()
    app.logger.info("demo: %d profile rows imported, %d rejected", result.accepted, len(result.rejected))
    return wsgi_app, emulator


def sync_in_background(app):
    """The full sync a night would run, once, in a thread, as soon as the server listens: the demo's local copy
    then holds every contact linked to its profile, which WeCom coverage and the managers' figures count.
    Returns the thread."""
    import threading

    from .extensions import wecom
    from .jobs.commands import by_hand
    from .sync import full

    def run():
        with app.app_context():
            try:
                with by_hand("sync"):  # under the worker's lease, recorded in /console/jobs
                    full.sync(wecom())
            except Exception as error:  # noqa: BLE001  the demo runs on without it: the nightly job syncs
                app.logger.warning("demo: the first sync did not finish: %s", error)
    thread = threading.Thread(target=run, name="demo-first-sync", daemon=True)
    thread.start()
    return thread


def forget_last_emulator():
    """Drop the token, tickets and media ids a previous run's emulator issued: this one is new.

    Each start seeds a new emulator with new secrets, while instance/ keeps the database; what the
    old one issued would be served from the cache and refused (agentConfig: invalid signature).
    Boundary: committed at once — the WeCom client reads and writes its token cache on a connection of its
    own, which must not meet this deletion uncommitted (SQLite would lock it out).
    """
    from .models import TokenCache, WeComMedia

    db.session.execute(delete(TokenCache))
    db.session.execute(delete(WeComMedia))
    db.session.commit()


def emulated_settings(base_url):
    """Settings that point the app at an emulator mounted on the server at base_url."""
    wecom = base_url.rstrip("/") + EMULATOR_PREFIX
    return {"WECOM_API_BASE": wecom, "WECOM_OAUTH_BASE": wecom}


class PrivateRequestHandler(WSGIRequestHandler):
    """The demo server's request log kept as gunicorn's is (gunicorn.conf.py): the client's network, the
    path without its query string — the emulator's own API calls carry access tokens there."""

    def log_request(self, code="-", size="-"):
        """One line a request: network, method and path, status."""
        path = logged_path(getattr(self, "path", ""))  # a malformed request line is answered before it has one
        self.log("info", '"%s %s" %s', getattr(self, "command", "-"), path, getattr(code, "value", code))

    def log_error(self, format, *args):  # noqa: A002 - http.server's signature
        """Not the raw request line http.server puts in its errors (it carries the query string)."""
        self.log("error", "malformed request")

    def address_string(self):
        """The client's network, never its whole address."""
        return network_of(self.client_address[0]) or "-"


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo(host, port):
    """Run the demo: schema, emulator at /_wecom, the simulated WeCom client, and a task-queue worker."""
    from . import create_app
    from .jobs.worker import start_worker
    from .manage.demo import start_demo_openings

    browser_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{browser_host}:{port}"
    app = create_app({"SIDEBAR_MODE": "demo", **emulated_settings(base)})
    wsgi_app, emulator = prepare_demo(app)
    # listening before the worker calls the emulator
    server = make_server(host, port, wsgi_app, threaded=True, request_handler=PrivateRequestHandler)
    worker = start_worker(app)
    first_sync = sync_in_background(app)
    openings = start_demo_openings(app, emulator.world.as_json(), after=first_sync)  # an opening every few minutes
    click.echo(f"Sidebar demo: open the simulated WeCom client at {base}{EMULATOR_PREFIX}/client")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        openings.set()
        worker.stop(graceful=True)
