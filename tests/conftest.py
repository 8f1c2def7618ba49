"""Shared fixtures: real HTTP servers on loopback ports, a real SQLite file, real Chromium."""
import re
import threading
from urllib.parse import urlsplit

import pytest
import requests
from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from sidebar import create_app
from sidebar.demo import EMULATOR_PREFIX, prepare_demo
from sidebar.emulator import create_emulator


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


@pytest.fixture(scope="session")
def emulator_server():
    """The WeCom emulator as its own HTTP server, shared by the whole session."""
    emulator = create_emulator()
    server = LiveServer(emulator)
    server.emulator = emulator
    yield server
    server.stop()


@pytest.fixture
def emulator(emulator_server):
    """The session's emulator with faults, call log and clock reset for this test."""
    requests.post(f"{emulator_server.url}/_admin/reset", timeout=5).raise_for_status()
    return emulator_server


def make_app(db_path, emulator_url, **settings):
    """A test-mode app on a real SQLite file, migrated to head, talking to the emulator."""
    app = create_app({
        "SIDEBAR_MODE": "test",
        "SIDEBAR_DATABASE_URL": f"sqlite:///{db_path}",
        "SIDEBAR_SECRET_KEY": "test-secret-key-" + "x" * 32,
        "WECOM_API_BASE": emulator_url,
        "WECOM_OAUTH_BASE": emulator_url,
        **settings,
    })
    with app.app_context():
        upgrade()
    return app


@pytest.fixture
def app(tmp_path, emulator):
    """The sidebar app in test mode against the session's emulator."""
    return make_app(tmp_path / "sidebar.db", emulator.url)


@pytest.fixture
def client(app):
    """Flask's test client for app."""
    return app.test_client()


@pytest.fixture(scope="session")
def world(emulator_server):
    """The emulator's seeded world as JSON, to compute expectations independently."""
    return requests.get(f"{emulator_server.url}/_admin/world", timeout=5).json()


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


def advisors(world):
    """userids of the seed's advisors, in seed order."""
    return [s["userid"] for s in world["staff"] if s["role"] == "advisor"]


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def demo_server(tmp_path):
    """App and emulator on one real HTTP server, as `flask --app wsgi demo` serves them."""
    server = LiveServer()
    app = make_app(tmp_path / "demo.db", server.url + EMULATOR_PREFIX)
    server.app, server.emulator = prepare_demo(app)
    server.flask_app = app
    yield server
    server.stop()
