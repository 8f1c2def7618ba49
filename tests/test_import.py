"""Trading-system import: validation, upserts, snapshots, linking to contacts, the API and the CLI."""
import csv
import json
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from conftest import advisors, login, make_app
from sidebar.extensions import db, wecom
from sidebar.models import AssetSnapshot, ClientProfile, ContactMobile
from sidebar.sync.profiles import import_profiles
from sidebar.sync.store import store_contact

TODAY = date(2025, 7, 1)  # dates in these rows are in the past whenever the suite runs
TOKEN = "t" * 32
API = "/api/v1/client-profiles"
MISSING = object()


def profile(account_id="880001234567", **fields):
    """A valid, fully described profile; fields override or (MISSING) remove keys."""
    row = {"account_id": account_id, "unionid": None, "mobile": "13812345678", "name": "张三",
           "stage": "funded", "risk_level": "C3", "risk_expires": "2027-06-30",
           "total_assets": 523400.50, "assets_as_of": "2025-06-30",
           "asset_mix": {"stock": 0.5, "fund": 0.3, "wealth": 0.1, "cash": 0.1},
           "last_trade_date": "2025-06-20", "tags": ["高净值", "偏好ETF"], "branch": "上海分公司"}
    row.update(fields)
    return {key: value for key, value in row.items() if value is not MISSING}


def run_import(app, rows, today=TODAY):
    """import_profiles inside the app's context."""
    with app.app_context():
        return import_profiles(rows, today=today)


def stored(app, account_id):
    """The stored profile as a dict of columns, or None."""
    with app.app_context():
        row = db.session.get(ClientProfile, account_id)
        return None if row is None else {c.key: getattr(row, c.key) for c in ClientProfile.__table__.c}


def count(app, model):
    """Rows in a model's table."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def snapshots(app, account_id):
    """(day, total_assets) of an account, oldest first."""
    with app.app_context():
        return db.session.execute(select(AssetSnapshot.day, AssetSnapshot.total_assets).where(
            AssetSnapshot.account_id == account_id).order_by(AssetSnapshot.day)).all()


def dump(app):
    """Every row of the tables the import writes, updated_at included."""
    with app.app_context():
        return {table: db.session.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2")).all()
                for table in ("client_profile", "asset_snapshot", "contact_mobile")}


def fetch_contact(app, external_userid):
    """Have the app fetch a contact from the emulator and store it, as a first chat open does."""
    with app.app_context():
        store_contact(wecom().get_external_contact(external_userid))


def contact_mobiles(app, external_userid):
    """The mobiles stored for a contact."""
    with app.app_context():
        return set(db.session.scalars(select(ContactMobile.mobile).where(
            ContactMobile.external_userid == external_userid)))


def contact_with_unionid(world, avoid=()):
    """A seeded contact that has a unionid."""
    return next(c for c in world["contacts"] if c["unionid"] and c["external_userid"] not in avoid)


def follow_with_mobile(world, avoid=()):
    """A seeded follow whose advisor noted a mobile."""
    return next(f for f in world["follows"] if f["remark_mobiles"] and f["external_userid"] not in avoid)


@contextmanager
def noted_mobiles(emulator, follow, mobiles):
    """Let the advisor of a follow note other mobiles in the emulator's world, then put them back."""
    world = emulator.emulator.world
    before = list(world.follow(follow["userid"], follow["external_userid"]).remark_mobiles)
    world.edit_follow(follow["userid"], follow["external_userid"], remark_mobiles=mobiles)
    try:
        yield
    finally:
        world.edit_follow(follow["userid"], follow["external_userid"], remark_mobiles=before)


# -- validation -----------------------------------------------------------------------------------

