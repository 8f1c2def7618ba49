"""Tracked links (雷达): opens recorded without whole IPs, the advisor told once, the client panel lists them.

Offline articles, HEAD requests and preview fetchers record nothing and tell nobody.
"""
import re
from datetime import timedelta

import pytest
import requests

from helpers import database_dump, eventually, in_one_window, publish, run_sql, run_worker, signed_in
from sidebar.extensions import db
from sidebar.models import LinkOpen, Share, china_today

ADVISOR = "zhangwei"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 MicroMessenger/8.0.44"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


@pytest.fixture
def sent_article(library_app, world):
    """An article shared by zhangwei to one of his clients and reported sent: (client, token, contact, name)."""
    follow = next(f for f in world["follows"] if f["userid"] == ADVISOR)
    contact = follow["external_userid"]
    name = follow["remark"] or next(c["name"] for c in world["contacts"] if c["external_userid"] == contact)
    material = publish(library_app, "link", title="四季度策略展望", url="https://research.example.com/q4")
    advisor = signed_in(library_app, ADVISOR)
    advisor.get(f"/sidebar/contacts/{contact}")
    body = advisor.post(f"/sidebar/materials/{material}/shares", data={"target": f"contact:{contact}"},
                        headers={"X-CSRFToken": advisor.csrf}).get_json()
    advisor.post(body["report_url"], data={"result": "sent"}, headers={"X-CSRFToken": advisor.csrf})
    token = re.search(r"/r/([A-Za-z0-9_-]+)$", body["message"]["news"]["link"]).group(1)
    return advisor, token, contact, name, material


def app_messages(emulator):
    """App messages (message/send) the emulator received."""
    return [m for m in requests.get(f"{emulator.url}/_admin/messages", timeout=5).json()["messages"]
            if m["kind"] == "app"]


def nothing_announced(app, emulator):
    """No app message sent, and none waiting in the queue for a worker to send."""
    return app.extensions["jobs"].sizes() == (0, 0) and app_messages(emulator) == []


def opens(app):
    """Every recorded open."""
    with app.app_context():
        rows = db.session.scalars(db.select(LinkOpen).order_by(LinkOpen.id)).all()
        return [(o.device, o.network) for o in rows]


def dated(app, material, column, days):
    """Set a material's valid_from or valid_until, days from today in China, after it was shared."""
    day = china_today() + timedelta(days=days)
    run_sql(app, f"UPDATE material_version SET {column} = '{day.isoformat()}' WHERE material_id = {material}")


def test_the_first_open_redirects_records_and_tells_the_advisor_once(library_app, emulator, sent_article):
    _, token, _, name, _ = sent_article
    run_worker(library_app)  # the app message goes from the worker: the redirect never waits on WeCom
    phone = library_app.test_client()  # the client's phone: no session of ours
    first = phone.get(f"/r/{token}", headers={"User-Agent": IPHONE}, environ_base={"REMOTE_ADDR": "203.0.113.77"})
    assert first.status_code == 302
    assert first.location == "https://research.example.com/q4"
    assert first.headers["Cache-Control"] == "no-store"
    [message] = eventually(lambda: app_messages(emulator))
    assert message["touser"] == [ADVISOR]
    assert message["message"]["text"]["content"] == f"客户{name} 打开了《四季度策略展望》"
    phone.get(f"/r/{token}", headers={"User-Agent": DESKTOP}, environ_base={"REMOTE_ADDR": "2001:db8:1:2::7"})
    assert library_app.extensions["jobs"].sizes() == (0, 0), "only the first open is announced"
    assert len(app_messages(emulator)) == 1
    assert opens(library_app) == [("phone", "203.0.113.0/24"), ("desktop", "2001:db8:1::/48")]


def test_no_whole_ip_is_stored_anywhere(library_app, sent_article):
    _, token, *_ = sent_article
    library_app.test_client().get(f"/r/{token}", environ_base={"REMOTE_ADDR": "198.51.100.23"})
    assert "198.51.100.23" not in database_dump(library_app)


def test_unknown_and_malformed_tokens_get_404(library_app):
    client = library_app.test_client()
    for token in ("AAAAAAAAAAAAAAAAAAAAAA", "x", "../../etc/passwd", "%00"):
        assert client.get(f"/r/{token}").status_code == 404


def test_the_advisor_checking_their_own_card_is_not_an_open(library_app, emulator, sent_article):
    advisor, token, *_ = sent_article
    assert advisor.get(f"/r/{token}").status_code == 302
    assert opens(library_app) == [] and nothing_announced(library_app, emulator)


def test_a_withdrawn_article_answers_410_records_nothing_and_its_cover_is_gone(library_app, emulator, sent_article):
    _, token, _, _, material = sent_article
    compliance = signed_in(library_app, "sunli")
    compliance.post(f"/console/materials/{material}/withdraw", data={"csrf_token": compliance.csrf})
    phone = library_app.test_client()
    gone = phone.get(f"/r/{token}", headers={"User-Agent": IPHONE})
    assert gone.status_code == 410
    assert "该内容已下线" in gone.get_data(as_text=True)
    assert opens(library_app) == [] and nothing_announced(library_app, emulator), "nobody read it: no open, no message"
    assert phone.get(f"/r/{token}/cover").status_code == 410


