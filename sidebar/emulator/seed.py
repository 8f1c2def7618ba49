"""A deterministic brokerage scenario for the emulator's world (see brokerage.md).

Ids and names depend only on the seed; timestamps are relative to the `now` given, so that
"added 3 days ago" stays true whenever the emulator starts.
"""
import random
import string

from .world import Department, External, Follow, Group, Member, Staff, World

DAY = 86400
CORP_NAME = "申江证券"

DEPARTMENTS = [
    (1, "申江证券", 0),
    (2, "上海分公司", 1),
    (3, "浦东营业部", 2),
    (4, "徐汇营业部", 2),
    (5, "合规管理部", 1),
    (6, "财富管理部", 1),
    (7, "静安营业部", 2),
]

# userid, name, department, position, gender, role, how many contacts they add
STAFF = [
    ("zhangwei", "张伟", 3, "投资顾问", 1, "advisor", 40),
    ("lina", "李娜", 3, "投资顾问", 2, "advisor", 32),
    ("wangfang", "王芳", 4, "客户经理", 2, "advisor", 30),
    ("liuyang", "刘洋", 4, "投资顾问", 1, "advisor", 28),
    ("chenjing", "陈静", 3, "理财顾问", 2, "advisor", 20),
    ("zhouqiang", "周强", 3, "营业部负责人", 1, "manager", 0),
    ("sunli", "孙丽", 5, "合规专员", 2, "compliance", 0),
    ("zhaomin", "赵敏", 6, "内容运营", 2, "content", 0),
    # appended last, without contacts of their own, so the seed's draws (ids, names, follows) stay the same
    ("songyu", "宋雨", 7, "投资顾问", 2, "advisor", 0),
    ("hemin", "何敏", 4, "营业部负责人", 2, "manager", 0),
    ("wujun", "吴军", 2, "分公司总经理", 1, "manager", 0),
    ("qianlei", "钱磊", 1, "总经理", 1, "manager", 0),
]
SECOND_FOLLOWS = 15
WECOM_CONTACTS = 8

TAG_GROUPS = [
    ("客户等级", ["潜在客户", "普通客户", "重要客户"]),
    ("来源", ["直播", "公众号", "线下活动", "转介绍"]),
    ("兴趣", ["股票", "基金", "理财", "两融"]),
]
LEVEL_WEIGHTS = [50, 35, 15]
PERSONAL_TAGS = [
    ("跟进", "需回访"), ("跟进", "已约见"), ("备注", "老客户"),
    ("备注", "家人也是客户"), ("关注", "科技股"), ("关注", "红利低波"),
]

