"""The console's preview of a material as the client receives it (issue 17 item 8): the same title,
description, picture, file name and size, and disclaimer as a real share through WeCom sends."""
import html
import io
import re

import pytest

from helpers import publish, signed_in
from sidebar.materials import samples
from sidebar.materials.uploads import accept
from test_materials_sharing import scene, share, to_contact  # noqa: F401  (scene: the sharing tests' clients)

DISCLAIMER = "投资有风险，入市需谨慎"


def preview(client, material):
    """The preview's texts on the console's material page: {class: [text, …]} and the pictures' URLs."""
    page = client.get(f"/console/materials/{material}").get_data(as_text=True)
    figure = re.search(r'<figure class="received.*?</figure>', page, re.S).group(0)
    texts = {}
    for name, text in re.findall(r'<(?:p|span) class="received-(\w+)[^"]*"[^>]*>(.*?)</(?:p|span)>', figure, re.S):
        texts.setdefault(name, []).append(html.unescape(text).strip())
    return texts, re.findall(r'<img class="received-\w+" src="([^"]+)"', figure)


def sent(scene, material):
    """The message and follow-up a real share of the material to a C5 client prepares."""
    answer = share(scene["advisor"], material, to_contact(scene, "c5"))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.json["message"], answer.json["follow_up"]


@pytest.fixture
def editor(library_app):
    return signed_in(library_app, "zhaomin")


def test_a_product_text_previews_its_whole_content_with_the_disclaimer(library_app, scene, editor):
    material = publish(library_app, title="现金宝介绍", body="T+0 快速取现", risk_level="R1")
    texts, pictures = preview(editor, material)
    message, _ = sent(scene, material)
    assert texts["bubble"] == [message["text"]["content"]] == [f"T+0 快速取现\n\n{DISCLAIMER}"]
    assert pictures == []


def test_an_article_previews_the_link_card_title_description_and_cover(library_app, scene, editor):
    material = publish(library_app, kind="link", title="ETF 入门", summary="一文看懂 ETF", risk_level="R2")
    texts, pictures = preview(editor, material)
    message, follow_up = sent(scene, material)
    assert texts["title"] == [message["news"]["title"]] == ["ETF 入门"]
    assert texts["desc"] == [message["news"]["desc"]] == [f"一文看懂 ETF {DISCLAIMER}"]
    assert len(pictures) == 1 and message["news"]["imgUrl"], "the cover, in the card and in the preview"
    assert editor.get(pictures[0]).mimetype == "image/png"
    assert follow_up is None and "bubble" not in texts


def test_a_poster_previews_the_picture_and_the_disclaimer_after_it(library_app, scene, editor):
    material = publish(library_app, kind="image", title="定投海报", risk_level="R3")
    texts, pictures = preview(editor, material)
    _, follow_up = sent(scene, material)
    assert texts["bubble"] == [follow_up["text"]["content"]] == [DISCLAIMER]
    poster = editor.get(pictures[0])
    assert poster.mimetype == "image/png" and poster.get_data() == samples.png()


def test_a_file_previews_its_name_and_size_as_wechat_writes_them(library_app, editor):
    data = samples.pdf("Prospectus", ("a" * 3000,))
    material = publish(library_app, kind="file", title="说明书", file=accept("file", "稳健理财说明书.pdf", io.BytesIO(data)))
    texts, _ = preview(editor, material)
    assert texts["title"] == ["说明书.pdf"], "the file reaches the chat under the title, not the uploaded name"
    assert texts["size"] == [f"{round(len(data) / 1024, 1)} KB"]
    assert texts["icon"] == ["PDF"]
    assert "bubble" not in texts, "general material: no disclaimer follows"


def test_a_mini_program_previews_its_card(library_app, scene, editor):
    material = publish(library_app, kind="miniprogram", title="开户小程序", risk_level="R1")
    texts, pictures = preview(editor, material)
    message, follow_up = sent(scene, material)
    assert texts["title"] == [message["miniprogram"]["title"]] and len(pictures) == 1
    assert texts["bubble"] == [follow_up["text"]["content"]]
