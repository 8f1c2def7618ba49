"""The WeCom client against the emulator: one shared token cache, WeCom's retry rules, outages."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from helpers import LiveServer, make_app, run_sql, wecom_calls
from sidebar.extensions import wecom
from sidebar.wecom import WeComError, WeComUnavailable


def fault(emulator, **spec):
    """Switch on an emulator fault."""
    requests.post(f"{emulator.url}/_admin/faults", json=spec, timeout=5).raise_for_status()


def clear_calls(emulator):
    """Forget the calls made so far."""
    requests.delete(f"{emulator.url}/_admin/calls", timeout=5).raise_for_status()


def browser_session(server, emulator, userid):
    """A requests session logged in to server through the OAuth redirects, like a browser."""
    session = requests.Session()
    session.cookies.set("wecom_userid", userid)
    final = session.get(f"{server.url}/sidebar/", timeout=10)
    assert final.status_code == 200 and "data-corp-id" in final.text
    return session


def test_forty_concurrent_signatures_on_two_instances_fetch_token_and_tickets_once(tmp_path, emulator, world):
    db_file = tmp_path / "shared.db"
    servers = [LiveServer(make_app(db_file, emulator.url)) for _ in range(2)]
    try:
        session = browser_session(servers[0], emulator, world["staff"][0]["userid"])
        run_sql(servers[0].app, "DELETE FROM token_cache")  # start cold: nothing cached by the login
        clear_calls(emulator)

        def sign(i):
            server = servers[i % 2]
            kind = "corp" if i % 4 < 2 else "agent"
            url = f"{server.url}/sidebar/"
            return session.get(f"{server.url}/jssdk/signature", params={"type": kind, "url": url}, timeout=30)

        with ThreadPoolExecutor(max_workers=40) as pool:
            answers = list(pool.map(sign, range(40)))
        assert [a.status_code for a in answers] == [200] * 40
        assert wecom_calls(emulator, "/cgi-bin/gettoken") == 1
        assert wecom_calls(emulator, "/cgi-bin/get_jsapi_ticket") == 1
        assert wecom_calls(emulator, "/cgi-bin/ticket/get") == 1
    finally:
        for server in servers:
            server.stop()


def test_expired_token_is_refreshed_once_and_the_call_succeeds(app, emulator, world):
    userid = world["staff"][0]["userid"]
    with app.app_context():
        client = wecom()
        client.get_user(userid)
        fault(emulator, expire_tokens=True)
        clear_calls(emulator)
        assert client.get_user(userid)["userid"] == userid
    assert wecom_calls(emulator, "/cgi-bin/gettoken") == 1
    assert wecom_calls(emulator, "/cgi-bin/user/get") == 2  # rejected once, then retried once


def test_busy_is_retried_at_most_three_times(app, emulator, world):
    userid = world["staff"][0]["userid"]
    with app.app_context():
        client = wecom()
        client.access_token()
        fault(emulator, errcode=-1, path="/cgi-bin/user/get", count=2)
        assert client.get_user(userid)["userid"] == userid
        assert wecom_calls(emulator, "/cgi-bin/user/get") == 3
        clear_calls(emulator)
        fault(emulator, errcode=-1, path="/cgi-bin/user/get", count=10)
        with pytest.raises(WeComError) as busy:
            client.get_user(userid)
    assert busy.value.errcode == -1
    assert wecom_calls(emulator, "/cgi-bin/user/get") == 4


@pytest.mark.parametrize("errcode", [45009, 45033])
def test_rate_limit_is_never_retried_in_a_loop(app, emulator, world, errcode):
    userid = world["staff"][0]["userid"]
    with app.app_context():
        client = wecom()
        client.access_token()
        fault(emulator, errcode=errcode, path="/cgi-bin/user/get", count=1)
        with pytest.raises(WeComError) as limited:
            client.get_user(userid)
        assert limited.value.errcode == errcode
        with pytest.raises(WeComUnavailable):  # backing off: not even tried
            client.get_user(userid)
    assert wecom_calls(emulator, "/cgi-bin/user/get") == 1


def test_wecom_down_is_a_typed_error(app, emulator, world):
    with app.app_context():
        client = wecom()
        fault(emulator, down=True)
        with pytest.raises(WeComUnavailable):
            client.get_user(world["staff"][0]["userid"])


def test_bad_secret_is_reported(tmp_path, emulator):
    app = make_app(tmp_path / "s.db", emulator.url, WECOM_SECRET="wrong-secret")
    with app.app_context(), pytest.raises(WeComError) as bad:
        wecom().access_token()
    assert bad.value.errcode == 40001
