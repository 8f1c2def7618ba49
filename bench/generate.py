"""Deterministic, realistic data for benchmarks and demos: same arguments, same rows."""
import random
import string
from datetime import date, datetime, timedelta
from decimal import Decimal

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红文斌俊宇浩然子涵欣怡梓萱一诺"
BRANCHES = ["上海分公司", "北京分公司", "深圳分公司", "广州分公司", "杭州分公司", "南京分公司", "成都分公司",
            "武汉分公司", "上海浦东营业部", "北京金融街营业部"]
TAGS = ["高净值", "新开户", "沉睡客户", "两融客户", "偏好ETF", "基金持有", "理财偏好", "科创板权限", "港股通",
        "期权客户", "定投客户", "年轻客户"]
STAGES = ("registered", "applying", "opened", "funded", "traded")
STAGE_WEIGHTS = (8, 5, 12, 25, 50)
RISK_LEVELS = ("C1", "C2", "C3", "C4", "C5")
RISK_WEIGHTS = (10, 20, 35, 25, 10)
MOBILE_PREFIXES = ("130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "157",
                   "158", "159", "176", "177", "180", "181", "186", "187", "188", "189", "199")


def profiles(n=10_000, seed=20261126, as_of=date(2026, 11, 25)):
    """n trading-system profiles (dicts as the import API takes them), the same for the same arguments."""
    rng = random.Random(seed)
    return [_profile(rng, number, as_of) for number in range(n)]


def _profile(rng, number, as_of):
    """One account; most are linked by a unionid, a mobile, or both."""
    stage = rng.choices(STAGES, STAGE_WEIGHTS)[0]
    reached = STAGES[:STAGES.index(stage) + 1]
    funded = stage in ("funded", "traded")
    row = {
        "account_id": f"88{number:010d}",
        "unionid": _unionid(rng) if rng.random() < 0.6 else None,
        "mobile": rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10 ** 8):08d}" if rng.random() < 0.9 else None,
        "name": rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))),
        "stage": stage,
        "risk_level": rng.choices(RISK_LEVELS, RISK_WEIGHTS)[0] if stage != "registered" else None,
        "risk_expires": (as_of + timedelta(days=rng.randint(-60, 3 * 365))).isoformat(),
        "total_assets": round(rng.lognormvariate(11, 1.6), 2) if funded else None,
        "assets_as_of": as_of.isoformat() if funded else None,
        "asset_mix": _mix(rng) if funded else None,
        "last_trade_date": (as_of - timedelta(days=int(rng.expovariate(1 / 40)))).isoformat()
        if stage == "traded" else None,
        "tags": rng.sample(TAGS, rng.randint(0, 4)),
        "branch": rng.choice(BRANCHES),
        "stage_dates": _stage_dates(rng, reached, as_of),
    }
    return row


def _unionid(rng):
    """A WeChat unionid: `o` and 27 characters."""
    return "o" + "".join(rng.choices(string.ascii_letters + string.digits + "_-", k=27))


def _mix(rng):
    """Shares of stock/fund/wealth/cash in hundredths, summing to exactly 1."""
    cuts = sorted(rng.randint(0, 100) for _ in range(3))
    parts = [cuts[0], cuts[1] - cuts[0], cuts[2] - cuts[1], 100 - cuts[2]]
    return {key: part / 100 for key, part in zip(("stock", "fund", "wealth", "cash"), parts)}


def _stage_dates(rng, reached, as_of):
    """Dates of the stages reached, in order, within the last three years."""
    day = as_of - timedelta(days=rng.randint(30, 3 * 365))
    dates = {}
    for stage in reached:
        dates[stage] = day.isoformat()
        day = min(as_of, day + timedelta(days=rng.randint(0, 20)))
    return dates


# -- the full-scale world of the performance budget (bench/dataset.py stores it) -------------------
#
# Every function takes the seed and the moment the data ends at (`now`, naive UTC) and returns rows
# as dicts keyed by model columns, ready for `insert(Model)`. Each draws from its own generator
# (seeded by the seed and its name), so changing one part of the world leaves the others as they were.

BENCH_ADVISOR = "zhangwei"  # an advisor of the emulator's world: the one the budget logs in as
ADVISOR_DEPARTMENTS = (3, 4, 7, 8, 9, 10)
CORP_TAGS = (("客户等级", ("潜在客户", "普通客户", "重要客户")), ("来源", ("直播", "公众号", "线下活动", "转介绍")),
             ("兴趣", ("股票", "基金", "理财", "两融")))
