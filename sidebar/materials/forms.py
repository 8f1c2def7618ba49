"""The console's material form: parsed and checked before anything is stored."""
import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from ..models import KINDS, PRODUCT_LEVELS
from .uploads import Upload, UploadRejected, accept

DEFAULT_DISCLAIMER = "投资有风险，入市需谨慎"
FILE_KINDS = ("image", "video", "file")  # kinds whose content is the uploaded file
COVER_KINDS = ("link", "miniprogram")
MAX_TAGS, MAX_TAG = 10, 16
MAX_POSTERS = 9  # posters uploaded at once, each its own draft (a WeChat moment's nine pictures)
LIMITS = {"title": 64, "summary": 200, "disclaimer": 200, "body": 1000, "url": 1024, "appid": 32, "page": 256}
LABELS = {"title": "标题", "summary": "摘要", "disclaimer": "风险提示", "body": "话术内容", "url": "链接",
          "appid": "AppID", "page": "页面路径"}
APPID = re.compile(r"wx[0-9a-f]{16}")


class InvalidMaterial(Exception):
    """The form cannot be saved; the message is for the content team. status 400 or 413."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


@dataclass
class MaterialInput:
    """A checked form: plain values plus accepted uploads (None: no new file)."""

    kind: str
    title: str
    summary: str
    category: str
    tags: str
    risk_level: str | None
    valid_from: date | None
    valid_until: date | None
    disclaimer: str | None
    body: str | None
    url: str | None
    appid: str | None
    page: str | None
    file: Upload | None
    cover: Upload | None


def parse_material(form, files, categories, kind=None, has_file=False, has_cover=False):
    """Check the form; categories are the names it may choose (the console's), kind is fixed when
    editing, has_file/has_cover say an upload is kept."""
    kind = kind or form.get("kind", "")
    if kind not in KINDS:
        raise InvalidMaterial("请选择物料类型")
    text = {name: _text(form, name) for name in ("title", "summary", "body", "url", "appid", "page", "disclaimer")}
    risk_level = form.get("risk_level") or None
    if risk_level not in (None, *PRODUCT_LEVELS):
        raise InvalidMaterial("产品风险等级只能是 R1–R5，通用内容留空")
    valid_from, valid_until = _date(form, "valid_from", "生效日期"), _date(form, "valid_until", "失效日期")
    if valid_from and valid_until and valid_until < valid_from:
        raise InvalidMaterial("失效日期不能早于生效日期")
    _check_common(text, form.get("category", ""), categories)
    _check_content(kind, text, files, has_file, has_cover)
    return MaterialInput(
        kind=kind, title=text["title"], summary=text["summary"], category=form.get("category"),
        tags=",".join(parse_tags(form.get("tags", ""))), risk_level=risk_level,
        valid_from=valid_from, valid_until=valid_until,
        disclaimer=text["disclaimer"] or (DEFAULT_DISCLAIMER if risk_level else None),
        body=text["body"] if kind == "text" else None, url=text["url"] if kind == "link" else None,
        appid=text["appid"] if kind == "miniprogram" else None, page=text["page"] if kind == "miniprogram" else None,
        file=_upload(files, "file", kind) if kind in FILE_KINDS else None,
        cover=_upload(files, "cover", "image") if kind in COVER_KINDS else None)


def parse_materials(form, files, categories):
    """The new materials a create form makes: one, or one draft per poster when several are chosen.

    Every poster is checked before any is kept; each is titled with the form's title and its file's
    name, so the drafts can be told apart in the review queue and in the library.
    """
    posters = [upload for upload in files.getlist("file") if upload.filename] if form.get("kind") == "image" else []
    if len(posters) < 2:
        return [parse_material(form, files, categories)]
    if len(posters) > MAX_POSTERS:
        raise InvalidMaterial(f"一次最多上传 {MAX_POSTERS} 张海报")
    drafts = []
    for upload in posters:
        try:
            data = parse_material(form, {"file": upload}, categories)
        except InvalidMaterial as invalid:
            raise InvalidMaterial(f"{upload.filename}：{invalid}", invalid.status) from None
        data.title = f"{data.title} · {data.file.name.rsplit('.', 1)[0]}"[:LIMITS["title"]]
        drafts.append(data)
    return drafts


def parse_tags(raw):
    """Tags separated by commas (either width), 、 or spaces; de-duplicated, order kept."""
    tags = list(dict.fromkeys(t for t in re.split(r"[,，、\s]+", raw or "") if t))
    if len(tags) > MAX_TAGS:
        raise InvalidMaterial(f"标签最多 {MAX_TAGS} 个")
    if any(len(t) > MAX_TAG for t in tags):
        raise InvalidMaterial(f"每个标签最多 {MAX_TAG} 个字")
    return tags


def _text(form, name):
    """A stripped text field within its length limit."""
    value = (form.get(name) or "").strip()
    if len(value) > LIMITS[name]:
        raise InvalidMaterial(f"{LABELS[name]}最多 {LIMITS[name]} 个字")
    return value


def _date(form, name, label):
    """An ISO date, or None when empty."""
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidMaterial(f"{label}格式应为 YYYY-MM-DD") from None


def _check_common(text, category, categories):
    """Title and category, every kind needs them."""
    if not text["title"]:
        raise InvalidMaterial("请填写标题")
    if category not in categories:
        raise InvalidMaterial("请选择分类")


def _check_content(kind, text, files, has_file, has_cover):
    """What each kind must carry: a body, a link, a file, or the mini-program's fields."""
    if kind == "text" and not text["body"]:
        raise InvalidMaterial("话术内容不能为空")
    if kind == "link" and not _web_url(text["url"]):
        raise InvalidMaterial("文章链接必须是 http:// 或 https:// 开头的网址")
    if kind == "miniprogram":
        if not APPID.fullmatch(text["appid"]):
            raise InvalidMaterial("小程序 AppID 格式应为 wx 加 16 位十六进制字符")
        if not text["page"].split("?")[0].endswith(".html"):
            raise InvalidMaterial("小程序页面路径须以 .html 结尾")
        if not (has_cover or _given(files, "cover")):
            raise InvalidMaterial("小程序卡片需要封面图")
    if kind in FILE_KINDS and not (has_file or _given(files, "file")):
        raise InvalidMaterial("请上传文件")


def _web_url(value):
    """An absolute http(s) URL."""
    parts = urlsplit(value or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _given(files, name):
    """Whether the form carries a non-empty file field."""
    upload = files.get(name)
    return bool(upload and upload.filename)


def _upload(files, name, kind):
    """The accepted upload of a field, or None when the field is empty."""
    if not _given(files, name):
        return None
    upload = files[name]
    try:
        return accept(kind, upload.filename, upload.stream)
    except UploadRejected as rejected:
        raise InvalidMaterial(str(rejected), rejected.status) from None
