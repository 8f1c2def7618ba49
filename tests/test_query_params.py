"""Hostile query strings and URL parts on every GET route (issue 12): a 400 with a Chinese reason, or a
404 for a URL part, never a 500. Logged in as an advisor and as console users."""
import random
import re
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from helpers import publish, signed_in
from sidebar.extensions import db
from sidebar.models import MaterialVersion

ADVISOR = "zhangwei"
CONSOLE_USERS = ("sunli", "zhaomin", "zhouqiang")  # compliance, content, manager
READ = {  # the names each route's view and templates read from request.args
    "/console/materials": ("page", "state", "q", "kind"), "/console/materials/new": ("kind",),
    "/console/audit": ("advisor", "client", "material", "status", "since", "until", "format", "page"),
    "/console/files/<sha256>": ("name",), "/sidebar/materials": ("chat", "q", "category", "kind"),
    "/sidebar/groups/<chat_id>": ("window", "stage", "show"),
    "/sidebar/groups/<chat_id>/conversion": ("window", "stage", "show"),
    "/sidebar/groups/<chat_id>/members": ("window", "stage", "show"),
    "/jssdk/signature": ("type", "url"), "/auth/callback": ("state", "code"),
    "/wecom/callback": ("msg_signature", "timestamp", "nonce", "echostr"),
    "/manage/funnel": ("since", "until"), "/manage/execution": ("since", "until"),
    "/manage/funnel/rows": ("since", "until", "step", "advisor", "branch", "dormant"),
    "/manage/scorecard": ("month", "format"), "/manage/openings/rows": ("kind", "advisor"),
    "/manage/scorecard/rows": ("month", "branch", "indicator"),
}
PARAMETERS = tuple(sorted({name for names in READ.values() for name in names} | {"next", "unknown"}))
THIRTY_DIGITS = "9" * 30
HOSTILE = ["a\x00b", "\x1b[2J", "\x85", THIRTY_DIGITS, "-" + THIRTY_DIGITS, "-1", "0", "0001-01-01", "9999-12-31",
           "2025-02-30", "x" * 5000, "%ED%A0%80", "１２", "'\"<>&;", "csv"]


@dataclass
class Site:
    """The app, a client per user, and a real value for each URL part of the routes."""

    app: object
    clients: dict
    parts: dict


@pytest.fixture
def site(library_app, world):
    """A published card shared by an advisor (a real token, file and chat for every URL part)."""
    follow = next(f for f in world["follows"] if f["userid"] == ADVISOR)
    group = next(g["chat_id"] for g in world["groups"] if g["owner"] == ADVISOR)
    material = publish(library_app, "link", title="策略展望", url="https://research.example.com/q4")
    clients = {userid: signed_in(library_app, userid) for userid in (ADVISOR, *CONSOLE_USERS)}
    advisor = clients[ADVISOR]
    advisor.get(f"/sidebar/contacts/{follow['external_userid']}")
    share = advisor.post(f"/sidebar/materials/{material}/shares", data={"target": f"contact:{follow['external_userid']}"},
                         headers={"X-CSRFToken": advisor.csrf}).get_json()
    token = re.search(r"/r/([A-Za-z0-9_-]+)$", share["message"]["news"]["link"]).group(1)
    with library_app.app_context():
        cover = db.session.scalar(db.select(MaterialVersion.cover_sha).where(MaterialVersion.material_id == material))
        from sidebar.sop.plans import import_plans

        [plan] = import_plans("zhaomin", [{"name": "每日早盘要点", "kind": "group", "groups": [group],
                                           "steps": [{"at": {"trading_days": "08:45"}, "text": "早上好"}]}])
        db.session.commit()
        plan_id = plan.id
    parts = {"material_id": str(material), "external_userid": follow["external_userid"], "chat_id": group,
             "token": token, "sha256": cover, "filename": "css/sidebar.css", "plan_id": str(plan_id),
             "task_id": "1", "channel_id": "1", "secret": "no-such-wall-link"}  # no such task, channel or wall link:
    # their routes still parse every hostile value
    return Site(library_app, clients, parts)


def get_routes(app):
    """Every GET route's rule, e.g. /sidebar/groups/<chat_id>."""
    return sorted(rule.rule for rule in app.url_map.iter_rules() if "GET" in rule.methods)