REJECTED = [
    ("account_id", MISSING), ("account_id", None), ("account_id", 880001234567), ("account_id", "880"),
    ("account_id", "8800-0123"), ("account_id", "8" * 33), ("account_id", "８８０００１"),
    ("unionid", 12345), ("unionid", "o" * 65),
    ("mobile", 13812345678), ("mobile", "1381234567"), ("mobile", "23812345678"), ("mobile", "138123456789"),
    ("name", ["张三"]), ("name", "张" * 65),
    ("stage", "closed"), ("stage", "Funded"), ("stage", 3),
    ("risk_level", "C6"), ("risk_level", "c3"), ("risk_level", 3),
    ("risk_expires", "2027/06/30"), ("risk_expires", "2027-02-30"), ("risk_expires", "20270630"),
    ("risk_expires", 20270630),
    ("total_assets", "523400.50"), ("total_assets", -0.01), ("total_assets", True), ("total_assets", 1e16),
    ("assets_as_of", "2025-07-02"), ("assets_as_of", "30/06/2025"),
    ("asset_mix", {"stock": 0.5, "fund": 0.3}), ("asset_mix", {"stock": 0.5, "gold": 0.5}),
    ("asset_mix", {"stock": 1.5, "cash": -0.5}), ("asset_mix", {"stock": "0.5", "cash": 0.5}),
    ("asset_mix", {"stock": True}), ("asset_mix", [0.5, 0.5]), ("asset_mix", {}),
    ("last_trade_date", "2025-6-20"), ("last_trade_date", 20250620),
    ("tags", "高净值"), ("tags", [""]), ("tags", ["  "]), ("tags", ["x" * 33]), ("tags", [1]),
    ("tags", [f"t{i}" for i in range(21)]),
    ("branch", 5), ("branch", "分" * 65),
    ("stage_dates", {"closed": "2025-01-01"}), ("stage_dates", {"opened": "yesterday"}),
    ("stage_dates", ["opened"]),
]


@pytest.mark.parametrize(("field", "value"), REJECTED, ids=[f"{f}={v!r}"[:40] for f, v in REJECTED])
def test_a_wrong_value_is_rejected_with_a_reason_naming_the_field(app, field, value):
    result = run_import(app, [profile(**{field: value})])
    assert result.accepted == 0
    assert [item["index"] for item in result.rejected] == [0]
    assert result.rejected[0]["error"].startswith(field), result.rejected[0]["error"]
    assert count(app, ClientProfile) == count(app, AssetSnapshot) == 0


def test_risk_level_reason_reads_as_documented(app):
    result = run_import(app, [profile(risk_level="C9")])
    assert result.rejected[0]["error"].startswith("risk_level: must be one of C1…C5 or null")


@pytest.mark.parametrize("row", ["880001234567", ["880001234567"], None, 5])
def test_a_row_that_is_not_an_object_is_rejected(app, row):
    result = run_import(app, [row])
    assert result.accepted == 0
    assert result.rejected[0]["index"] == 0
    assert result.rejected[0]["error"].startswith("profile: must be an object")


ACCEPTED = [
    ("mobile", "+86 138-1234-5678", "13812345678"),
    ("mobile", "8613812345678", "13812345678"),
    ("mobile", None, None),
    ("stage", None, None),
    ("risk_level", None, None),
    ("risk_level", "C5", "C5"),
    ("total_assets", 0, Decimal("0.00")),
    ("total_assets", 100, Decimal("100.00")),
    ("total_assets", 12.345, Decimal("12.35")),
    ("asset_mix", {"stock": 0.49, "cash": 0.49}, {"stock": 0.49, "cash": 0.49}),
    ("asset_mix", {"cash": 1}, {"cash": 1.0}),
    ("asset_mix", None, {}),
    ("tags", [f"t{i}" for i in range(20)], [f"t{i}" for i in range(20)]),
    ("tags", ["x" * 32, "x" * 32], ["x" * 32]),
    ("tags", MISSING, []),
    ("account_id", "A" * 32, "A" * 32),
    ("last_trade_date", None, None),
    ("branch", MISSING, None),
]


@pytest.mark.parametrize(("field", "value", "expected"), ACCEPTED,
                         ids=[f"{f}={v!r}"[:40] for f, v, _ in ACCEPTED])