# add_way (WeCom's codes), state (the 渠道活码 that brought them), source tag, weight
CHANNELS = [
    (1, "live_1020", "直播", 18),
    (16, "live_link_1108", "直播", 8),
    (1, "gzh_menu", "公众号", 16),
    (1, "offline_1115", "线下活动", 8),
    (3, "", "转介绍", 12),
    (2, "", "", 12),
    (4, "", "", 14),
    (6, "", "", 6),
    (202, "", "", 6),
]
DESCRIPTIONS = {
    "直播": ["直播间添加，关注ETF定投", "看直播来的，想了解开户", "直播答疑时加的，问两融"],
    "公众号": ["公众号文章咨询开户", "公众号菜单扫码添加", "读了基金周报来咨询"],
    "线下活动": ["线下投教活动添加", "社区理财讲座认识"],
    "转介绍": ["老客户转介绍", "同事介绍，在外企工作"],
    "": ["", "", "持有基金较多，偏稳健", "关注科创板", "退休教师，风险偏好低", "做生意，资金量较大"],
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
)
GIVEN_MALE = [
    "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "鹏", "辉", "斌", "浩", "宇", "峰",
    "建华", "志强", "建国", "晓东", "海涛", "文博", "子轩", "浩然", "俊杰", "国庆", "永刚", "振华", "一鸣", "嘉豪",
]
GIVEN_FEMALE = [
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "婷", "雪", "慧", "颖", "琳", "倩", "晶",
    "玉兰", "秀英", "丽华", "欣怡", "梓涵", "思彤", "雨萱", "佳怡", "晓燕", "婉清", "诗琪", "梦瑶", "晓雯", "美玲", "春梅",
]
NICKNAMES = [
    "阳光明媚", "海阔天空", "静待花开", "老王", "小鱼儿", "岁月静好", "Lily", "Kevin", "一路向北", "云淡风轻",
    "平安是福", "股海浮沉", "稳稳的幸福", "天道酬勤", "知足常乐", "A-财富自由", "晴天", "木子", "慢慢来", "Michael",
    "荷塘月色", "追风少年", "淡定", "归零心态", "守望", "长期主义", "价值发现者", "小张", "陈老师", "浦东老李",
    "花开富贵", "夕阳红", "Grace", "Tony", "向日葵", "行者无疆", "简单快乐", "大海", "心如止水", "Annie",
]
MOBILE_PREFIXES = [f"13{d}" for d in range(10)] + ["150", "151", "152", "153", "155", "156", "157", "158", "159"] + [
    f"18{d}" for d in range(10)
]
COMPANIES = [
    ("恒远科技", "上海恒远科技有限公司", "财务总监"),
    ("海川贸易", "上海海川国际贸易有限公司", "总经理"),
    ("明德律所", "上海明德律师事务所", "合伙人"),
    ("星辰医疗", "星辰医疗器械（上海）有限公司", "采购经理"),
    ("远航物流", "远航物流集团有限公司", "副总裁"),
    ("华新置业", "上海华新置业有限公司", "投资经理"),
    ("青禾教育", "青禾教育科技有限公司", "创始人"),
    ("东岸餐饮", "上海东岸餐饮管理有限公司", "运营总监"),
]

# name, owner, admins, other staff, external members, share of prospects, age in days, notice
GROUPS = [
    ("样板间·新客福利群", "zhangwei", ["chenjing"], ["zhouqiang"], 118, 0.65, 92,
     "欢迎新朋友！每个交易日 8:45 分享早盘要点，周三晚 8 点直播答疑。开户福利请私聊群主。投资有风险，入市需谨慎。"),
    ("ETF定投学习群", "zhangwei", [], ["lina"], 46, 0.3, 210,
     "每周一期ETF定投课，资料见群文件。群内不荐股，不承诺收益。"),
    ("开户咨询群", "zhangwei", ["chenjing"], ["wangfang"], 31, 0.5, 60,
     "开户流程、佣金、两融开通条件，请直接在群里提问，工作日 9:00-17:30 有人值守。"),
    ("价值投资交流群", "lina", ["zhangwei"], ["liuyang"], 38, 0.25, 300,
     "理性交流，禁止广告和荐股。每月第一个周六线下读书会。"),
    ("两融客户服务群", "liuyang", ["zhouqiang"], [], 24, 0.0, 150,
     "两融业务通知、维持担保比例提醒在本群发布。融资融券有风险，请关注平仓线。"),
    ("基金理财沙龙", "wangfang", ["chenjing"], [], 57, 0.35, 180,
     "基金经理直播回放与周报在群公告更新。基金有风险，投资需谨慎。"),
]
PROSPECT_REUSE = 0.3  # chance that a prospect slot goes to someone already in another group


def seed_world(seed, now):
    """A brokerage world: advisors, 150 contacts, prospects, 6 groups and corp tags."""
    rng = random.Random(seed)
    world = World(CORP_NAME, rng=random.Random(seed + 1))
    add_org(world)
    tags = add_tag_groups(world, rng, now)
    add_contacts(world, rng, tags, now)
    add_second_follows(world, rng, tags, now)
    for spec in GROUPS:
        add_group(world, rng, spec, now)
    return world