PERSONAL_TAGS = ("需回访", "已约见", "老客户", "家人也是客户", "科技股", "红利低波")
NOTES = ("电话回访，客户关注{}，约下周面谈", "客户询问{}的费率，已发资料", "已提醒客户风险测评即将到期",
         "客户表示近期资金紧张，暂不加仓", "推荐了{}相关内容，客户有兴趣", "客户咨询开户进度，已协助上传证件")
SHARE_STATES = (("sent", 80), ("cancelled", 7), ("failed", 2), ("blocked", 5), ("prepared", 6))
DEVICES = (("phone", 85), ("desktop", 8), ("tablet", 4), ("bot", 2), ("unknown", 1))


def _rng(seed, part):
    """The generator of one part of the world: same seed and part, same numbers."""
    return random.Random(f"{seed}:{part}")


def _name(rng):
    """A Chinese name: a surname and one or two given characters."""
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


def advisors(n=50):
    """n advisor userids: the emulator's 张伟 first (who logs in), then synthetic colleagues."""
    return [BENCH_ADVISOR] + [f"benchadv{number:03d}" for number in range(1, n)]


def staff(userids, seed, now):
    """Staff rows for the advisors, so that no panel ever asks WeCom for a colleague's name."""
    rng = _rng(seed, "staff")
    return [{"userid": userid, "name": "张伟" if userid == BENCH_ADVISOR else _name(rng),
             "department": [3] if userid == BENCH_ADVISOR else [rng.choice(ADVISOR_DEPARTMENTS)],
             "position": rng.choice(("投资顾问", "客户经理", "理财顾问")), "fetched_at": now} for userid in userids]


def contacts(n, userids, seed, now):
    """(contacts, follows, noted mobiles): n WeChat contacts, each followed by one advisor, some by two."""
    rng = _rng(seed, "contacts")
    rows, follows, mobiles = [], [], []
    for number in range(n):
        external_userid = f"wmBench{number:010d}"
        name = _name(rng)
        corp = rng.random() < 0.04
        rows.append({"external_userid": external_userid, "name": name, "type": 2 if corp else 1,
                     "gender": rng.choice((0, 1, 2)), "unionid": _unionid(rng) if rng.random() < 0.85 else None,
                     "corp_name": rng.choice(BRANCHES).replace("分公司", "科技有限公司") if corp else None,
                     "position": "财务总监" if corp else None, "fetched_at": now - timedelta(days=rng.randint(0, 30))})
        owner = userids[number % len(userids)]
        others = [rng.choice(userids)] if rng.random() < 0.15 else []
        for userid in dict.fromkeys([owner, *others]):
            mobile = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10 ** 8):08d}" if rng.random() < 0.3 else None
            follows.append(_follow(rng, userid, external_userid, name, mobile, now))
            if mobile:
                mobiles.append({"mobile": mobile, "external_userid": external_userid})
    return rows, follows, list({(m["mobile"], m["external_userid"]): m for m in mobiles}.values())


def _follow(rng, userid, external_userid, name, mobile, now):
    """One advisor's relation to a contact, with a remark, WeCom tags and sometimes a noted mobile."""
    number = rng.randrange(len(CORP_TAGS))
    group, names = CORP_TAGS[number]
    tags = [{"tag_id": f"etBench{number}{names.index(tag)}", "group_name": group, "tag_name": tag, "type": 1}
            for tag in rng.sample(names, rng.randint(0, 2))]
    tags += [{"tag_id": f"pt{tag}", "group_name": "", "tag_name": tag, "type": 2}
             for tag in rng.sample(PERSONAL_TAGS, rng.choice((0, 0, 1)))]
    return {"userid": userid, "external_userid": external_userid,
            "remark": name + rng.choice(("", "", "（老客户）", "-直播", "-转介绍")),
            "description": rng.choice(("", "", "关注科技股", "家人也是客户")), "state": None,
            "added_at": now - timedelta(days=0.2 + 720 * rng.random() ** 1.6),
            "add_way": rng.choice((1, 1, 2, 3, 4, 16)),
            "remark_mobiles": [mobile] if mobile else [], "tags": tags, "ended_at": None}


def linked_profiles(contact_rows, seed, as_of, now, share=0.6):
    """Trading profiles of a share of the contacts, linked to them (as import_profiles stores them)."""
    rng = _rng(seed, "profiles")
    rows = []
    for contact in contact_rows:
        if rng.random() < share:
            row = _profile(rng, len(rows), as_of)
            rows.append(stored_profile({**row, "unionid": contact["unionid"], "name": contact["name"]},
                                       contact["external_userid"], now))
    return rows