def test_good_values_are_stored_normalised(app, field, value, expected):
    row = profile(**{field: value})
    assert run_import(app, [row]).rejected == []
    assert stored(app, row["account_id"])[field] == expected


def test_unknown_keys_are_ignored(app):
    assert run_import(app, [profile(id_card="310101199001011234", score=99)]).accepted == 1


def test_assets_without_a_date_count_for_today(app):
    run_import(app, [profile(assets_as_of=MISSING, total_assets=1000)])
    assert stored(app, "880001234567")["assets_as_of"] == TODAY
    assert snapshots(app, "880001234567") == [(TODAY, Decimal("1000.00"))]


def test_good_rows_are_stored_even_when_others_are_rejected(app):
    rows = [profile("880000000001"), profile("880000000002", risk_level="C7"),
            profile("880000000003"), "not a profile", profile("880000000004", mobile="12345")]
    result = run_import(app, rows)
    assert result.accepted == 2
    assert [item["index"] for item in result.rejected] == [1, 3, 4]
    assert [e["error"].split(":")[0] for e in result.rejected] == ["risk_level", "profile", "mobile"]
    assert stored(app, "880000000001") and stored(app, "880000000003")
    assert count(app, ClientProfile) == 2


def test_rejections_across_chunks_keep_their_index(app):
    rows = [profile(f"88{i:010d}") for i in range(1200)]
    rows[3], rows[777] = profile(stage="closed"), 42
    result = run_import(app, rows)
    assert result.accepted == 1198
    assert [item["index"] for item in result.rejected] == [3, 777]


# -- upserts and snapshots ------------------------------------------------------------------------

def test_the_same_rows_twice_leave_identical_state(app, world):
    contact = contact_with_unionid(world)
    fetch_contact(app, contact["external_userid"])
    rows = [profile(f"88000000000{i}", unionid=contact["unionid"] if i == 1 else None,
                    stage_dates={"opened": "2025-01-02"} if i == 2 else None) for i in range(1, 6)]
    rows.append(profile("880000000003", name="李四"))  # the same account twice in one request
    run_import(app, rows)
    first = dump(app)
    assert stored(app, "880000000001")["external_userid"] == contact["external_userid"]
    assert run_import(app, rows).accepted == 6
    assert dump(app) == first
    assert run_import(app, rows, today=date(2025, 7, 9)).accepted == 6, "a later resend changes nothing"
    assert dump(app) == first
    assert stored(app, "880000000003")["name"] == "李四", "the later row of an account wins"


def test_a_resend_replaces_the_profile_but_keeps_link_and_stage_dates(app, world):
    contact = contact_with_unionid(world)
    fetch_contact(app, contact["external_userid"])
    run_import(app, [profile(unionid=contact["unionid"], stage="opened")])
    run_import(app, [{"account_id": "880001234567", "stage": "funded"}], today=date(2025, 7, 5))
    row = stored(app, "880001234567")
    assert row["external_userid"] == contact["external_userid"]
    assert row["stage_dates"] == {"opened": "2025-07-01", "funded": "2025-07-05"}
    assert (row["name"], row["mobile"], row["risk_level"], row["total_assets"]) == (None, None, None, None)
    assert (row["tags"], row["asset_mix"], row["branch"]) == ([], {}, None)


def test_stage_dates_keep_what_rows_gave_and_date_new_stages_today(app):
    run_import(app, [profile(stage="opened", stage_dates={"registered": "2025-03-01"})])
    assert stored(app, "880001234567")["stage_dates"] == {"registered": "2025-03-01", "opened": "2025-07-01"}
    run_import(app, [profile(stage="opened", stage_dates={"opened": "2025-06-15"})], today=date(2025, 7, 2))
    run_import(app, [profile(stage="traded")], today=date(2025, 7, 3))
    assert stored(app, "880001234567")["stage_dates"] == {
        "registered": "2025-03-01", "opened": "2025-06-15", "traded": "2025-07-03"}


