"""Shared fixtures: real HTTP servers on loopback ports, a real database, real Chromium.

The database is a SQLite file per test, or, when scripts/with-postgres runs the suite, a database of
its own per test on that PostgreSQL server.
"""
import shutil
import socket
import subprocess

import pytest
import requests
from playwright.sync_api import sync_playwright

from helpers import (CHROMIUM_ARGS, CONSOLE_STAFF, POSTGRES, eventually, make_app, redis_answers, release_since,
                     resources_made, run_worker, serve_callbacks, serve_emulator, start_demo)


@pytest.fixture(scope="session")
def emulator_server():
    """The WeCom emulator as its own HTTP server, shared by the whole session."""
    server = serve_emulator()
    yield server
    server.stop()


@pytest.fixture
def emulator(emulator_server):
    """The session's emulator with faults, call log and clock reset for this test."""
    requests.post(f"{emulator_server.url}/_admin/reset", timeout=5).raise_for_status()
    return emulator_server


def pytest_report_header():
    """Say which engine this run tests."""
    return f"database: PostgreSQL at {POSTGRES}" if POSTGRES else "database: SQLite files"


@pytest.fixture(autouse=True)
def _close_databases():
    """After each test, stop its workers, close its apps' connections, drop the PostgreSQL databases it made."""
    made = resources_made()
    yield
    release_since(made)


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
    server = start_demo(tmp_path / "demo.db")
    run_worker(server.flask_app)  # as the demo runs one (its periodic jobs: tests/test_jobs.py)
    yield server
    server.stop()


@pytest.fixture
def own_emulator():
    """A fresh emulator on its own HTTP server: for tests that change the world (the session's must not)."""
    server = serve_emulator()
    yield server
    server.stop()


@pytest.fixture
def live_app(tmp_path, own_emulator):
    """The app served over real HTTP, with own_emulator sending it encrypted callbacks (URL verified)."""
    app = make_app(tmp_path / "sidebar.db", own_emulator.url, SYNC_PACE_SECONDS=0, WECOM_RATE_LIMIT_PAUSE=0.2)
    server = serve_callbacks(app, own_emulator)
    server.worker = run_worker(app)
    yield server
    requests.delete(f"{own_emulator.url}/_admin/callback", timeout=5)
    server.stop()


@pytest.fixture
def library_app(tmp_path, emulator):
    """The app with uploads under tmp_path and the emulator's console staff holding their roles."""
    from sidebar.extensions import db
    from sidebar.identity.service import grant_role

    app = make_app(tmp_path / "sidebar.db", emulator.url)
    with app.app_context():
        for userid, role in CONSOLE_STAFF.items():
            grant_role(userid, role)
        db.session.commit()
    return app


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """Debian's redis-server on a free loopback port, nothing kept on disk; skipped where not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (`make test` installs it)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(folder)], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    client = redis.Redis.from_url(url)
    assert eventually(lambda: redis_answers(client), timeout=10), "redis-server did not start"
    yield url
    client.close()
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server):
    """The session's Redis server, emptied for this test (every test's queue is called `sidebar`)."""
    import redis

    with redis.Redis.from_url(redis_server) as client:
        client.flushdb()
    return redis_server