def path_of(rule, parts):
    """The rule with each URL part filled in (percent-encoded)."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>",
                  lambda m: quote(parts[m.group(1)].encode("utf-8", "surrogatepass"), safe="/"), rule)


def fetch(client, path, query):
    """GET path with a raw query string (bytes, as a server hands it over) from an address of its own."""
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.1"  # the link and login limits count per network
    response = client.get(path, environ_overrides={"QUERY_STRING": query.decode("latin-1"), "REMOTE_ADDR": address})
    response.get_data()  # read, then closed: a static file's handle must not outlive the request
    response.close()
    return response


def assert_answered(response, where):
    """No 500; a 400 says why in Chinese."""
    body = response.get_data().decode("utf-8", "replace")
    assert response.status_code < 500, (where, response.status_code, body[-300:])
    if response.status_code == 400:
        assert re.search("[\u4e00-\u9fff]", body), (where, body[-300:])


def encoded(name, value):
    """name=value percent-encoded as a browser would (lone surrogates become bytes that are not UTF-8)."""
    return quote(name).encode() + b"=" + quote(value.encode("utf-8", "surrogatepass"), safe="").encode()


# -- the cases the issue names ---------------------------------------------------------------------

REFUSED = [
    ("/console/materials", "page", THIRTY_DIGITS), ("/console/materials", "page", "-1"),
    ("/console/materials", "q", "a\x00b"), ("/console/materials", "kind", "a\x00b"),
    ("/console/audit", "page", THIRTY_DIGITS), ("/console/audit", "material", THIRTY_DIGITS),
    ("/console/audit", "since", "0001-01-01"), ("/console/audit", "until", "9999-12-31"),
    ("/console/audit", "advisor", "a\x00b"), ("/console/audit", "status", "a\x00b"),
    ("/sidebar/materials", "q", "a\x00b"), ("/sidebar/materials", "category", "a\x00b"),
]


def test_a_malformed_parameter_is_a_400_in_chinese(site):
    for path, name, value in REFUSED:  # one app for all: a fresh one each would cost a second
        response = fetch(site.clients["sunli"], path, encoded(name, value))
        body = response.get_data(as_text=True)
        assert response.status_code == 400, (path, name, value, response.status_code)
        assert f"参数 {name}" in body or "查询参数" in body, (path, name, value, body[-300:])


def test_a_query_string_that_is_not_utf8_is_a_400(site):
    for path in ("/console/figures", "/console/materials", "/sidebar/materials", "/healthz"):
        response = fetch(site.clients["sunli"], path, b"q=\xed\xa0\x80")  # raw bytes: a lone surrogate's encoding
        assert response.status_code == 400, path
        assert "UTF-8" in response.get_data(as_text=True), path


def test_a_malformed_url_part_matches_no_route(site):
    for path in ("/console/materials/" + THIRTY_DIGITS, "/sidebar/materials/" + THIRTY_DIGITS + "/thumb",
                 "/console/materials/" + "9" * 5000, "/sidebar/contacts/wm%00x", "/sidebar/groups/wr%00x",
                 "/r/a%00b", "/console/files/%00"):
        assert site.clients["sunli"].get(path).status_code == 404, path


def test_good_parameters_still_filter(site):
    sunli = site.clients["sunli"]
    assert sunli.get("/console/materials?page=1&state=live&kind=link&q=策略").status_code == 200
    assert sunli.get("/console/audit?since=2025-01-01&until=2025-12-31&material=1&status=sent&page=2").status_code == 200
    assert site.clients[ADVISOR].get("/sidebar/materials?category=市场观点&kind=link&q=").status_code == 200


def user_for(rule):
    """Who reaches the view: the content team the new-material form, compliance the console, else the advisor."""
    if rule.startswith(("/console/", "/manage/")):
        return "zhaomin" if rule.endswith("/new") else "sunli"
    return ADVISOR


def test_every_get_route_answers_every_hostile_value(site):
    for rule in get_routes(site.app):
        path, userid = path_of(rule, site.parts), user_for(rule)
        for name in (*READ.get(rule, ()), "unknown"):
            for value in HOSTILE:
                assert_answered(fetch(site.clients[userid], path, encoded(name, value)), (userid, path, name, value[:20]))
        assert_answered(fetch(site.clients[userid], path, b"q=\xed\xa0\x80&page=\xff"), (userid, path, "raw bytes"))


# -- property: any query string, any URL part --------------------------------------------------------

VALUES = st.one_of(
    st.text(), st.text(st.characters(codec="ascii") | st.sampled_from("\x00\x1b\x85\ud800\udfff")),
    st.from_regex(r"-?[0-9]{1,40}", fullmatch=True), st.dates().map(str) | st.sampled_from(["0001-01-01", "9999-12-31"]),
    st.sampled_from(["csv", "pending", "live", "all", "7d", "30d", "corp", "agent", "link", "市场观点", "sent"]),
    st.integers(100, 5000).map(lambda n: "9" * n), st.sampled_from(HOSTILE))


@st.composite
def queries(draw, names):
    """A query string, mostly of the names given, percent-encoded or as raw bytes."""
    name = st.sampled_from(names) | st.sampled_from(PARAMETERS) | st.text(max_size=8)
    pairs = draw(st.lists(st.tuples(name, VALUES), max_size=4))
    if draw(st.booleans()):
        return b"&".join(encoded(name, value) for name, value in pairs)
    return b"&".join(f"{name}={value}".encode("utf-8", "surrogatepass") for name, value in pairs)


@settings(max_examples=50, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],  # a failure
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # names its request
@given(data=st.data())
def test_no_query_string_or_url_part_gets_a_500(site, data):
    for rule in get_routes(site.app):  # each example tries every route once
        userid = data.draw(st.just(user_for(rule)) | st.sampled_from(sorted(site.clients)), label="user")
        parts = {name: data.draw(st.just(value) | VALUES, label=name) for name, value in site.parts.items()
                 if f"{name}>" in rule}
        path, query = path_of(rule, parts), data.draw(queries((*READ.get(rule, ()), "unknown")), label="query")
        assert_answered(fetch(site.clients[userid], path, query), (userid, path, query[:80]))
