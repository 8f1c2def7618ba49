"""The demo's library: materials of every kind, approved, general and products R1–R5."""
import io
import time

from ..extensions import db
from ..identity.service import grant_role
from ..models import ClientProfile, Material, china_today
from . import review, samples
from .forms import DEFAULT_DISCLAIMER, MaterialInput
from .uploads import accept

AUTHOR, REVIEWER, MANAGER = "zhaomin", "sunli", "zhouqiang"  # the emulator's content, compliance, manager
ARTICLE = "https://example.com/sidebar-demo/"

# kind, title, summary, category, tags, level, content (body, url, file or appid/page)
MATERIALS = [
    ("text", "开户流程话术", "三步完成线上开户，附常见问题", "服务话术", "开户,新手", None,
     "您好！线上开户只需三步：1. 打开申江证券开户小程序；2. 上传身份证并完成视频见证；3. 绑定银行卡。"
     "全程约 10 分钟，遇到问题随时联系我。"),
    ("miniprogram", "申江证券开户小程序", "手机上 10 分钟开户", "开户引导", "开户", None,
     ("wx3f6b2c1d0e9a8b7c", "pages/open/index.html")),
    ("image", "双十一开户福利海报", "新开户享万一佣金与免费 Level-2 行情", "活动海报", "开户,活动", None, "poster.png"),
    ("link", "新手入门：什么是 ETF", "一文看懂 ETF 的原理、费用与交易方式", "投资者教育", "新手,ETF,基金",
     None, ARTICLE + "what-is-etf"),
    ("link", "2026 年四季度 A 股策略展望", "估值修复与盈利改善的共振，关注红利与科技成长", "市场观点",
     "策略,市场", None, ARTICLE + "q4-outlook"),
    ("video", "三分钟了解融资融券", "两融业务的规则、风险与适合人群", "投资者教育", "两融", None, "margin.mp4"),
    ("file", "新能源行业深度研究", "储能与光伏：景气拐点的证据", "市场观点", "研报,新能源", None, "research.pdf"),
    ("text", "申江现金宝（货币基金）介绍", "T+0 快速取现的现金管理工具", "产品推介", "理财,现金管理", "R1",
     "申江现金宝投资于货币市场工具，支持 T+0 快速取现（单日限额 1 万元），适合存放短期闲置资金。"),
    ("file", "申江稳健理财 1 号产品说明书", "中短债策略，业绩比较基准 2.8%–3.5%", "产品推介", "理财,稳健", "R2",
     "wealth-1.pdf"),
    ("image", "红利低波 ETF 定投海报", "每月定投，分享红利", "产品推介", "基金,ETF,定投", "R3", "dividend.png"),
    ("image", "科创成长混合基金海报", "把握硬科技长期机会", "产品推介", "基金,科技", "R4", "growth.png"),
    ("link", "雪球结构收益凭证：产品要素", "挂钩中证 500，敲入敲出规则详解", "产品推介", "收益凭证,高风险", "R5",
     ARTICLE + "snowball"),
]
FILES = {
    "poster.png": lambda: samples.png(top=(226, 75, 60), bottom=(250, 176, 60)),
    "dividend.png": lambda: samples.png(top=(31, 111, 229), bottom=(18, 161, 80)),
    "growth.png": lambda: samples.png(top=(94, 53, 177), bottom=(31, 111, 229)),
    "margin.mp4": samples.mp4,
    "research.pdf": lambda: samples.pdf("New energy: storage and PV", ("Demo research note", "Sidebar")),
    "wealth-1.pdf": lambda: samples.pdf("Wealth No.1 prospectus", ("Risk level R2", "Demo")),
}
COVERS = {"link": ((31, 111, 229), (120, 170, 240)), "miniprogram": ((18, 161, 80), (120, 210, 150))}


def seed_materials(storage):
    """Console roles for the emulator's staff, and the library (once: skipped when there is one)."""
    for userid, role in ((AUTHOR, "content"), (REVIEWER, "compliance"), (MANAGER, "manager")):
        grant_role(userid, role)
    if db.session.scalar(db.select(Material.id).limit(1)) is not None:
        return 0
    for row in MATERIALS:
        material = review.create_material(storage, AUTHOR, _input(*row))
        review.submit(AUTHOR, material.id)
        review.approve(REVIEWER, material.id)
    return len(MATERIALS)