def unlinked_profiles(unionids, first_number, seed, as_of, now):
    """Profiles of prospects known only by their WeChat unionid (group members nobody follows)."""
    rng = _rng(seed, "prospect-profiles")
    return [stored_profile({**_profile(rng, first_number + number, as_of), "unionid": unionid}, None, now)
            for number, unionid in enumerate(unionids)]


def stored_profile(row, external_userid, now):
    """An import row as the client_profile table stores it: dates as dates, amounts as Decimal."""
    day = (lambda value: date.fromisoformat(value) if value else None)
    return {**{key: row[key] for key in ("account_id", "unionid", "mobile", "name", "stage", "risk_level",
                                         "asset_mix", "tags", "branch", "stage_dates")},
            "risk_expires": day(row["risk_expires"]), "assets_as_of": day(row["assets_as_of"]),
            "last_trade_date": day(row["last_trade_date"]), "asset_mix": row["asset_mix"] or {},
            "total_assets": None if row["total_assets"] is None else Decimal(str(row["total_assets"])),
            "external_userid": external_userid, "updated_at": now}


def asset_history(profile_rows, seed, days=90, every=7):
    """Asset snapshots of the funded accounts: every `every` days back to `days`, ending at today's figure."""
    rng = _rng(seed, "assets")
    for profile in profile_rows:
        if profile["total_assets"] is None:
            continue
        value = float(profile["total_assets"])
        for back in range(0, days, every):
            yield {"account_id": profile["account_id"], "day": profile["assets_as_of"] - timedelta(days=back),
                   "total_assets": Decimal(f"{value:.2f}")}
            value *= rng.uniform(0.93, 1.06)


GROUP_THEMES = ("新客福利", "基金定投", "两融交流", "红利低波", "科技成长", "财富沙龙", "ETF学习", "港股通", "理财早知道",
                "开户答疑", "投教课堂", "VIP服务")


def groups(n, big, userids, contact_rows, follows, seed, now):
    """(groups, members, prospects' unionids that have a trading profile).

    `big` groups have the WeCom maximum of 500 members, the others 20–100. Members are the owner's
    contacts, other contacts and prospects nobody follows; a few left lately and are kept.
    """
    rng = _rng(seed, "groups")
    by_advisor = {}
    for follow in follows:
        by_advisor.setdefault(follow["userid"], []).append(follow["external_userid"])
    people = {row["external_userid"]: row for row in contact_rows}
    rows, members, client_prospects = [], [], []
    for number in range(n):
        owner = userids[number % 10] if number < big else rng.choice(userids)
        created = now - timedelta(days=rng.randint(30, 720))
        chat_id = f"wrBench{number:06d}"
        rows.append({"chat_id": chat_id, "name": f"{rng.choice(GROUP_THEMES)}{number % 97 + 1}群", "owner": owner,
                     "notice": rng.choice((None, "欢迎入群！投资有风险，入市需谨慎。")), "created_at": created,
                     "member_version": f"v{number}", "dismissed_at": None, "fetched_at": now})
        size = 500 if number < big else int(rng.triangular(20, 100, 40))
        staff_ids = [owner] + rng.sample([u for u in userids if u != owner], rng.choice((0, 1, 1, 2)))
        members += [_member(rng, chat_id, userid, 1, None, None, created, now, owner, is_admin=index == 1)
                    for index, userid in enumerate(staff_ids)]
        current = size - len(staff_ids)
        externals = _externals(rng, current + round(size * 0.03), by_advisor[owner], contact_rows, people, number)
        for index, (member_id, unionid, name, has_profile) in enumerate(externals):
            members.append(_member(rng, chat_id, member_id, 2, unionid, name, created, now, owner,
                                   left=index >= current))
            if has_profile:
                client_prospects.append(unionid)
    return rows, members, client_prospects


def _externals(rng, count, owners_contacts, contact_rows, people, group_number):
    """(member_id, unionid, name, prospect with a profile) of a group's external members."""
    own = rng.sample(owners_contacts, min(len(owners_contacts), int(count * 0.5)))  # the leavers are prospects
    others = [row["external_userid"] for row in rng.sample(contact_rows, int(count * 0.15))]
    chosen = list(dict.fromkeys(own + others))
    result = [(e, people[e]["unionid"], people[e]["name"], False) for e in chosen]
    for number in range(count - len(chosen)):
        unionid = _unionid(rng) if rng.random() < 0.9 else None
        result.append((f"wmProspect{group_number:05d}{number:04d}", unionid, _name(rng),
                       unionid is not None and rng.random() < 0.3))
    return result


