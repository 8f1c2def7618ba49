"""The client panel's kept copy (sidebar/memo.py): the same page, each session's own CSRF token, every view
authorised and logged, and a change to anything the panel shows seen on the next open."""
import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import delete, event, func, select

from actions_helpers import ADVISOR, next_steps, scene, seed_situations
from helpers import publish, signed_in
from sidebar import versions
from sidebar.extensions import db
from sidebar.insight.contact import panel_data
from sidebar.models import ClientView, LinkOpen

CLIENT = "wmNEXTxOpenedNF1"  # opened five days ago, not funded: 下一步 offers the "funding" scene's material
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
# Read on every open whatever the panel shows: the session, the advisor's follow (authorisation), the
# data versions and the access log's insert.
PER_REQUEST = {"staff_session", "follow", "data_version", "client_view"}


@pytest.fixture
def opened(library_app):
    """The library app with the next-step clients of actions_helpers, zhangwei signed in."""
    seed_situations(library_app)
    return signed_in(library_app, ADVISOR)


def open_panel(client, external_userid=CLIENT):
    """The client panel's htmx fragment (the kept copy may answer)."""
    response = client.get(f"/sidebar/contacts/{external_userid}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


@contextmanager
def tables_read(app):
    """Collects the names of the tables every statement run inside the block mentions."""
    names, seen = sorted(db.metadata.tables), set()

    def collect(_conn, _cursor, statement, *_args):
        seen.update(name for name in names if re.search(rf'\b"?{name}"?\b', statement))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", collect)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", collect)


def views_logged(app):
    """Rows of the access log for the client."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ClientView).where(
            ClientView.external_userid == CLIENT, ClientView.userid == ADVISOR))


def test_a_kept_panel_is_the_same_page_with_the_sessions_own_token_and_every_view_logged(library_app, opened):
    phone = opened
    pc = signed_in(library_app, ADVISOR)  # the same advisor on the PC: another session
    first = open_panel(phone)
    with tables_read(library_app) as read:
        kept = open_panel(pc)
    assert read <= PER_REQUEST, "the second open must come from the kept copy"
    assert TOKEN.sub("", kept) == TOKEN.sub("", first)
    phone_token, pc_token = TOKEN.findall(first)[0], TOKEN.findall(kept)[0]
    assert len(set(TOKEN.findall(kept))) == 1 and phone_token != pc_token
    note = pc.post(f"/sidebar/contacts/{CLIENT}/notes", data={"body": "已约周五面谈", "csrf_token": pc_token},
                   headers={"HX-Request": "true"})
    assert note.status_code == 200 and "已约周五面谈" in note.get_data(as_text=True)
    assert views_logged(library_app) == 3  # two opens and the notes section shown after the save


def test_the_panel_reads_nothing_its_copy_is_not_kept_by(library_app, opened):
    scene(library_app, publish(library_app, "text", title="入金指引"), "funding")
    with library_app.app_context():
        from acquisition_helpers import add_arrival
        add_arrival("投教讲座", CLIENT, "2026-11-01 10:00")
        db.session.commit()
    with tables_read(library_app) as read:
        html = open_panel(opened)
    assert ("funding", "已开户 5 天，尚未入金", "入金指引") in next_steps(html) and "投教讲座" in html
    kept_by = set(panel_data(CLIENT))
    unkept = {}
    for table in read - PER_REQUEST:
        kinds = versions.KINDS_OF_TABLE.get(table, ())
        if table in versions.NOTED_BY_WRITER:
            kinds = ((versions.NOTED_BY_WRITER[table], "noted"),)
        names = {name for kind, column in kinds for name in ((kind,) if column is None else versions.part(kind, CLIENT))}
        if not names & kept_by:
            unkept[table] = kinds
    assert not unkept, f"the client panel reads tables whose changes do not reach its kept copy: {unkept}"
    assert {"follow_up_note", "client_profile", "share", "channel_arrival", "material_scene"} <= read


def test_a_table_whose_writer_notes_the_part_has_that_one_writer():
    """versions.NOTED_BY_WRITER: another writer of a link's opens would not reach the client's kept panel."""
    sources = [path.read_text() for path in Path(versions.__file__).parent.rglob("*.py") if "emulator" not in path.parts]
    assert sum(source.count("LinkOpen(") for source in sources) == 2  # the model and _record_open


def test_a_note_a_scene_and_an_open_show_on_the_next_open(library_app, opened):
    open_panel(opened)
    assert "入金指引" not in open_panel(opened)  # kept
    scene(library_app, publish(library_app, "link", title="入金指引", url="https://example.com/fund"), "funding")
    assert ("funding", "已开户 5 天，尚未入金", "入金指引") in next_steps(open_panel(opened))

    material = re.search(r'data-share-url="/sidebar/materials/(\d+)/shares"', open_panel(opened)).group(1)
    body = opened.post(f"/sidebar/materials/{material}/shares", data={"target": f"contact:{CLIENT}"},
                       headers={"X-CSRFToken": opened.csrf}).get_json()
    opened.post(body["report_url"], data={"result": "sent"}, headers={"X-CSRFToken": opened.csrf})
    assert "未读" in open_panel(opened)
    token = re.search(r"/r/([A-Za-z0-9_-]+)$", body["message"]["news"]["link"]).group(1)
    for opens in (1, 2):  # the first sets the share's first open; the second only adds an open
        library_app.test_client().get(f"/r/{token}", headers={"User-Agent": "Mozilla/5.0 (iPhone) MicroMessenger/8.0"})
        assert f"已读 {opens} 次" in open_panel(opened)
    with library_app.app_context():  # opens written by a statement (no such writer yet) count for every client
        db.session.execute(delete(LinkOpen))
        db.session.commit()
    assert "已读 0 次" in open_panel(opened)

    opened.post(f"/sidebar/contacts/{CLIENT}/notes", data={"body": "客户说下周入金"},
                headers={"HX-Request": "true", "X-CSRFToken": opened.csrf})
    assert "客户说下周入金" in open_panel(opened)