def add_org(world):
    """Departments and staff."""
    for dept_id, name, parent in DEPARTMENTS:
        world.add_department(Department(dept_id, name, parent))
    for index, (userid, name, dept, position, gender, role, _) in enumerate(STAFF):
        mobile = f"1391000{index:04d}"
        in_contact = role in ("advisor", "manager")
        world.add_staff(Staff(userid, name, [dept], position, gender, mobile, role, in_contact))


def add_tag_groups(world, rng, now):
    """The corp tag groups; returns {tag name: tag id}."""
    ids = {}
    for order, (group_name, names) in enumerate(TAG_GROUPS, start=1):
        created_at = now - rng.randint(300, 400) * DAY
        group, tags = world.add_corp_tags(names, group_name=group_name, now=created_at)
        group.order = order
        for tag_order, tag in enumerate(tags, start=1):
            tag.order = tag_order
            ids[tag.name] = tag.id
    return ids


def add_contacts(world, rng, tags, now):
    """Each advisor's own contacts, oldest first; a few are WeCom users of other firms."""
    total = sum(spec[-1] for spec in STAFF)
    wecom_slots = set(rng.sample(range(total), WECOM_CONTACTS))
    companies = iter(COMPANIES)
    nicknames = rng.sample(NICKNAMES, len(NICKNAMES))
    slot = 0
    for userid, *_, quota in STAFF:
        for created in sorted(now - added_days_ago(rng) * DAY for _ in range(quota)):
            company = next(companies) if slot in wecom_slots else None
            person, real_name = new_person(world, rng, nicknames, company)
            world.add_external(person)
            world.add_follow(new_follow(rng, userid, person, real_name, tags, int(created)))
            slot += 1


def added_days_ago(rng):
    """How long ago a contact was added: within 12 months, more of them recent."""
    return 0.2 + 364.8 * rng.random() ** 1.6


def new_person(world, rng, nicknames, company=None, nickname_share=0.45):
    """A new external user and their real name (their WeChat name may be a nickname)."""
    gender = rng.choice([1, 1, 2, 2, 2, 0]) if company is None else rng.choice([1, 2])
    real_name = rng.choice(SURNAMES) + rng.choice(GIVEN_FEMALE if gender == 2 else GIVEN_MALE)
    if company:
        short, full, position = company
        return External(world.new_id("wo"), real_name, 2, gender, "", short, full, position), real_name
    name = nicknames.pop() if nicknames and rng.random() < nickname_share else real_name
    return External(world.new_id("wm"), name, 1, gender, new_unionid(rng)), real_name


def new_unionid(rng):
    """A WeChat unionid (`o` and 27 characters)."""
    alphabet = string.ascii_letters + string.digits + "-_"
    return "o" + "".join(rng.choice(alphabet) for _ in range(27))


def new_mobile(rng):
    """An 11-digit mainland mobile number."""
    return rng.choice(MOBILE_PREFIXES) + "".join(rng.choice(string.digits) for _ in range(8))


def new_follow(rng, userid, person, real_name, tags, createtime):
    """The relation of an advisor who added this person, with remark, tags and channel."""
    add_way, state, source, _ = rng.choices(CHANNELS, weights=[c[-1] for c in CHANNELS])[0]
    level = rng.choices(TAG_GROUPS[0][1], weights=LEVEL_WEIGHTS)[0]
    interests = rng.sample(TAG_GROUPS[2][1], rng.choice([0, 1, 1, 2]))
    tag_ids = [tags[name] for name in [level, source, *interests] if name]
    personal = [list(rng.choice(PERSONAL_TAGS))] if rng.random() < 0.25 else []
    mobiles = [new_mobile(rng)] if rng.random() < 0.4 else []
    remark = real_name if rng.random() < 0.85 else ""
    description = rng.choice(DESCRIPTIONS[source])
    # WeCom: oper_userid is whoever started the adding; customers scanning a code start it themselves.
    oper = userid if add_way in (2, 3, 6) else ("zhouqiang" if add_way == 202 else person.external_userid)
    return Follow(userid, person.external_userid, remark, description, createtime, tag_ids, personal,
                  mobiles, add_way, state, oper)


