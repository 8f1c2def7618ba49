"""The demo server's request log keeps what gunicorn's does: no access token from the emulator's API calls,
no OAuth code or search words, no whole address, no tracked link's token."""
import logging
import socket
import threading

import requests
from werkzeug.serving import make_server

from sidebar.demo import PrivateRequestHandler


def ok(environ, start_response):
    """A WSGI app that answers 200."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def test_the_demo_server_logs_the_network_and_the_path_only(caplog):
    server = make_server("127.0.0.1", 0, ok, request_handler=PrivateRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            requests.get(f"{base}/_wecom/cgi-bin/user/get?userid=lina&access_token=SeCrEtToKeN", timeout=5)
            requests.get(f"{base}/r/AbCdEfTrackedToken/cover", timeout=5)
            requests.get(f"{base}/manage/wall/pair/PaIrInGsEcReT", timeout=5)
            with socket.create_connection(("127.0.0.1", server.server_port), timeout=5) as raw:
                raw.sendall(b"GET /x?access_token=RaWlInEtOkEn\r\n\r\n")  # no HTTP version: a bad request line
                raw.recv(4096)
    finally:
        server.shutdown()
    lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert len(lines) >= 4, lines
    for secret in ("SeCrEtToKeN", "AbCdEfTrackedToken", "lina", "PaIrInGsEcReT", "RaWlInEtOkEn"):
        assert secret not in caplog.text
    assert "127.0.0.1 " not in caplog.text and "127.0.0.0/24" in caplog.text
    assert '"GET /_wecom/cgi-bin/user/get" 200' in lines[0] and '"GET /r/…/cover" 200' in lines[1]
    assert '"GET /manage/wall/pair/…" 200' in lines[2]