def _input(kind, title, summary, category, tags, level, content):
    """A checked material input for one demo row."""
    data = MaterialInput(kind=kind, title=title, summary=summary, category=category, tags=tags, risk_level=level,
                         valid_from=None, valid_until=None, disclaimer=DEFAULT_DISCLAIMER if level else None,
                         body=content if kind == "text" else None, url=content if kind == "link" else None,
                         appid=None, page=None, file=None, cover=None)
    if kind == "miniprogram":
        data.appid, data.page = content
    if kind in ("image", "video", "file"):
        data.file = accept(kind, content, io.BytesIO(FILES[content]()))
    if kind in COVERS:
        data.cover = accept("image", "cover.png", io.BytesIO(samples.png(160, 120, *COVERS[kind])))
    return data


def demo_client_with_class(world, advisor, level, today):
    """A contact of the advisor whose demo trading profile has this valid class (for tours and tests)."""
    from ..demo_data import demo_profiles

    current = {row["account_id"]: row for row in demo_profiles(world)}.values()  # each account's last row
    by_unionid = {row["unionid"]: row for row in current if row["unionid"]}
    unionids = {c["external_userid"]: c["unionid"] for c in world["contacts"]}
    for follow in world["follows"]:
        row = by_unionid.get(unionids.get(follow["external_userid"]))
        if follow["userid"] == advisor and row and row["risk_level"] == level \
                and row["risk_expires"] > today.isoformat():
            return follow["external_userid"]
    raise LookupError(f"no {level} client of {advisor} in the demo data")


QUALIFIED_NAME, QUALIFIED_OWNER, QUALIFIED_LEVEL = "私募合格投资者群", "zhangwei", "C4"
QUALIFIED_SIZE = 5


def seed_qualified_group(world, today=None):
    """A qualified group (合格投资者群) for the demo: zhangwei's clients of class C4 and above, put in a
    group of the emulator's world, stored, and marked C4 by compliance (the mark once per group)."""
    from ..domain.directory import store_group
    from ..emulator.api import member_json
    from ..emulator.changes import create_group
    from . import qualified

    today = today or china_today()
    group = next((g for g in world.groups.values() if g.name == QUALIFIED_NAME), None)
    if group is None:
        members = _qualified_clients(world, today)
        if not members:
            return None
        chat_id = create_group(world, {"owner": QUALIFIED_OWNER, "name": QUALIFIED_NAME, "members": members},
                               time.time())["chat_id"]
        group = world.group(chat_id)
    store_group({"chat_id": group.chat_id, "name": group.name, "owner": group.owner, "create_time": group.create_time,
                 "notice": group.notice, "admin_list": [],
                 "member_list": [member_json(world, m, True) for m in group.members]})
    if not qualified.history(group.chat_id):
        qualified.mark(REVIEWER, group.chat_id, QUALIFIED_LEVEL, today)
    return group.chat_id


def _qualified_clients(world, today):
    """Up to QUALIFIED_SIZE of the owner's contacts whose trading account has a valid class C4 or above."""
    unionids = {world.external(e).unionid: e for e in world.contacts_of(QUALIFIED_OWNER) if world.external(e).unionid}
    rows = db.session.scalars(db.select(ClientProfile).where(ClientProfile.unionid.in_(list(unionids)),
                                                             ClientProfile.risk_level.in_(("C4", "C5")),
                                                             ClientProfile.risk_expires >= today)
                              .order_by(ClientProfile.account_id))
    by_class = {"C4": [], "C5": []}
    for row in rows:
        by_class[row.risk_level].append(unionids[row.unionid])
    # both classes: R4 goes into the group, R5 is blocked and leads to a one-to-one send to the C5 clients
    picked = by_class["C5"][:2] + by_class["C4"][:QUALIFIED_SIZE - 2]
    return list(dict.fromkeys(picked))
