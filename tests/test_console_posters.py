"""Several posters uploaded at once (issue 17 item 8): one draft material each, each reviewed on its own."""
import io
import re

import pytest

from helpers import signed_in
from sidebar.extensions import db
from sidebar.materials import samples
from sidebar.models import Material, MaterialVersion


@pytest.fixture
def editor(library_app):
    return signed_in(library_app, "zhaomin")


def posters(client, files, **fields):
    """POST the image form with several files in the `file` field."""
    form = {"csrf_token": client.csrf, "kind": "image", "title": "双十一", "category": "活动海报", "tags": "活动",
            "risk_level": "", "file": [(io.BytesIO(data), name, "image/png") for name, data in files], **fields}
    return client.post("/console/materials", data=form, content_type="multipart/form-data")


def drafts(app):
    """(title, status, stored file size) of every material's versions, by material id."""
    with app.app_context():
        rows = db.session.execute(db.select(Material.id, MaterialVersion.title, MaterialVersion.status,
                                            MaterialVersion.file_name, MaterialVersion.category)
                                  .join(MaterialVersion).order_by(Material.id)).all()
        return [tuple(row[1:]) for row in rows], [row[0] for row in rows]


RED, BLUE, GREEN = (samples.png(top=(220, 40, 40)), samples.png(top=(40, 40, 220)), samples.png(top=(40, 200, 40)))


def test_three_posters_make_three_drafts_named_after_their_files(library_app, editor):
    answer = posters(editor, [("红包版.png", RED), ("抽奖版.png", BLUE), ("直播版.png", GREEN)])
    assert answer.status_code == 303
    assert answer.location.endswith("/console/materials?state=draft&kind=image")
    rows, ids = drafts(library_app)
    assert rows == [("双十一 · 红包版", "draft", "红包版.png", "活动海报"), ("双十一 · 抽奖版", "draft", "抽奖版.png", "活动海报"),
                    ("双十一 · 直播版", "draft", "直播版.png", "活动海报")]
    listing = editor.get(answer.location).get_data(as_text=True)
    assert re.findall(r">(双十一 · [^<]+)</a>", listing) == ["双十一 · 直播版", "双十一 · 抽奖版", "双十一 · 红包版"]
    for material, colour in zip(ids, (RED, BLUE, GREEN)):  # each its own poster
        page = editor.get(f"/console/materials/{material}").get_data(as_text=True)
        poster = re.search(r'<img class="received-poster" src="([^"]+)"', page).group(1)
        assert editor.get(poster).get_data() == colour


def test_each_poster_is_reviewed_on_its_own(library_app, editor):
    posters(editor, [("红包版.png", RED), ("抽奖版.png", BLUE)])
    _, (first, second) = drafts(library_app)
    reviewer = signed_in(library_app, "sunli")
    for material in (first, second):
        assert editor.post(f"/console/materials/{material}/submit", data={"csrf_token": editor.csrf}).status_code == 303
    assert reviewer.post(f"/console/materials/{first}/approve", data={"csrf_token": reviewer.csrf}).status_code == 303
    assert reviewer.post(f"/console/materials/{second}/reject",
                         data={"csrf_token": reviewer.csrf, "comment": "抽奖规则缺少"}).status_code == 303
    assert [status for _, status, *_ in drafts(library_app)[0]] == ["approved", "rejected"]


def test_one_bad_poster_keeps_all_of_them_out_and_names_itself(library_app, editor):
    answer = posters(editor, [("红包版.png", RED), ("说明.png", samples.pdf("not a picture", ("x",)))])
    assert answer.status_code == 400
    assert "说明.png：" in answer.get_data(as_text=True)
    assert drafts(library_app)[0] == []
    too_many = posters(editor, [(f"{n}.png", samples.png(top=(n, 0, 0))) for n in range(10)])
    assert too_many.status_code == 400 and "一次最多上传 9 张海报" in too_many.get_data(as_text=True)
    assert drafts(library_app)[0] == []


def test_one_poster_is_one_material_as_before(library_app, editor):
    answer = posters(editor, [("红包版.png", RED)])
    assert answer.status_code == 303 and re.search(r"/console/materials/\d+$", answer.location)
    assert drafts(library_app)[0] == [("双十一", "draft", "红包版.png", "活动海报")]
