"""What the tests share besides fixtures: live servers, apps on a real database, signing in, seeding, waiting."""
import functools
import io
import os
import re
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool
from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder

from sidebar import create_app
from sidebar.emulator import create_emulator
from sidebar.extensions import db
from sidebar.jobs.worker import start_worker


class LiveServer:
    """A WSGI app served by a real threaded HTTP server on a free loopback port."""

    def __init__(self, wsgi_app=None):
        self.app = wsgi_app  # may be set after start, once the app knows the server's URL
        self._server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _dispatch(self, environ, start_response):
        """Hand each request to the current app."""
        return self.app(environ, start_response)

    def stop(self):
        """Stop serving and wait for the thread to end."""
        self._server.shutdown()
        self._thread.join(timeout=5)


def serve_emulator():
    """A freshly seeded WeCom emulator on its own HTTP server."""
    emulator = create_emulator()
    server = LiveServer(emulator)
    server.emulator = emulator
    return server


POSTGRES = os.environ.get("SIDEBAR_TEST_POSTGRES")  # a server URL without a database name
_databases = {}  # str(db_path) -> its PostgreSQL database, in creation order
_apps = []  # every app made, so that each test's engines are closed after it
_workers = []  # every task-queue worker started, stopped after its test


def _postgres(statement):
    """Run one statement on the PostgreSQL server's maintenance database (outside a transaction)."""
    engine = create_engine(POSTGRES + "postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as conn:
        conn.execute(text(statement))


def resources_made():
    """How many apps, databases and workers the tests made so far (a mark for release_since)."""
    return len(_apps), len(_databases), len(_workers)


def release_since(made):
    """Stop the workers, close the apps' connections and drop the PostgreSQL databases made after the mark."""
    apps, databases, workers = made
    for worker in _workers[workers:]:
        worker.stop(graceful=True)
    del _workers[workers:]
    for app in _apps[apps:]:
        app.extensions["jobs"].close()
        with app.app_context():
            db.engine.dispose()
    del _apps[apps:]
    for path in list(_databases)[databases:]:
        _postgres(f"DROP DATABASE {_databases.pop(path)} WITH (FORCE)")


def database_url(db_path, copy_of=None):
    """The URL of the test database db_path names: a SQLite file, or a PostgreSQL database made for it.

    copy_of names a database (closed) to start from, copied whole.
    """
    if not POSTGRES:
        if copy_of:
            with sqlite3.connect(copy_of) as source, sqlite3.connect(db_path) as target:
                source.backup(target)
        return f"sqlite:///{db_path}"
    if str(db_path) not in _databases:
        name = f"test_{len(_databases)}"
        template = _databases[str(copy_of)] if copy_of else _migrated_template()
        _postgres(f"CREATE DATABASE {name} TEMPLATE {template}")
        _databases[str(db_path)] = name
    return POSTGRES + _databases[str(db_path)]


@functools.cache
def _migrated_template():
    """A PostgreSQL database migrated to head, made once: copying it is ten times faster than migrating."""
    name = "migrated_template"
    _postgres(f"CREATE DATABASE {name}")
    app = create_app({"SIDEBAR_MODE": "test", "SIDEBAR_DATABASE_URL": POSTGRES + name,
                      "SIDEBAR_SECRET_KEY": "x" * 32, "WECOM_API_BASE": "http://127.0.0.1:9"})
    with app.app_context():
        upgrade()
    with app.app_context():
        db.engine.dispose()  # a template must have no connections
    return name


def run_sql(app, statement):
    """Run one SQL statement on app's database and commit (a test changing what the app stored)."""
    with app.app_context():
        db.session.execute(text(statement))
        db.session.commit()


def database_dump(app):
    """Every row of every table in app's database, as text: to show what is never stored."""
    with app.app_context(), db.engine.connect() as conn:
        tables = inspect(conn).get_table_names()
        return "\n".join(str(tuple(row)) for table in tables for row in conn.execute(text(f'SELECT * FROM "{table}"')))


def make_app(db_path, emulator_url, copy_of=None, **settings):
    """A test-mode app on a real database, migrated to head, talking to the emulator."""
    app = create_app({
        "SIDEBAR_MODE": "test",
        "SIDEBAR_DATABASE_URL": database_url(db_path, copy_of),
        "SIDEBAR_SECRET_KEY": "test-secret-key-" + "x" * 32,
        "WECOM_API_BASE": emulator_url,
        "WECOM_OAUTH_BASE": emulator_url,
        "SIDEBAR_UPLOAD_DIR": str(Path(db_path).parent / "uploads"),  # never the repo's instance/
        "WECOM_OUTAGE_PAUSE": 0,  # tests switch faults off and retry at once; test_wecom_outage sets it
        **settings,
    })
    _apps.append(app)
    with app.app_context():
        upgrade()
    return app


def run_worker(app, threads=2, periodic=False, **options):
    """A task-queue worker for app, in threads of the test process (no periodic jobs unless asked)."""
    worker = start_worker(app, threads=threads, periodic=periodic, **options)
    _workers.append(worker)
    return worker


def wecom_calls(emulator, path=None):
    """How many calls the emulator received (on one path, or in all)."""
    counts = requests.get(f"{emulator.url}/_admin/calls", timeout=5).json()["counts"]
    return counts.get(path, 0) if path else sum(counts.values())


def login(client, userid):
    """Log userid in through the real OAuth round trip with the emulator; returns the last response."""
    start = client.get("/sidebar/")
    assert start.status_code == 302, start.status_code
    authorize = requests.get(start.location, cookies={"wecom_userid": userid}, allow_redirects=False, timeout=5)
    assert authorize.status_code == 302, authorize.text
    back = urlsplit(authorize.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


def csrf_token(client):
    """The CSRF token a page of ours carries for this client's session."""
    page = client.get("/sidebar/").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def same_answer(first, second):
    """Two responses say the same thing: status and body, but for the CSRF token each page carries
    (signed with the second it was made in, so two pages a second apart differ there)."""
    def body(response):
        data = re.sub(rb'name="csrf-token" content="[^"]+"', b"", response.get_data())
        return re.sub(rb'"X-CSRFToken": "[^"]+"', b"", data)  # the same token again, in htmx's headers
    return first.status_code == second.status_code and body(first) == body(second)


def advisors(world):
    """userids of the seed's advisors, in seed order."""
    return [s["userid"] for s in world["staff"] if s["role"] == "advisor"]


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def serve_callbacks(app, emulator):
    """app served over real HTTP, with emulator sending it encrypted callbacks (URL verified)."""
    server = LiveServer(app)
    server.flask_app = app
    answer = requests.post(f"{emulator.url}/_admin/callback", timeout=10, json={
        "url": server.url + "/wecom/callback", "token": app.config["WECOM_TOKEN"],
        "aes_key": app.config["WECOM_AES_KEY"], "verify": True}).json()
    assert answer["verified"] is True, answer
    return server


def change_world(emulator, action, **args):
    """Change the emulator's world as a person in WeCom would; returns the answer (callbacks delivered)."""
    answer = requests.post(f"{emulator.url}/_admin/change", json={"action": action, **args}, timeout=15)
    assert answer.status_code == 200, answer.text
    return answer.json()


def eventually(check, timeout=5.0):
    """check()'s first truthy value within timeout seconds (the worker processes callbacks after the answer)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


CONSOLE_STAFF = {"zhaomin": "content", "sunli": "compliance", "zhouqiang": "manager"}


def signed_in(app, userid):
    """A test client logged in as userid through OAuth; `.csrf` holds its session's CSRF token."""
    client = app.test_client()
    login(client, userid)
    client.csrf = csrf_token(client)
    return client


def in_one_window(burst, addresses):
    """Run burst(address) from the next address until one run starts and ends in the same minute.

    The rate limits count in fixed windows that restart on the clock's minute, so a burst that
    straddles the boundary is split between two counts and proves nothing either way.
    """
    for address in addresses:
        minute = time.time() // 60
        try:
            burst(address)
        except AssertionError:
            if time.time() // 60 == minute:
                raise
            continue
        if time.time() // 60 == minute:
            return
    pytest.fail("every burst straddled a minute boundary")


def publish(app, kind="text", author="zhaomin", reviewer="sunli", **fields):
    """A material created, submitted and approved through the review service; returns its id."""
    import io

    from sidebar.materials import review, samples
    from sidebar.materials.forms import MaterialInput
    from sidebar.materials.uploads import accept

    files = {"image": ("poster.png", samples.png), "video": ("clip.mp4", samples.mp4), "file": ("note.pdf", samples.pdf)}
    values = dict(kind=kind, title=f"测试{kind}", summary="", category="市场观点", tags="", risk_level=None,
                  valid_from=None, valid_until=None, disclaimer=None, body="您好" if kind == "text" else None,
                  url="https://example.com/a" if kind == "link" else None,
                  appid="wx0123456789abcdef" if kind == "miniprogram" else None,
                  page="pages/index.html" if kind == "miniprogram" else None, file=None, cover=None)
    values.update(fields)
    if values["risk_level"] and not values["disclaimer"]:
        values["disclaimer"] = "投资有风险，入市需谨慎"
    if kind in files and values["file"] is None:
        name, make = files[kind]
        values["file"] = accept(kind, name, io.BytesIO(make()))
    if kind in ("link", "miniprogram") and values["cover"] is None:
        values["cover"] = accept("image", "cover.png", io.BytesIO(samples.png(80, 60)))
    with app.app_context():
        from sidebar.materials.storage import storage

        material = review.create_material(storage(), author, MaterialInput(**values))
        review.submit(author, material.id)
        review.approve(reviewer, material.id)
        db.session.commit()
        return material.id


def import_classes(app, classes, today=None):
    """Trading profiles giving people a risk class: {unionid: ("C3", days_valid or -days_expired, tags)}."""
    from datetime import timedelta

    from sidebar.models import china_today
    from sidebar.sync.profiles import import_profiles

    today = today or china_today()
    rows = [{"account_id": f"8877{index:08d}", "unionid": unionid, "name": "测试客户", "stage": "funded",
             "risk_level": level, "risk_expires": (today + timedelta(days=days)).isoformat() if level else None,
             "tags": list(tags)} for index, (unionid, (level, days, tags)) in enumerate(classes.items())]
    with app.app_context():
        result = import_profiles(rows)
    assert not result.rejected, result.rejected


def upload(client, kind, data, name, mimetype="application/octet-stream", **fields):
    """POST a material of kind with one file in the `file` field (or `cover` for links)."""
    field = "cover" if kind == "link" else "file"
    form = {"csrf_token": client.csrf, "kind": kind, "title": "上传测试", "category": "市场观点",
            "url": "https://example.com/a", field: (io.BytesIO(data), name, mimetype), **fields}
    environ = EnvironBuilder(path="/console/materials", method="POST", data=form,
                             content_type="multipart/form-data").get_environ()
    try:
        response = client.open(environ)
        response.get_data()
        return response
    finally:
        environ["wsgi.input"].close()  # the test client's temporary file holding a large body


def redis_answers(client):
    """Whether the Redis server answers a PING."""
    import redis

    try:
        return client.ping()
    except redis.ConnectionError:
        return False


def start_demo(db_path):
    """App and a new emulator on one real HTTP server over db_path, prepared as `flask --app wsgi demo` does."""
    from sidebar.demo import EMULATOR_PREFIX, prepare_demo

    server = LiveServer()
    app = make_app(db_path, server.url + EMULATOR_PREFIX)
    server.app, server.emulator = prepare_demo(app)
    server.flask_app = app
    return server
