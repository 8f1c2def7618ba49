"""The production path: `flask --app wsgi db upgrade`, then `gunicorn -w 2 wsgi:app` against a WeCom API."""
import os
import socket
import subprocess
import sys
import threading
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from helpers import POSTGRES, advisors, database_url, eventually, make_app, run_sql
from sidebar.database import SQLITE_SETTINGS, checkpoint_in_background

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port():
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(tmp_path, emulator):
    """gunicorn with four worker processes (as gunicorn.conf.py picks on two cores), configured only
    through the environment, on the database database_url(tmp_path / "prod.db")."""
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "SIDEBAR_DATABASE_URL": database_url(tmp_path / "prod.db"),
        "SIDEBAR_SECRET_KEY": "production-like-secret-key-0123456789abcdef",
        "SIDEBAR_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "WECOM_CORP_ID": "wwdemo0000000001",
        "WECOM_AGENT_ID": "1000002",
        "WECOM_SECRET": "demo-secret-do-not-use-in-production",
        "WECOM_API_BASE": emulator.url,
        "WECOM_OAUTH_BASE": emulator.url,
    }
    subprocess.run([BIN / "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen([BIN / "gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                                   cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process, log)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_healthy(base, process, log, seconds=60):
    """Poll /healthz until gunicorn answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(log.read_text())
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"gunicorn did not become healthy:\n{log.read_text()}")


def test_gunicorn_serves_login_and_signatures_after_db_upgrade(gunicorn, world):
    browser = requests.Session()
    browser.cookies.set("wecom_userid", advisors(world)[0])
    shell = browser.get(f"{gunicorn}/sidebar/", timeout=10)
    assert shell.status_code == 200 and 'data-corp-id="wwdemo0000000001"' in shell.text
    assert "/_wecom/bridge.js" not in shell.text, "production pages never load the emulator's bridge"
    for kind in ("corp", "agent", "corp", "agent"):  # two workers, one shared cache
        signed = browser.get(f"{gunicorn}/jssdk/signature",
                             params={"type": kind, "url": f"{gunicorn}/sidebar/"}, timeout=10)
        assert signed.status_code == 200 and len(signed.json()["signature"]) == 40
    assert requests.get(f"{gunicorn}/healthz", timeout=5).json() == {"status": "ok", "database": "ok"}


def test_the_access_log_keeps_the_network_not_the_address_and_no_tracked_link_token(gunicorn, tmp_path):
    token = "Zt0kenOfAShareXyz123"
    for path in (f"/r/{token}", f"/r/{token}/cover", "/healthz?code=secret-oauth-code"):
        requests.get(f"{gunicorn}{path}", timeout=10)

    def access_lines():
        """The access log's lines so far (gunicorn writes them after each response)."""
        lines = [line for line in (tmp_path / "gunicorn.log").read_text().splitlines() if '"GET ' in line]
        return lines if any("/cover" in line for line in lines) else None

    lines = eventually(access_lines)
    assert lines, (tmp_path / "gunicorn.log").read_text()
    assert any(line.startswith("127.0.0.0/24 ") and '"GET /r/…" 404' in line for line in lines), lines
    assert any('"GET /r/…/cover" 404' in line for line in lines), lines
    text = "\n".join(lines)
    assert "127.0.0.1" not in text and token not in text and "secret-oauth-code" not in text


def test_twenty_concurrent_writers_through_four_workers_never_see_a_locked_database(gunicorn, world, tmp_path):
    """Twenty advisors' sessions open clients (new to the app, each shared by colleagues) and write
    notes, all at once: every write lands."""
    followers = {}
    for f in world["follows"]:
        followers.setdefault(f["external_userid"], []).append(f["userid"])
    writers = [(userid, contact) for contact, who in followers.items() if len(who) > 1 for userid in who][:20]
    sessions = [signed_in_session(gunicorn, userid) for userid, _ in writers]
    start = threading.Barrier(len(writers))

    def write(i):
        session, (userid, contact) = sessions[i], writers[i]
        statuses = []
        start.wait()
        for round_ in range(5):
            statuses.append(session.get(f"{gunicorn}/sidebar/contacts/{contact}", timeout=30).status_code)
            statuses.append(session.post(f"{gunicorn}/sidebar/contacts/{contact}/notes", timeout=30,
                                         data={"body": f"并发写入 {i}-{round_}"},
                                         headers={"X-CSRFToken": session.csrf, "HX-Request": "true"}).status_code)
        return statuses

    assert len(writers) == 20
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = [status for answer in pool.map(write, range(20)) for status in answer]
    assert statuses == [200] * 200
    engine = create_engine(database_url(tmp_path / "prod.db"))  # gunicorn's database
    with engine.connect() as conn:
        written = conn.scalar(text("SELECT count(*) FROM follow_up_note WHERE body LIKE '并发写入 %'"))
        viewed = conn.scalar(text("SELECT count(*) FROM client_view"))
    engine.dispose()
    assert (written, viewed) == (100, 200), "each panel and each notes section shown is a logged view"


@pytest.mark.skipif(bool(POSTGRES), reason="SQLite's write-ahead log")
def test_a_serving_worker_checkpoints_sqlite_in_its_own_thread_not_in_a_commit(tmp_path, emulator):
    app, before = make_app(tmp_path / "wal.db", emulator.url), dict(SQLITE_SETTINGS)
    stop = threading.Event()
    checkpoint_in_background(app, every=0.5, backstop_pages=100_000, stop=stop)
    try:
        size = (tmp_path / "wal.db").stat().st_size
        run_sql(app, "CREATE TABLE filler (x BLOB)")
        run_sql(app, "INSERT INTO filler SELECT randomblob(4000) FROM (WITH RECURSIVE n(i) AS "
                     "(SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) SELECT i FROM n)")  # ~2,000 pages
        deadline = time.monotonic() + 20
        while (tmp_path / "wal.db").stat().st_size < size + 8_000_000 and time.monotonic() < deadline:
            time.sleep(0.1)  # a commit past 100,000 pages only would copy them: the thread must
        assert (tmp_path / "wal.db").stat().st_size >= size + 8_000_000, "the WAL was copied into the database"
    finally:
        stop.set()
        SQLITE_SETTINGS.update(before)  # this test process is not a serving worker


def signed_in_session(base, userid):
    """A requests session logged in through the emulator's OAuth, with its CSRF token at `.csrf`."""
    session = requests.Session()
    session.cookies.set("wecom_userid", userid)
    page = session.get(f"{base}/sidebar/", timeout=30).text
    session.csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return session


def test_demo_command_serves_the_simulated_client_and_the_sidebar(tmp_path):
    """`flask --app wsgi demo` needs no settings: SQLite, the emulator at /_wecom, a login that works."""
    port = free_port()
    env = {"PATH": os.environ["PATH"], "SIDEBAR_DATABASE_URL": f"sqlite:///{tmp_path}/demo.db"}
    log = tmp_path / "demo.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen([BIN / "flask", "--app", "wsgi", "demo", "--port", str(port)], cwd=ROOT,
                                   env=env, stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process, log)
        assert f"{base}/_wecom/client" in log.read_text()
        assert "张伟" in requests.get(f"{base}/_wecom/client", timeout=10).text
        browser = requests.Session()
        browser.cookies.set("wecom_userid", "zhangwei")
        shell = browser.get(f"{base}/sidebar/", timeout=10)
        assert shell.status_code == 200 and "/_wecom/bridge.js" in shell.text
    finally:
        process.terminate()
        process.wait(timeout=30)
