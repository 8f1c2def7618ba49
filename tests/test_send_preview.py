"""Before sending (issue 16 item 6): what the client will receive, 已发过 · date, and asking before a resend."""
import html
import re

from helpers import publish
from sidebar.materials import samples
from test_materials_sharing import scene, share, to_contact  # noqa: F401


def preview(client, material, target):
    """The preview fragment, as htmx fetches it."""
    return client.get(f"/sidebar/materials/{material}/preview", query_string={"chat": target},
                      headers={"HX-Request": "true"})


def report(client, answer, result):
    """Report a prepared share's result."""
    return client.post(answer.get_json()["report_url"], data={"result": result}, headers={"X-CSRFToken": client.csrf})


def test_a_file_previews_under_its_title_with_its_size_and_the_disclaimer_to_follow(library_app, scene):  # noqa: F811
    material = publish(library_app, "file", title="稳健理财 1 号说明书", risk_level="R2")
    page = preview(scene["advisor"], material, to_contact(scene, "c5"))
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert "稳健理财 1 号说明书.pdf" in text and "note.pdf" not in text
    size = len(samples.pdf())
    assert f'<p class="received-size">{size} B</p>' in text if size < 1024 else f"{size / 1024:.1f} KB" in text
    assert '<p class="received-bubble received-follow-up">投资有风险，入市需谨慎</p>' in text, "the disclaimer follows"
    assert 'class="share-button"' in text and "已发过" not in text


def test_a_link_previews_as_the_card_the_client_sees(library_app, scene):  # noqa: F811
    material = publish(library_app, "link", title="四季度策略展望", summary="估值修复与盈利改善", risk_level="R1")
    text = preview(scene["advisor"], material, to_contact(scene, "c5")).get_data(as_text=True)
    assert "四季度策略展望" in text and "估值修复与盈利改善 投资有风险，入市需谨慎" in text
    assert f"/sidebar/materials/{material}/thumb" in text, "the cover"


def test_a_blocked_material_previews_with_its_reason_and_no_send_button(library_app, scene):  # noqa: F811
    material = publish(library_app, "text", risk_level="R4", body="科创进取")
    text = preview(scene["advisor"], material, to_contact(scene, "c2")).get_data(as_text=True)
    assert "适当性不匹配：客户风险等级 C2" in text and 'class="share-button"' not in text


def test_a_material_sent_to_this_chat_shows_when_and_asks_before_sending_again(library_app, scene):  # noqa: F811
    advisor, chat = scene["advisor"], to_contact(scene, "nobody")
    sent, cancelled = publish(library_app, "text", body="直播预告"), publish(library_app, "text", body="开户指引")
    report(advisor, share(advisor, sent, chat), "sent")
    report(advisor, share(advisor, cancelled, chat), "cancelled")
    text = preview(advisor, sent, chat).get_data(as_text=True)
    assert re.search(r"已发过 · \d{2}-\d{2} \d{2}:\d{2}", text) and "data-ask-again" in text
    assert "已发过" not in preview(advisor, cancelled, chat).get_data(as_text=True), "a cancelled share never arrived"
    assert "已发过" not in preview(advisor, sent, to_contact(scene, "c5")).get_data(as_text=True), "another chat"
    library = advisor.get("/sidebar/materials", query_string={"chat": chat}).get_data(as_text=True)
    item = library[library.index(f'data-material-id="{sent}"'):]
    item = item[:item.index("</li>")]
    assert "已发过 ·" in item and "data-ask-again" in item


def test_a_chat_that_is_not_the_advisors_previews_nothing(library_app, scene):  # noqa: F811
    material = publish(library_app, "text")
    assert preview(scene["advisor"], material, "contact:wmNoSuchContact0000000000").status_code == 404
    assert preview(scene["advisor"], 99999, to_contact(scene, "c5")).status_code == 404
