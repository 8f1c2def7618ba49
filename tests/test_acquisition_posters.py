"""A channel's QR code printed on an approved poster (issue 20 item 1): the operator picks an approved image
material on the channel's page and downloads the poster with the code in its bottom-right corner."""
import io
import re

import pytest
import zxingcpp
from PIL import Image

from acquisition_helpers import OPERATOR, REVIEWER, make_channel, prepare
from helpers import publish, signed_in
from sidebar.extensions import db, wecom
from sidebar.materials import samples

RED, BLUE = (210, 40, 40), (40, 60, 200)


@pytest.fixture
def acq_app(app):
    """The app with the world synced and the roles granted."""
    prepare(app)
    return app


def image_input(data, name="poster.png", title="开户福利海报"):
    """A MaterialInput of an image material with these bytes."""
    from sidebar.materials.forms import MaterialInput
    from sidebar.materials.uploads import accept

    return MaterialInput(kind="image", title=title, summary="", category="活动海报", tags="", risk_level=None,
                         valid_from=None, valid_until=None, disclaimer=None, body=None, url=None, appid=None,
                         page=None, file=accept("image", name, io.BytesIO(data)), cover=None)


def draft_poster(app, data, title="草稿海报"):
    """An image material only drafted (never reviewed); returns its id."""
    from sidebar.materials import review
    from sidebar.materials.storage import storage

    with app.app_context():
        return review.create_material(storage(), OPERATOR, image_input(data, title=title)).id


def jpeg(width, height, colour):
    """A plain JPEG photo of one colour."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def printed(answer):
    """The downloaded poster as an image, and the QR codes read from it."""
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert answer.mimetype == "image/png" and "attachment" in answer.headers["Content-Disposition"]
    image = Image.open(io.BytesIO(answer.data))
    return image, zxingcpp.read_barcodes(image)


def poster_form(page):
    """The poster form of a channel's page, or ''."""
    found = re.search(r'<form class="poster-form".*?</form>', page, re.S)
    return found.group(0) if found else ""


def near(image, colour, at=(20, 20)):
    """Whether the image's pixel at `at` is this colour (scaling blurs a gradient by a few levels)."""
    return all(abs(a - b) <= 8 for a, b in zip(image.convert("RGB").getpixel(at), colour))


def error_of(answer):
    """The page's error message."""
    return re.search(r'<p class="form-error" role="alert">([^<]+)</p>', answer.get_data(as_text=True)).group(1)


def test_the_poster_carries_the_channels_qr_code_in_its_bottom_right_corner(acq_app, emulator):
    poster = publish(acq_app, kind="image", title="双十一开户福利", file=image_input(
        samples.png(600, 800, top=RED, bottom=BLUE)).file)
    channel_id, config_id, _ = make_channel(acq_app, "网点海报", userids=["wangfang"])
    operator = signed_in(acq_app, OPERATOR)
    form = poster_form(operator.get(f"/console/channels/{channel_id}").get_data(as_text=True))
    assert re.findall(r"<option[^>]*>[^<]*</option>", form) == [f'<option value="{poster}">双十一开户福利</option>']
    assert "生成带二维码的海报" in form

    image, codes = printed(operator.get(f"/console/channels/{channel_id}/poster.png?material={poster}"))
    assert [code.text for code in codes] == [f"https://work.weixin.qq.com/ca/{config_id}"]  # the emulator's code
    assert image.size == (1080, 1440)  # brought up to print size, proportions kept
    corners = [(p.x, p.y) for p in (codes[0].position.top_left, codes[0].position.bottom_right)]
    assert all(x > 1080 * 0.6 and y > 1440 * 0.7 for x, y in corners), corners  # bottom right
    assert near(image, RED)  # the poster is still the poster around it
    assert operator.get(f"/console/channels/{channel_id}/qr.png").status_code == 200


def test_a_jpeg_poster_prints_too(acq_app, emulator):
    poster = publish(acq_app, kind="image", title="讲座海报", file=image_input(jpeg(1200, 900, BLUE), "讲座.jpg").file)
    channel_id, config_id, _ = make_channel(acq_app, "投教讲座", userids=["lina"])
    image, codes = printed(signed_in(acq_app, OPERATOR).get(f"/console/channels/{channel_id}/poster.png",
                                                             query_string={"material": poster}))
    assert image.size == (1440, 1080) and [code.text for code in codes] == [f"https://work.weixin.qq.com/ca/{config_id}"]


