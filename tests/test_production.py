"""The production path: `flask --app wsgi db upgrade`, then `gunicorn -w 2 wsgi:app` against a WeCom API."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from conftest import advisors

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port():
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(tmp_path, emulator):
    """gunicorn with two workers, configured only through the environment."""
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "SIDEBAR_DATABASE_URL": f"sqlite:///{tmp_path}/prod.db",
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
        process = subprocess.Popen([BIN / "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
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
