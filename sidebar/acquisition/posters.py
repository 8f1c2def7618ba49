"""A channel's QR code printed on an approved poster: the operator picks an image material, the server
puts the code in its bottom-right corner on a white quiet zone and hands back a PNG to print.

Only the approved version of a material that is live today may be printed (what compliance reviewed is
what goes on the wall); a draft, a rejected, withdrawn or expired one is refused with the reason.
"""
import io

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from ..extensions import db
from ..materials.library import shareable, valid_on
from ..materials.storage import storage
from ..models import Material, MaterialVersion, china_today
from .channels import InvalidInput

MIN_SIDE = 1080  # a poster's short side is brought up to this: the code stays sharp in print
MAX_PIXELS = 40_000_000  # larger images are refused before they are decoded
QR_SHARE = 0.22  # the code's side, of the poster's short side
MARGIN_SHARE = 0.03  # the white box's distance from the poster's edges


def poster_choices(today=None):
    """[(material, live version)] that may carry a code: approved image materials, live today, newest first."""
    today = today or china_today()
    return db.session.execute(select(Material, MaterialVersion).join(MaterialVersion).where(
        shareable(), Material.kind == "image", *valid_on(today))
        .order_by(MaterialVersion.reviewed_at.desc(), Material.id.desc())).tuples().all()


def poster_version(material_id, today=None):
    """The approved version of an image material that may be printed today; InvalidInput saying why not."""
    material = db.session.get(Material, material_id) if material_id else None
    if material is None:
        raise InvalidInput("请选择一张海报")
    if material.kind != "image":
        raise InvalidInput("所选物料不是图片海报，只有图片物料能印上二维码")
    version = material.live
    if version is None or material.withdrawn_at is not None:
        raise InvalidInput("只能使用已审核通过的海报：该物料未通过审核或已撤回")
    today = today or china_today()
    if (version.valid_from and version.valid_from > today) or (version.valid_until and version.valid_until < today):
        raise InvalidInput("该海报不在有效期内，不能印制")
    if version.file_sha is None:
        raise InvalidInput("该海报没有图片文件")
    return version


def compose(channel, material_id):
    """PNG bytes of the poster with the channel's QR code; InvalidInput when it cannot be made."""
    if not channel.active:
        raise InvalidInput("渠道已停用，二维码已失效，不能印制海报")
    if not channel.qr_image:
        raise InvalidInput("二维码暂未取得（企业微信暂时无法访问），稍后再试")
    version = poster_version(material_id)
    poster = _open(storage().get(version.file_sha), "海报图片无法读取")
    code = _open(channel.qr_image, "二维码图片无法读取")
    return _png(place_code(_printable(poster), code))


def layout(width, height):
    """(left, top, side, quiet) of the white box in a poster of this size: the code is side × side,
    inside a white border `quiet` wide (the quiet zone a scanner needs), near the bottom-right corner."""
    short = min(width, height)
    side = round(short * QR_SHARE)
    quiet = max(round(side / 8), 8)
    margin = round(short * MARGIN_SHARE)
    box = side + 2 * quiet
    return width - margin - box, height - margin - box, side, quiet


def place_code(poster, code):
    """The poster (RGB) with the code pasted on its white box."""
    left, top, side, quiet = layout(*poster.size)
    box = side + 2 * quiet
    poster.paste((255, 255, 255), (left, top, left + box, top + box))
    # nearest neighbour: modules stay black and white, never blurred into grey
    poster.paste(_flat(code).resize((side, side), Image.NEAREST), (left + quiet, top + quiet))
    return poster


def _open(data, reason):
    """The decoded image, upright; InvalidInput for bytes that are no image or far too large."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise InvalidInput("海报像素过大（至多 4000 万像素），请换一张")
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise InvalidInput(reason) from None
    return ImageOps.exif_transpose(image)  # a phone's photo stored sideways stands up


def _flat(image):
    """The image as RGB, any transparency laid on white."""
    if image.mode in ("RGBA", "LA", "P", "PA"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def _printable(poster):
    """The poster in RGB, scaled up when its short side is under MIN_SIDE."""
    poster = _flat(poster)
    short = min(poster.size)
    if short < MIN_SIDE:
        scale = MIN_SIDE / short
        size = (round(poster.width * scale), round(poster.height * scale))
        if size[0] * size[1] > MAX_PIXELS:  # a thin strip would grow past what a worker can hold
            raise InvalidInput("海报过于狭长，放大到印刷尺寸后过大，请换一张海报")
        poster = poster.resize(size, Image.LANCZOS)
    return poster


def _png(image):
    """The image as PNG bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