def add_second_follows(world, rng, tags, now):
    """About 15 contacts that a second advisor also follows (shared or reassigned)."""
    advisors = [spec[0] for spec in STAFF if spec[-1]]
    for contact in rng.sample(world.contacts(), SECOND_FOLLOWS):
        first = world.followers_of(contact.external_userid)[0]
        userid = rng.choice([a for a in advisors if a != first.userid])
        created = first.createtime + int((now - first.createtime) * rng.random())
        add_way = rng.choice([201, 202])
        oper = first.userid if add_way == 201 else "zhouqiang"
        tag_ids = [tags[rng.choices(TAG_GROUPS[0][1], weights=LEVEL_WEIGHTS)[0]]]
        world.add_follow(Follow(userid, contact.external_userid, first.remark, "同事共享的客户", created,
                                tag_ids, [], list(first.remark_mobiles), add_way, "", oper))


def add_group(world, rng, spec, now):
    """One external group with its staff, followed contacts and prospects."""
    name, owner, admins, others, size, prospect_share, age, notice = spec
    created = int(now - age * DAY)
    staff = [owner, *admins, *others]
    members = [Member(owner, 1, created, 1)]
    members += [Member(u, 1, created + rng.randint(60, 3 * DAY), 1, owner) for u in staff[1:]]
    prospects = round(size * prospect_share)
    externals = pick_contacts(world, rng, staff, size - prospects) + pick_prospects(world, rng, prospects)
    for ext in externals:
        members.append(external_member(rng, world, ext, staff, created, now, showroom=prospect_share > 0.5))
    members.sort(key=lambda m: m.join_time)
    world.add_group(Group(world.new_id("wr"), name, owner, created, notice, members, list(admins)))


def pick_contacts(world, rng, staff, count):
    """Contacts for a group: first those of its staff, then anyone's."""
    own = list(dict.fromkeys(ext for userid in staff for ext in world.contacts_of(userid)))
    chosen = rng.sample(own, min(count, len(own)))
    taken = set(chosen)
    rest = [c.external_userid for c in world.contacts() if c.external_userid not in taken]
    return chosen + rng.sample(rest, count - len(chosen))


def pick_prospects(world, rng, count):
    """Group-only external users: mostly new people, some already in another group."""
    known = [p.external_userid for p in world.prospects()]
    chosen = []
    for _ in range(count):
        reusable = [p for p in known if p not in chosen]
        if reusable and rng.random() < PROSPECT_REUSE:
            chosen.append(rng.choice(reusable))
            continue
        person, _ = new_person(world, rng, [], nickname_share=0)
        if rng.random() < 0.5:
            person.name = rng.choice(NICKNAMES)
        world.add_external(person)
        chosen.append(person.external_userid)
    return chosen


def external_member(rng, world, external_userid, staff, created, now, showroom):
    """How an external user joined: QR codes from public platforms dominate the showroom."""
    scenes = [3, 3, 3, 2, 2, 1] if showroom else [1, 1, 1, 3, 3, 2]
    scene = rng.choice(scenes)
    # Most joins are recent: the showroom grew five-fold in its three months.
    joined = int(now - (now - created) * rng.random() ** 1.4)
    invitor = staff[0] if scene == 3 else (rng.choice(staff) if scene == 1 else "")
    nickname = ""
    if rng.random() < 0.12:
        person = world.external(external_userid)
        nickname = person.name[0] + rng.choice(["先生", "女士", "-浦东", "-徐汇"])
    return Member(external_userid, 2, joined, scene, invitor, nickname)
