"""The demo's next steps: a material for each scene (set as the content team would), a client added
today, and a prospect whose account waits for the mobile they give (13900001234) to be linked.

The other situations (开户中, 已开户未入金, 沉睡, 测评过期/将到期, 未匹配) come from the demo's trading
data as it is. Scenes are set once per database, so a change made in the console survives a restart.
"""
import time
from datetime import timedelta

from sqlalchemy import select

from ..emulator.world import External, Follow
from ..extensions import db
from ..materials import review
from ..materials.demo import ARTICLE, AUTHOR, REVIEWER, _input
from ..materials.scenes import set_scene
from ..models import Material, MaterialScene, MaterialVersion, china_today
from ..sync.profiles import import_profiles

ADVISOR = "zhangwei"
WAITING_MOBILE = "13900001234"  # the prospect 吴女士 gives it in the chat; an opened account carries it
# scene -> the library title serving it; rows for titles the library does not have yet (see materials/demo.py)
SCENE_TITLES = {"open_account": "申江证券开户小程序", "applying": "开户流程话术", "funding": "入金指引：三步完成银证转账",
                "win_back": "老朋友回归礼：专属佣金与策略服务", "reassess": "风险承受能力重新评估",
                "welcome": "新客户欢迎语"}
NEW_MATERIALS = [
    ("text", "入金指引：三步完成银证转账", "开户后首次入金的步骤", "服务话术", "入金,新手", None,
     "您好！账户已开通，入金只需三步：1. 打开申江证券 App「银证转账」；2. 选择银行转证券；3. 输入金额与银行密码。"
     "工作日 9:00–16:00 实时到账。"),
    ("text", "老朋友回归礼：专属佣金与策略服务", "给久未交易的老客户", "服务话术", "唤醒,策略", None,
     "好久不见！最近市场机会不少，我为您准备了四季度策略要点，另有老客户专属佣金，方便时聊聊？"),
    ("link", "风险承受能力重新评估", "测评有效期两年，到期后请重新评估", "开户引导", "风险测评", None,
     ARTICLE + "risk-assessment"),
    ("text", "新客户欢迎语", "添加好友当天发送", "服务话术", "欢迎,新手", None,
     "您好，我是申江证券的投资顾问，很高兴为您服务！开户、入金、行情问题都可以随时问我。"),
]


def seed_actions(world, storage):
    """Scenes on materials (once), today's new client and the waiting prospect in the emulator's world."""
    _add_clients(world)
    today = china_today()
    import_profiles([{"account_id": "889900000777", "mobile": WAITING_MOBILE, "name": "吴女士", "stage": "opened",
                      "stage_dates": {"registered": str(today - timedelta(days=9)),
                                      "opened": str(today - timedelta(days=6))},
                      "risk_level": "C3", "risk_expires": str(today + timedelta(days=700)), "total_assets": 0,
                      "assets_as_of": str(today), "branch": "上海分公司浦东营业部"}])
    if db.session.scalar(select(MaterialScene.material_id).limit(1)) is not None:
        return
    titles = _titles()
    for row in NEW_MATERIALS:
        if row[1] not in titles:
            material = review.create_material(storage, AUTHOR, _input(*row))
            review.submit(AUTHOR, material.id)
            review.approve(REVIEWER, material.id)
    titles = _titles()
    for scene, title in SCENE_TITLES.items():
        if title in titles:
            set_scene(AUTHOR, titles[title], scene)


def _titles():
    """{title: material id} of the approved library."""
    return dict(db.session.execute(select(MaterialVersion.title, Material.id).join(Material).where(
        MaterialVersion.status == "approved")).tuples().all())


def _add_clients(world):
    """周先生, added today (a welcome is due), and 吴女士, a prospect whose account is not matched yet.

    The emulator's world is new at every start: they are added each time, without a callback (the
    sidebar fetches them when their chat is opened, as it would any contact it has not seen).
    """
    now = int(time.time())
    for external_userid, name, remark, added in (("wmDemoNewToday000000000001", "周先生", "周先生-直播间", now - 600),
                                                 ("wmDemoWaitsForMobile000001", "吴女士", "吴女士-待开户", now - 86400 * 9)):
        if (ADVISOR, external_userid) in world.follows:
            continue
        world.add_external(External(external_userid=external_userid, name=name, type=1, gender=0))
        world.add_follow(Follow(userid=ADVISOR, external_userid=external_userid, remark=remark,
                                description="", createtime=added, add_way=1, oper_userid=ADVISOR), notify=False)
