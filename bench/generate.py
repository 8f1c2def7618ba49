"""Deterministic, realistic data for benchmarks and demos: same arguments, same rows."""
import random
import string
from datetime import date, timedelta

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