@pytest.mark.parametrize("column,days", [("valid_until", -1), ("valid_from", 1)], ids=["expired", "not-yet-valid"])
def test_an_article_outside_its_dates_answers_410_and_records_nothing(library_app, emulator, sent_article, column, days):
    _, token, _, _, material = sent_article
    dated(library_app, material, column, days)
    phone = library_app.test_client()
    assert phone.get(f"/r/{token}", headers={"User-Agent": IPHONE}).status_code == 410
    assert phone.get(f"/r/{token}/cover").status_code == 410
    assert opens(library_app) == [] and nothing_announced(library_app, emulator)


def test_an_article_valid_until_today_in_china_is_still_open(library_app, sent_article):
    _, token, _, _, material = sent_article
    dated(library_app, material, "valid_until", 0)
    phone = library_app.test_client()
    assert phone.get(f"/r/{token}", headers={"User-Agent": IPHONE}).status_code == 302
    assert phone.get(f"/r/{token}/cover").status_code == 200
    assert len(opens(library_app)) == 1


def test_a_head_request_answers_like_a_get_but_is_no_open(library_app, emulator, sent_article):
    _, token, *_ = sent_article
    phone = library_app.test_client()
    head = phone.head(f"/r/{token}", headers={"User-Agent": IPHONE})
    assert head.status_code == 302 and head.location == "https://research.example.com/q4"
    assert opens(library_app) == [] and nothing_announced(library_app, emulator)
    assert phone.get(f"/r/{token}", headers={"User-Agent": IPHONE}).status_code == 302
    run_worker(library_app)
    assert len(opens(library_app)) == 1 and len(eventually(lambda: app_messages(emulator))) == 1


@pytest.mark.parametrize("agent", [
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "TelegramBot (like TwitterBot)",
    "WhatsApp/2.23.20.0 A",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/8.5.0",
    "python-requests/2.31.0",
])
def test_preview_fetchers_and_crawlers_get_the_redirect_but_are_no_open(library_app, emulator, sent_article, agent):
    _, token, *_ = sent_article
    response = library_app.test_client().get(f"/r/{token}", headers={"User-Agent": agent})
    assert response.status_code == 302 and response.location == "https://research.example.com/q4"
    assert opens(library_app) == [] and nothing_announced(library_app, emulator)


@pytest.mark.parametrize("agent,device", [
    (IPHONE, "phone"),  # WeChat's in-app browser: the client reading
    ("Mozilla/5.0 (Linux; Android 12; CUBOT KingKong 9) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36",
     "phone"),
    (DESKTOP + " wxwork/4.1.30 MicroMessenger/7.0.1", "desktop"),
])
def test_people_in_wechat_wecom_and_browsers_are_counted(library_app, sent_article, agent, device):
    _, token, *_ = sent_article
    library_app.test_client().get(f"/r/{token}", headers={"User-Agent": agent},
                                  environ_base={"REMOTE_ADDR": "203.0.113.5"})
    assert opens(library_app) == [(device, "203.0.113.0/24")]


def test_covers_are_kept_by_the_viewer_only_and_not_for_long(library_app, sent_article):
    _, token, *_ = sent_article
    cover = library_app.test_client().get(f"/r/{token}/cover")
    assert cover.status_code == 200
    assert cover.headers["Cache-Control"] == "private, max-age=3600", "no shared cache keeps it past a withdrawal"


def test_opening_links_is_rate_limited_per_network(library_app, sent_article):
    _, token, *_ = sent_article
    client = library_app.test_client()

    def burst(address):
        statuses = [client.get(f"/r/{token}", environ_base={"REMOTE_ADDR": address}).status_code for _ in range(61)]
        assert statuses[:60] == [302] * 60 and statuses[60] == 429

    in_one_window(burst, ("192.0.2.9", "198.18.0.9", "198.18.1.9"))  # three networks, none 192.0.3.x
    assert client.get(f"/r/{token}", environ_base={"REMOTE_ADDR": "192.0.3.9"}).status_code == 302, \
        "another network is not slowed down"


def test_the_client_panel_lists_what_was_shared_and_read(library_app, sent_article):
    advisor, token, contact, *_ = sent_article
    panel = advisor.get(f"/sidebar/contacts/{contact}").get_data(as_text=True)
    assert "四季度策略展望" in panel and "未读" in panel
    library_app.test_client().get(f"/r/{token}", headers={"User-Agent": IPHONE})
    library_app.test_client().get(f"/r/{token}", headers={"User-Agent": IPHONE})
    panel = advisor.get(f"/sidebar/contacts/{contact}").get_data(as_text=True)
    assert "已读 2 次" in panel


def test_only_articles_have_tracked_pages(library_app, world):
    follow = next(f for f in world["follows"] if f["userid"] == ADVISOR)
    advisor = signed_in(library_app, ADVISOR)
    advisor.get(f"/sidebar/contacts/{follow['external_userid']}")
    material = publish(library_app, "text")
    advisor.post(f"/sidebar/materials/{material}/shares", data={"target": f"contact:{follow['external_userid']}"},
                 headers={"X-CSRFToken": advisor.csrf})
    with library_app.app_context():
        token = db.session.scalar(db.select(Share.token))
    assert library_app.test_client().get(f"/r/{token}").status_code == 404