def _member(rng, chat_id, member_id, type_, unionid, name, created, now, owner, is_admin=False, left=False):
    """One member row; one who `left` did so within the last 60 days (the row is kept)."""
    joined = created + (now - created) * rng.random() ** 0.7
    left = max(created, now - timedelta(days=rng.uniform(0, 60))) if left else None
    return {"chat_id": chat_id, "member_id": member_id, "type": type_, "name": name,
            "group_nickname": name + rng.choice(("", "", "", "-上海", "（新手）")) if name else None,
            "unionid": unionid, "joined_at": min(joined, left) if left else joined,
            "join_scene": rng.choice((1, 2, 3)), "invitor": owner if type_ == 2 else None, "is_admin": is_admin,
            "left_at": left}


def group_history(group_rows, member_rows, client_ids, seed, today, days=90):
    """Daily snapshots of every group for the last `days` days (since its creation), growing towards today."""
    rng = _rng(seed, "group-history")
    counts = {row["chat_id"]: [0, 0, 0] for row in group_rows}  # members, staff, clients
    for member in member_rows:
        if member["left_at"] is None:
            figures = counts[member["chat_id"]]
            figures[0] += 1
            figures[1] += member["type"] == 1
            figures[2] += member["member_id"] in client_ids or member["unionid"] in client_ids
    for row in group_rows:
        members, staff_count, clients = counts[row["chat_id"]]
        growth = rng.uniform(0.3, 0.9)  # the share of today's figures the group had `days` days ago
        for back in range(days, 0, -1):
            day = today - timedelta(days=back)
            if day < row["created_at"].date():
                continue
            scale = 1 - (1 - growth) * back / days
            yield {"chat_id": row["chat_id"], "day": day, "members": max(staff_count, round(members * scale)),
                   "staff": staff_count, "externals": max(0, round(members * scale) - staff_count),
                   "clients": round(clients * scale), "opened": round(clients * scale * 0.8),
                   "funded": round(clients * scale * 0.6),
                   "client_assets": Decimal(round(clients * scale * 180_000, 2)).quantize(Decimal("0.01")),
                   "recorded_at": datetime.combine(day, datetime.min.time()) + timedelta(hours=15, minutes=55)}


def notes(follows, n, seed, now):
    """n follow-up notes by the contacts' advisors."""
    rng = _rng(seed, "notes")
    for _ in range(n):
        follow = rng.choice(follows)
        yield {"external_userid": follow["external_userid"], "author": follow["userid"],
               "body": rng.choice(NOTES).format(rng.choice(MATERIAL_THEMES)),
               "created_at": now - timedelta(days=rng.expovariate(1 / 60))}


# -- the library and its share history ---------------------------------------------------------------

MATERIAL_THEMES = ("红利低波", "科技成长", "新能源", "半导体", "消费升级", "医药创新", "高股息", "中证500", "沪深300",
                   "科创50", "港股通", "可转债", "国债逆回购", "货币基金", "融资融券", "股票期权", "公募REITs", "黄金ETF",
                   "纳斯达克100", "中短债", "养老FOF", "北交所", "量化对冲", "人工智能", "创业板", "银行理财")
TITLES = {
    "text": ("{theme}沟通话术", "{theme}常见问题解答", "开户引导话术·{theme}篇", "入金提醒话术（{theme}）",
             "风险测评到期提醒话术", "{theme}产品推介话术"),
    "link": ("{year}年{quarter}季度{theme}投资策略", "一文看懂{theme}", "{theme}行业深度：{angle}",
             "新手入门：什么是{theme}", "{theme}周报（第{issue}期）", "交易入门：{theme}的交易规则"),
    "image": ("{theme}定投海报", "{theme}产品海报", "开户福利海报·{month}月", "{theme}一图看懂"),
    "file": ("{theme}产品说明书", "{theme}行业研究报告", "{theme}季度运作报告", "{theme}基金合同摘要"),
    "video": ("三分钟了解{theme}", "{theme}直播回放（{month}月）", "投教课堂：{theme}"),
    "miniprogram": ("{theme}专区", "开户小程序·{theme}", "{theme}定投计算器"),
}
ANGLES = ("估值修复与盈利改善", "景气拐点的证据", "长期配置价值", "政策催化与资金面", "风险与机会并存", "龙头公司比较")
HINTS = ("适合长期定投的投资者", "附历史回撤与费率说明", "关注红利与科技成长", "支持 T+0 快速取现", "规则、风险与适合人群",
         "三步完成线上开户", "一图看懂交易规则", "新开户享专属福利", "历史业绩不代表未来表现", "分享给关注{theme}的客户")