def test_a_draft_or_a_text_material_is_refused_with_the_reason(acq_app, emulator):
    channel_id, _, _ = make_channel(acq_app, "网点海报", userids=["wangfang"])
    draft = draft_poster(acq_app, samples.png(600, 800))
    text = publish(acq_app, kind="text", title="欢迎语", body="您好")
    operator = signed_in(acq_app, OPERATOR)
    form = poster_form(operator.get(f"/console/channels/{channel_id}").get_data(as_text=True))
    assert "暂无审核通过的图片海报" in form and "<option" not in form  # neither is offered

    refused = operator.get(f"/console/channels/{channel_id}/poster.png?material={draft}")
    assert refused.status_code == 422 and refused.mimetype == "text/html"
    assert "只能使用已审核通过的海报" in error_of(refused)
    refused = operator.get(f"/console/channels/{channel_id}/poster.png?material={text}")
    assert refused.status_code == 422 and "不是图片海报" in error_of(refused)
    assert operator.get(f"/console/channels/{channel_id}/poster.png?material=").status_code == 422


def test_the_approved_version_is_printed_not_a_newer_draft_and_a_withdrawn_poster_is_refused(acq_app, emulator):
    from sidebar.materials import review

    poster = publish(acq_app, kind="image", title="红色版", file=image_input(samples.png(600, 800, top=RED)).file)
    channel_id, _, _ = make_channel(acq_app, "网点海报", userids=["wangfang"])
    operator = signed_in(acq_app, OPERATOR)  # a content editor too: starts a blue version 2, not yet reviewed
    edited = operator.post(f"/console/materials/{poster}", content_type="multipart/form-data", data={
        "csrf_token": operator.csrf, "kind": "image", "title": "蓝色版", "category": "活动海报", "tags": "",
        "risk_level": "", "file": (io.BytesIO(samples.png(600, 800, top=BLUE)), "蓝色版.png", "image/png")})
    assert edited.status_code == 303, edited.get_data(as_text=True)[:300]
    image, codes = printed(operator.get(f"/console/channels/{channel_id}/poster.png?material={poster}"))
    assert codes and near(image, RED)  # what compliance approved

    with acq_app.app_context():
        review.withdraw(REVIEWER, poster)
        db.session.commit()  # as the console's request would
    refused = operator.get(f"/console/channels/{channel_id}/poster.png?material={poster}")
    assert refused.status_code == 422 and "已撤回" in error_of(refused)


def test_only_an_operator_prints_and_a_retired_channel_prints_nothing(acq_app, emulator):
    from sidebar.acquisition.channels import retire_channel

    poster = publish(acq_app, kind="image", title="海报", file=image_input(samples.png(600, 800)).file)
    channel_id, _, _ = make_channel(acq_app, "网点海报", userids=["wangfang"])
    url = f"/console/channels/{channel_id}/poster.png?material={poster}"
    reviewer = signed_in(acq_app, REVIEWER)  # compliance reads channels, does not print
    assert reviewer.get(url).status_code == 403
    assert poster_form(reviewer.get(f"/console/channels/{channel_id}").get_data(as_text=True)) == ""
    assert signed_in(acq_app, "zhangwei").get(url).status_code == 403  # an advisor without a console role

    with acq_app.app_context():
        retire_channel(wecom(), channel_id, OPERATOR)
        db.session.commit()  # as the console's request would
    refused = signed_in(acq_app, OPERATOR).get(url)
    assert refused.status_code == 422 and "渠道已停用" in error_of(refused)


def test_a_strip_too_thin_to_print_and_a_material_that_is_no_number_are_refused(acq_app, emulator):
    strip = publish(acq_app, kind="image", title="横幅", file=image_input(samples.png(20, 8000), "strip.png").file)
    channel_id, _, _ = make_channel(acq_app, "网点海报", userids=["wangfang"])
    operator = signed_in(acq_app, OPERATOR)
    refused = operator.get(f"/console/channels/{channel_id}/poster.png", query_string={"material": strip})
    assert refused.status_code == 422 and "过于狭长" in error_of(refused)  # 1080 × 432,000 px: never allocated
    for junk in ("²", "١٢", "1e3", "-1"):
        assert operator.get(f"/console/channels/{channel_id}/poster.png", query_string={"material": junk}).status_code == 400