def test_one_snapshot_per_account_and_date(app):
    run_import(app, [profile(total_assets=100, assets_as_of="2025-06-29")])
    run_import(app, [profile(total_assets=200, assets_as_of="2025-06-29")])
    assert snapshots(app, "880001234567") == [(date(2025, 6, 29), Decimal("200.00"))]
    run_import(app, [profile(total_assets=300, assets_as_of="2025-06-30"),
                     profile(total_assets=310, assets_as_of="2025-06-30")])
    assert snapshots(app, "880001234567") == [(date(2025, 6, 29), Decimal("200.00")),
                                              (date(2025, 6, 30), Decimal("310.00"))]
    assert stored(app, "880001234567")["total_assets"] == Decimal("310.00")


def test_no_assets_no_snapshot(app):
    run_import(app, [profile(total_assets=None)])
    assert stored(app, "880001234567") is not None
    assert count(app, AssetSnapshot) == 0


# -- linking to WeCom contacts --------------------------------------------------------------------

def test_linked_by_unionid(app, world):
    contact = contact_with_unionid(world)
    fetch_contact(app, contact["external_userid"])
    run_import(app, [profile(unionid=contact["unionid"], mobile=None)])
    assert stored(app, "880001234567")["external_userid"] == contact["external_userid"]


def test_linked_by_a_mobile_the_advisor_noted(app, world):
    follow = follow_with_mobile(world)
    fetch_contact(app, follow["external_userid"])
    digits = follow["remark_mobiles"][0]
    run_import(app, [profile(unionid=None, mobile=f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}")])
    assert stored(app, "880001234567")["external_userid"] == follow["external_userid"]


def test_unionid_wins_over_mobile(app, world):
    follow = follow_with_mobile(world)
    contact = contact_with_unionid(world, avoid={follow["external_userid"]})
    fetch_contact(app, follow["external_userid"])
    fetch_contact(app, contact["external_userid"])
    run_import(app, [profile(unionid=contact["unionid"], mobile=follow["remark_mobiles"][0])])
    assert stored(app, "880001234567")["external_userid"] == contact["external_userid"]


def test_a_better_match_replaces_a_link_and_no_match_keeps_it(app, world):
    follow = follow_with_mobile(world)
    contact = contact_with_unionid(world, avoid={follow["external_userid"]})
    fetch_contact(app, follow["external_userid"])
    run_import(app, [profile(unionid=contact["unionid"], mobile=follow["remark_mobiles"][0])])
    assert stored(app, "880001234567")["external_userid"] == follow["external_userid"]
    fetch_contact(app, contact["external_userid"])
    assert stored(app, "880001234567")["external_userid"] == contact["external_userid"]
    run_import(app, [profile(unionid="oNobodyHasThisUnionid", mobile=None)])
    assert stored(app, "880001234567")["external_userid"] == contact["external_userid"]


def test_a_mobile_noted_for_two_contacts_links_to_none(app, world, emulator):
    first = follow_with_mobile(world)
    second = next(f for f in world["follows"] if f["external_userid"] != first["external_userid"])
    mobile = first["remark_mobiles"][0]
    with noted_mobiles(emulator, second, second["remark_mobiles"] + [mobile]):
        fetch_contact(app, first["external_userid"])
        fetch_contact(app, second["external_userid"])
    for contact in (first, second):
        assert mobile in contact_mobiles(app, contact["external_userid"])
    run_import(app, [profile(unionid=None, mobile=mobile)])
    assert stored(app, "880001234567")["external_userid"] is None


def test_a_profile_is_linked_when_its_contact_first_appears(app, world):
    follow = follow_with_mobile(world)
    contact = contact_with_unionid(world, avoid={follow["external_userid"]})
    run_import(app, [profile("880000000001", unionid=contact["unionid"], mobile=None),
                     profile("880000000002", unionid=None, mobile=follow["remark_mobiles"][0])])
    assert stored(app, "880000000001")["external_userid"] is None
    assert stored(app, "880000000002")["external_userid"] is None
    fetch_contact(app, contact["external_userid"])
    fetch_contact(app, follow["external_userid"])
    assert stored(app, "880000000001")["external_userid"] == contact["external_userid"]
    assert stored(app, "880000000002")["external_userid"] == follow["external_userid"]


def test_opening_the_chat_links_the_profile_waiting_for_the_contact(app, client, world):
    advisor = advisors(world)[0]
    follow = next(f for f in world["follows"] if f["userid"] == advisor and f["remark_mobiles"])
    run_import(app, [profile(unionid=None, mobile=follow["remark_mobiles"][0])])
    login(client, advisor)
    assert client.get(f"/sidebar/contacts/{follow['external_userid']}").status_code == 200
    assert stored(app, "880001234567")["external_userid"] == follow["external_userid"]


def test_store_contact_keeps_the_noted_mobiles_of_active_follows(app, world, emulator):
    follow = follow_with_mobile(world)
    ours = follow["external_userid"]
    noted = {m for f in world["follows"] if f["external_userid"] == ours for m in f["remark_mobiles"]}
    fetch_contact(app, ours)
    assert contact_mobiles(app, ours) == noted
    with noted_mobiles(emulator, follow, ["+86 139-0000-0001", "021-12345678"]):
        fetch_contact(app, ours)
        others = {m for f in world["follows"] if f["external_userid"] == ours and f["userid"] != follow["userid"]
                  for m in f["remark_mobiles"]}
        assert contact_mobiles(app, ours) == {"13900000001"} | others, "normalised; a landline is no mobile"


# -- the API --------------------------------------------------------------------------------------

@pytest.fixture
def api_app(tmp_path, emulator):
    """An app with the import API switched on."""
    return make_app(tmp_path / "api.db", emulator.url, SIDEBAR_IMPORT_TOKEN=TOKEN)


def post(app, body, token=TOKEN, **headers):
    """POST a body (encoded as JSON unless bytes/str) to the import API."""
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return app.test_client().post(API, data=data, content_type="application/json", headers=headers)


def test_api_without_a_configured_token_is_disabled(app):
    response = post(app, [profile()])
    assert response.status_code == 404
    assert response.get_json()["detail"] == "import API disabled"
    assert count(app, ClientProfile) == 0


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token-wrong-token-wrong", f"Basic {TOKEN}",
                                           f"Bearer {TOKEN}x", "Bearer", f"Bearer {TOKEN[:-1]}é"])