MATERIAL_TAGS = ("开户", "入金", "新手", "交易入门", "策略", "ETF", "基金", "理财", "两融", "研报", "活动", "定投",
                 "现金管理", "稳健", "高风险", "市场", *TAGS)
KIND_WEIGHTS = (("text", 25), ("link", 35), ("image", 20), ("file", 10), ("video", 5), ("miniprogram", 5))
CATEGORY_BY_KIND = {"text": ("服务话术", "开户引导", "产品推介"), "link": ("市场观点", "投资者教育", "产品推介"),
                    "image": ("活动海报", "产品推介"), "file": ("产品推介", "市场观点"),
                    "video": ("投资者教育",), "miniprogram": ("开户引导", "产品推介")}


def materials(n, seed, now, files, author="zhaomin", reviewer="sunli"):
    """(materials, versions) of a library of n materials, most approved, some with older or newer versions.

    files: kind -> (sha256, file name) of stored sample files for image/video/file, and "cover" -> sha256.
    """
    rng = _rng(seed, "materials")
    rows, versions = [], []
    for material_id in range(1, n + 1):
        kind = rng.choices(*zip(*KIND_WEIGHTS))[0]
        created = now - timedelta(days=730 * rng.random() ** 1.5 + 1)
        withdrawn = now - timedelta(days=rng.uniform(0, 30)) if rng.random() < 0.03 else None
        rows.append({"id": material_id, "kind": kind, "created_by": author, "created_at": created,
                     "withdrawn_at": withdrawn, "withdrawn_by": author if withdrawn else None})
        for number, status in enumerate(_version_states(rng), 1):
            versions.append(_version(rng, len(versions) + 1, material_id, number, status, kind, created, now, files,
                                     author, reviewer))
    return rows, versions


def _version_states(rng):
    """The statuses of one material's versions, oldest first."""
    roll = rng.random()
    if roll < 0.02:
        return [rng.choice(("draft", "pending", "rejected"))]
    states = ["superseded", "approved"] if roll < 0.17 else ["approved"]
    return states + ([rng.choice(("draft", "pending"))] if rng.random() < 0.05 else [])


def _version(rng, version_id, material_id, number, status, kind, created, now, files, author, reviewer):
    """One version row with realistic Chinese text; product materials carry a level R1–R5."""
    theme = rng.choice(MATERIAL_THEMES)
    category = rng.choice(CATEGORY_BY_KIND[kind])
    level = rng.choice(("R1", "R2", "R3", "R3", "R4", "R5")) if category == "产品推介" else None
    title = rng.choice(TITLES[kind]).format(theme=theme, year=rng.choice((2025, 2026)), quarter=rng.choice("一二三四"),
                                            angle=rng.choice(ANGLES), issue=rng.randint(1, 120),
                                            month=rng.randint(1, 12))
    tags = rng.sample(MATERIAL_TAGS, rng.randint(1, 3))
    tags = list(dict.fromkeys(tags + [theme] if rng.random() < 0.5 else tags))
    summary = f"{rng.choice(ANGLES)}，{rng.choice(HINTS).format(theme=theme)}"
    reviewed = created + (now - created) * rng.random() if status not in ("draft", "pending") else None
    validity = rng.random()
    return {
        "id": version_id, "material_id": material_id, "number": number, "status": status, "title": title[:64],
        "summary": summary, "category": category, "tags": ",".join(tags), "risk_level": level,
        "valid_from": (now + timedelta(days=rng.randint(1, 30))).date() if validity < 0.03 else None,
        "valid_until": (now + timedelta(days=rng.randint(-90, 180))).date() if validity > 0.75 else None,
        "disclaimer": "投资有风险，入市需谨慎" if level else None,
        "body": f"您好！{summary}。{theme}的详细介绍请看附件，有问题随时联系我。" if kind == "text" else None,
        "url": f"https://example.com/articles/{material_id}-{number}" if kind == "link" else None,
        "file_sha": files[kind][0] if kind in ("image", "video", "file") else None,
        "file_name": files[kind][1] if kind in ("image", "video", "file") else None,
        "cover_sha": files["cover"] if kind in ("link", "miniprogram") else None,
        "appid": "wx3f6b2c1d0e9a8b7c" if kind == "miniprogram" else None,
        "page": f"pages/theme/index.html?id={material_id}" if kind == "miniprogram" else None,
        "author": author, "created_at": created, "submitted_at": reviewed and reviewed - timedelta(hours=2),
        "reviewed_by": reviewer if reviewed else None, "reviewed_at": reviewed,
        "review_comment": "标题需注明风险等级" if status == "rejected" else None}


