"""Abuse limits kept in the database: login starts and returns, the import API and tracked links answer
429 with Retry-After once one address goes over, and every worker counts together."""
import pytest

from helpers import database_dump, in_one_window, make_app
from sidebar.addresses import network_of

TOKEN = "rate-limit-import-token-" + "q" * 20
ELSEWHERE = {"REMOTE_ADDR": "198.51.100.9"}
OFFICES = ("203.0.113.7", "192.0.2.44", "100.64.7.1")  # distinct networks, none of them ELSEWHERE's


def refused(response):
    """A 429 with a usable Retry-After (seconds, within the minute-long window)."""
    return response.status_code == 429 and 1 <= int(response.headers["Retry-After"]) <= 60


@pytest.fixture
def limited_app(tmp_path, emulator):
    """An app with small limits: 3 logins and 3 import calls per address per minute."""
    return make_app(tmp_path / "limits.db", emulator.url, SIDEBAR_IMPORT_TOKEN=TOKEN,
                    LOGIN_RATE_LIMIT=(3, 60), IMPORT_RATE_LIMIT=(3, 60))


def test_login_starts_and_returns_are_limited_per_address(limited_app):
    client = limited_app.test_client()

    def burst(address):
        office = {"REMOTE_ADDR": address}
        for _ in range(2):
            assert client.get("/sidebar/", environ_base=office).status_code == 302
        assert client.get("/auth/callback?code=x&state=y", environ_base=office).status_code == 400
        assert refused(client.get("/sidebar/", environ_base=office))
        stopped = client.get("/auth/callback?code=x&state=y", environ_base=office)
        assert refused(stopped) and "操作太频繁" in stopped.get_data(as_text=True)

    in_one_window(burst, OFFICES)
    assert client.get("/sidebar/", environ_base=ELSEWHERE).status_code == 302, "another address is not blocked"


def test_the_import_api_is_limited_per_address_wrong_tokens_included(limited_app):
    client = limited_app.test_client()
    good = {"Authorization": f"Bearer {TOKEN}"}

    def burst(address):
        office = {"REMOTE_ADDR": address}
        assert client.post("/api/v1/client-profiles", json=[], headers=good, environ_base=office).status_code == 200
        for _ in range(2):
            bad = client.post("/api/v1/client-profiles", json=[], headers={"Authorization": "Bearer guess"},
                              environ_base=office)
            assert bad.status_code == 401
        stopped = client.post("/api/v1/client-profiles", json=[], headers=good, environ_base=office)
        assert refused(stopped) and stopped.json["error"] == "操作太频繁，请稍后再试"

    in_one_window(burst, OFFICES)
    assert client.post("/api/v1/client-profiles", json=[], headers=good, environ_base=ELSEWHERE).status_code == 200


def test_two_workers_share_one_count(limited_app, tmp_path, emulator):
    other_worker = make_app(tmp_path / "limits.db", emulator.url, SIDEBAR_IMPORT_TOKEN=TOKEN,
                            LOGIN_RATE_LIMIT=(3, 60))

    def burst(address):
        office = {"REMOTE_ADDR": address}
        for app in (limited_app, other_worker, limited_app):
            assert app.test_client().get("/sidebar/", environ_base=office).status_code == 302
        assert refused(other_worker.test_client().get("/sidebar/", environ_base=office))

    in_one_window(burst, OFFICES)


def test_a_tracked_link_flood_gets_retry_after(library_app):
    client = library_app.test_client()

    def burst(address):
        answers = [client.get("/r/nosuchtoken000000000000", environ_base={"REMOTE_ADDR": address})
                   for _ in range(61)]
        assert {a.status_code for a in answers[:60]} == {404}
        assert refused(answers[60])

    in_one_window(burst, OFFICES)


def test_behind_a_trusted_proxy_each_client_address_counts_alone(tmp_path, emulator):
    app = make_app(tmp_path / "proxied.db", emulator.url, LOGIN_RATE_LIMIT=(2, 60), SIDEBAR_TRUSTED_PROXIES="1")
    client = app.test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for _ in range(2):
        assert client.get("/sidebar/", environ_base=proxy, headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 302
    assert refused(client.get("/sidebar/", environ_base=proxy, headers={"X-Forwarded-For": "203.0.113.7"}))
    assert client.get("/sidebar/", environ_base=proxy,
                      headers={"X-Forwarded-For": "198.51.100.9"}).status_code == 302, "another client, same proxy"


def test_a_gate_opens_once_per_period_for_every_worker(app, tmp_path, emulator):
    from sidebar.ratelimit import once_per

    other_worker = make_app(tmp_path / "sidebar.db", emulator.url)
    start = 1_800_000_000
    with app.app_context():
        assert once_per("gate", 300, now=start)
    with other_worker.app_context():
        assert not once_per("gate", 300, now=start + 299)
        assert once_per("other gate", 300, now=start + 1)
    with app.app_context():
        assert once_per("gate", 300, now=start + 300)
        assert not once_per("gate", 300, now=start + 301), "a new period starts when the gate opened"


MAPPED = tuple(f"::ffff:{address}" for address in OFFICES)  # IPv4 clients as a listener on :: sees them


def test_ipv4_clients_of_a_dual_stack_listener_keep_their_own_networks(library_app):
    assert network_of("::ffff:203.0.113.7") == "203.0.113.0/24" == network_of("203.0.113.7")
    assert network_of("2001:db8:1:2::7") == "2001:db8:1::/48"
    client = library_app.test_client()

    def burst(address):
        answers = [client.get("/r/nosuchtoken000000000000", environ_base={"REMOTE_ADDR": address})
                   for _ in range(61)]
        assert refused(answers[60])
        elsewhere = client.get("/r/nosuchtoken000000000000", environ_base={"REMOTE_ADDR": "::ffff:198.51.100.9"})
        assert elsewhere.status_code == 404, "another IPv4 network is not blocked"

    in_one_window(burst, MAPPED)


def test_an_ipv6_client_is_counted_by_its_64_and_no_address_is_kept(limited_app):
    client = limited_app.test_client()

    def burst(subnet):
        for host in (1, 2, 3):
            assert client.get("/sidebar/", environ_base={"REMOTE_ADDR": f"{subnet}::{host}"}).status_code == 302
        assert refused(client.get("/sidebar/", environ_base={"REMOTE_ADDR": f"{subnet}::ffff"})), "same /64"

    in_one_window(burst, ("2001:db8:1:2", "2001:db8:1:3", "2001:db8:1:4"))
    assert client.get("/sidebar/", environ_base={"REMOTE_ADDR": "2001:db8:1:5::1"}).status_code == 302
    assert client.get("/sidebar/", environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 302
    assert client.post("/api/v1/client-profiles", json=[], headers={"Authorization": f"Bearer {TOKEN}"},
                       environ_base={"REMOTE_ADDR": "192.0.2.44"}).status_code == 200
    stored = database_dump(limited_app)
    assert not any(address in stored for address in ("2001:db8", "203.0.113.7", "192.0.2.44"))