def test_api_without_the_right_token_answers_401(api_app, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = post(api_app, [profile()], token=None, **headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.is_json
    assert count(api_app, ClientProfile) == 0


@pytest.mark.parametrize(("body", "reason"), [
    ("[{", "invalid JSON"), ("", "invalid JSON"), (b"\xff\xfe[", "invalid JSON"), ("[NaN]", "invalid JSON"),
    ('{"account_id": "880001234567"}', "expected a JSON array"), ('"x"', "expected a JSON array"),
])
def test_api_answers_400_with_the_reason(api_app, body, reason):
    response = post(api_app, body)
    assert response.status_code == 400
    assert reason in response.get_json()["detail"]


def test_api_accepts_good_rows_without_a_csrf_token(api_app):
    response = post(api_app, [profile("880000000001"), profile("880000000002", stage="done")])
    assert response.status_code == 200
    assert response.get_json() == {"accepted": 1, "rejected": [
        {"index": 1, "error": "stage: must be one of registered, applying, opened, funded, traded or null, "
                              "got 'done'"}]}
    assert stored(api_app, "880000000001")["total_assets"] == Decimal("523400.50")


def test_api_refuses_more_than_10000_profiles(api_app):
    response = post(api_app, [{"account_id": f"88{i:010d}"} for i in range(10_001)])
    assert response.status_code == 413
    assert "10000" in response.get_json()["detail"]
    assert count(api_app, ClientProfile) == 0


def test_api_refuses_a_body_over_16_mb_and_stores_nothing(api_app):
    body = json.dumps([profile(padding="x" * (16 * 1024 * 1024))])
    response = post(api_app, body)
    assert response.status_code == 413
    assert response.is_json
    assert count(api_app, ClientProfile) == 0


# -- the CLI --------------------------------------------------------------------------------------

def cli(app, path):
    """Run `flask import-profiles PATH` against app."""
    return app.test_cli_runner().invoke(args=["import-profiles", str(path)])


def test_cli_imports_a_json_file(app, tmp_path):
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps([profile("880000000001"), profile("880000000002", tags="x"),
                                profile("880000000003")], ensure_ascii=False), encoding="utf-8")
    result = cli(app, path)
    assert result.exit_code == 0, result.output
    assert "accepted: 2, rejected: 1" in result.output
    assert "item 1: tags: must be an array" in result.output
    assert count(app, ClientProfile) == 2


CSV_HEADER = ["account_id", "unionid", "mobile", "name", "stage", "risk_level", "risk_expires", "total_assets",
              "assets_as_of", "asset_mix.stock", "asset_mix.fund", "asset_mix.wealth", "asset_mix.cash",
              "last_trade_date", "tags", "branch", "stage_dates.opened"]


def write_csv(path, records):
    """A UTF-8 CSV with the header, as a spreadsheet would save it."""
    with open(path, "w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_HEADER)
        writer.writerows(records)


def test_cli_imports_a_csv_file(app, tmp_path):
    path = tmp_path / "profiles.csv"
    write_csv(path, [
        ["880000000001", "", "138 1234 5678", "张三", "funded", "C3", "2027-06-30", "523400.50",
         "2025-06-30", "0.5", "0.3", "0.1", "0.1", "2025-06-20", "高净值|偏好ETF", "上海分公司", "2025-01-02"],
        ["880000000002", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""],
        ["880000000003", "", "", "", "", "", "", "many", "", "", "", "", "", "", "", "", ""],
    ])
    result = cli(app, path)
    assert result.exit_code == 0, result.output
    assert "accepted: 2, rejected: 1" in result.output
    assert "row 4: total_assets: must be a number" in result.output
    full, bare = stored(app, "880000000001"), stored(app, "880000000002")
    assert full["mobile"] == "13812345678" and full["name"] == "张三"
    assert full["total_assets"] == Decimal("523400.50")
    assert full["asset_mix"] == {"stock": 0.5, "fund": 0.3, "wealth": 0.1, "cash": 0.1}
    assert full["tags"] == ["高净值", "偏好ETF"]
    assert full["stage_dates"]["opened"] == "2025-01-02"
    assert (bare["mobile"], bare["stage"], bare["total_assets"], bare["tags"], bare["asset_mix"]) == \
        (None, None, None, [], {})


def test_cli_shows_the_first_20_rejections(app, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([profile(f"88{i:010d}", stage="x") for i in range(25)]))
    result = cli(app, path)
    assert "accepted: 0, rejected: 25" in result.output
    assert "item 19: stage" in result.output and "item 20: stage" not in result.output
    assert "and 5 more" in result.output


@pytest.mark.parametrize(("name", "content"), [
    ("broken.json", b"[{"), ("object.json", b'{"account_id": "880001234567"}'),
    ("latin1.csv", "account_id,name\n880001234567,Jos\xe9\n".encode("latin-1")),
    ("noid.csv", b"account,name\n880001234567,x\n"), ("profiles.txt", b"[]"),
])
def test_cli_fails_on_a_file_it_cannot_read(app, tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    result = cli(app, path)
    assert result.exit_code != 0
    assert count(app, ClientProfile) == 0


def test_cli_fails_on_a_missing_file(app, tmp_path):
    assert cli(app, tmp_path / "nothing.json").exit_code != 0