def shares(n, follows, group_rows, version_rows, kinds, risk_of, seed, now, opened):
    """n share attempts, evenly over the last year, by the advisors to their contacts (85 %) and groups.

    kinds: material id -> kind; risk_of: external_userid -> risk class (None: no profile). Appends
    (share id, first open) of each opened link to `opened`, for link_opens().
    """
    rng = _rng(seed, "shares")
    live = [v for v in version_rows if v["status"] in ("approved", "superseded")]
    for share_id in range(1, n + 1):
        version = rng.choice(live)
        kind = kinds[version["material_id"]]
        status = rng.choices(*zip(*SHARE_STATES))[0]
        created = now - timedelta(days=365 * (1 - share_id / n) + rng.uniform(0, 0.01))  # ids grow with time
        row = {"id": share_id, "material_id": version["material_id"], "version_id": version["id"],
               "material_level": version["risk_level"], "status": status, "created_at": created,
               "token": None if status == "blocked" else f"{share_id:08x}{rng.getrandbits(64):016x}",
               "reason": "适当性不匹配：客户风险等级 C2，不能发送 R4 产品物料" if status == "blocked" else None,
               "result_at": None if status == "prepared" else created + timedelta(seconds=rng.uniform(1, 20)),
               "message": None if status == "blocked" else _message(kind, version, share_id),
               "first_opened_at": None, **_target(rng, follows, group_rows, risk_of, version["risk_level"])}
        if kind == "link" and status == "sent" and rng.random() < 0.55:
            row["first_opened_at"] = created + timedelta(minutes=rng.expovariate(1 / 90))
            opened.append((share_id, row["first_opened_at"]))
        yield row


def _target(rng, follows, group_rows, risk_of, level):
    """Who a share went to: a contact an advisor follows, or a group by its owner."""
    if rng.random() < 0.85:
        follow = rng.choice(follows)
        known = follow["external_userid"] in risk_of
        client_class = (risk_of[follow["external_userid"]] or "unknown") if known else None
        return {"advisor": follow["userid"], "target_type": "contact", "target_id": follow["external_userid"],
                "target_name": follow["remark"], "client_class": client_class,
                "checks": {"level": level, "clients": [{"name": follow["remark"][:1] + "*", "class": client_class}],
                           "blockers": []}}
    group = rng.choice(group_rows)
    return {"advisor": group["owner"], "target_type": "group", "target_id": group["chat_id"],
            "target_name": group["name"], "client_class": rng.choice(("C1", "C2", "C3", "unknown")),
            "checks": {"level": level, "clients": [], "blockers": []}}


def _message(kind, version, share_id):
    """The sendChatMessage payload the share prepared (as sharing.build_message makes it)."""
    if kind == "link":
        message = {"msgtype": "news", "news": {"link": f"https://sidebar.example.com/r/{share_id:08x}",
                                               "title": version["title"], "desc": version["summary"], "imgUrl": ""}}
    elif kind == "text":
        message = {"msgtype": "text", "text": {"content": version["body"]}}
    elif kind == "miniprogram":
        message = {"msgtype": "miniprogram", "miniprogram": {"appid": version["appid"], "title": version["title"],
                                                             "imgUrl": "", "page": version["page"]}}
    else:
        message = {"msgtype": kind, kind: {"mediaid": f"3bench{version['file_sha'][:40]}"}}
    return {"message": message, "follow_up": None}


def link_opens(opened, n, seed, now):
    """Exactly n opens of the opened links: each one's first open, the rest spread over them at random."""
    rng = _rng(seed, "opens")
    for number in range(n):
        share_id, first = opened[number] if number < len(opened) else rng.choice(opened)
        when = first if number < len(opened) else min(now, first + timedelta(hours=rng.expovariate(1 / 48)))
        yield {"share_id": share_id, "opened_at": when, "device": rng.choices(*zip(*DEVICES))[0],
               "network": f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.0/24"}
