"""Trading-system import: validation, upserts, snapshots, linking to contacts, the API and the CLI."""
import csv
import json
import re
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from helpers import advisors, login, make_app, run_sql
from sidebar.extensions import db, wecom
from sidebar.models import RISK_LEVELS, STAGES, AssetSnapshot, ClientProfile, ContactMobile
from sidebar.sync.profiles import import_profiles
from sidebar.domain.directory import store_contact

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
    # control characters and unpaired surrogates (issue 12): PostgreSQL refuses NUL, SQLite surrogates
    ("name", "张\x00三"), ("name", "张\ud800三"), ("name", "\x85"), ("unionid", "oAbc\x00def"),
    ("branch", "上海\x1b[2J"), ("tags", ["高净值", "新\x00客"]), ("tags", ["\udcff"]),
    ("mobile", "138\x1c1234\x1c5678"),
    ("asset_mix", {"stock": 10 ** 400}),  # no float holds it
    # dates out of any sane range, and a journey out of order
    ("risk_expires", "0001-01-01"), ("risk_expires", "9999-12-31"), ("risk_expires", "2031-01-01"),
    ("assets_as_of", "1989-12-31"), ("last_trade_date", "2025-07-02"), ("last_trade_date", "0001-01-01"),
    ("stage_dates", {"opened": "1989-12-31"}), ("stage_dates", {"opened": "2025-07-02"}),
    ("stage_dates", {"registered": "2025-03-01", "opened": "2025-02-01"}),
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
    ("risk_expires", "2030-12-31", date(2030, 12, 31)),
    ("last_trade_date", "1990-01-01", date(1990, 1, 1)),
    ("name", "Zoë 张\u200d三", "Zoë 张\u200d三"),
    ("stage_dates", {"opened": "2025-03-01", "registered": "2025-03-01"}, {"registered": "2025-03-01",
                                                                           "opened": "2025-03-01",
                                                                           "funded": "2025-07-01"}),
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


HOSTILE = [("name", "李\x00四"), ("name", "李\ud800四"), ("unionid", "o\x00x"), ("branch", "浦东\x1b[31m"),
           ("tags", ["高净值", "\udcff"]), ("tags", ["\x00"]), ("mobile", "139\x1c0000\x1c0001")]


@pytest.mark.parametrize(("field", "value"), HOSTILE, ids=[f"{f}={v!r}" for f, v in HOSTILE])
def test_a_hidden_character_costs_its_row_only_and_is_never_echoed(app, field, value):
    rows = [profile("880000000001"), profile("880000000002", **{field: value}), profile("880000000003")]
    result = run_import(app, rows)
    assert result.accepted == 2
    assert result.rejected == [{"index": 1, "error": result.rejected[0]["error"]}]
    error = result.rejected[0]["error"]
    assert error.split(":")[0].split("[")[0] == field
    assert "control characters or unpaired surrogates" in error and "李" not in error and "139" not in error
    assert stored(app, "880000000001") and stored(app, "880000000003") and not stored(app, "880000000002")


def refuse_in_database(app, account_id):
    """A trigger making the database itself refuse one account's row (a rule validation knows nothing of)."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        run_sql(app, f"CREATE TRIGGER refuse_one BEFORE INSERT ON client_profile WHEN NEW.account_id = '{account_id}' "
                     "BEGIN SELECT RAISE(ABORT, 'refused by a rule of the database'); END")
        return
    run_sql(app, "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                 f"IF NEW.account_id = '{account_id}' THEN RAISE EXCEPTION 'refused by a rule of the database'; "
                 "END IF; RETURN NEW; END $$")
    run_sql(app, "CREATE TRIGGER refuse_one BEFORE INSERT ON client_profile FOR EACH ROW EXECUTE FUNCTION refuse_one()")


def test_a_row_the_database_refuses_costs_that_row_only_and_no_log_names_client_data(app, caplog):
    refuse_in_database(app, "880000000003")
    rows = [profile(f"88000000000{i}", name=f"客户{i}号", mobile=f"1390000000{i}") for i in range(1, 6)]
    rows.append(profile("880000000006", stage="closed"))
    result = run_import(app, rows)
    assert result.accepted == 4
    assert [item["index"] for item in result.rejected] == [2, 5]
    assert result.rejected[0]["error"].startswith("profile: the database refused this row")
    assert [stored(app, f"88000000000{i}") is not None for i in range(1, 6)] == [True, True, False, True, True]
    assert count(app, AssetSnapshot) == 4
    for secret in ("客户3号", "13900000003", "880000000003", "523400.5"):
        assert secret not in caplog.text and secret not in result.rejected[0]["error"]


def test_an_error_of_the_database_shows_no_sql_parameter(app):
    with app.app_context(), pytest.raises(DBAPIError) as raised:
        db.session.execute(text("INSERT INTO no_such_table (mobile) VALUES (:mobile)"), {"mobile": "13812345678"})
    assert "13812345678" not in str(raised.value)  # what the error log would print


def test_a_lone_surrogate_tag_is_refused_and_the_panel_still_opens(app, client, world):
    advisor = advisors(world)[0]
    follow = next(f for f in world["follows"] if f["userid"] == advisor and f["remark_mobiles"])
    result = run_import(app, [profile(unionid=None, mobile=follow["remark_mobiles"][0], tags=["高净值", "\ud83d"])])
    login(client, advisor)
    assert client.get(f"/sidebar/contacts/{follow['external_userid']}").status_code == 200
    assert [item["index"] for item in result.rejected] == [0]


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


def test_api_keeps_the_good_rows_beside_nul_and_lone_surrogates(api_app, caplog):
    rows = [profile("880000000001"), profile("880000000002", name="李\x00四"), profile("880000000003", tags=["\ud800"]),
            {"account_id": "88\x0000000004"}, {"account_id": "\udfff8800000005"}, profile("880000000006")]
    response = post(api_app, rows)  # json.dumps writes \u0000 and \ud800, as a trading system might
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["accepted"] == 2
    assert [(item["index"], item["error"].split(":")[0]) for item in body["rejected"]] == [
        (1, "name"), (2, "tags[0]"), (3, "account_id"), (4, "account_id")]
    assert stored(api_app, "880000000001") and stored(api_app, "880000000006")
    assert "Traceback" not in caplog.text


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


def test_cli_refuses_hidden_characters_row_by_row_in_json_and_csv(app, tmp_path):
    json_path = tmp_path / "profiles.json"
    json_path.write_text(json.dumps([profile("880000000001"), profile("880000000002", branch="\ud800"),
                                     profile("880000000003", name="\u0000")]), encoding="utf-8")
    result = cli(app, json_path)
    assert result.exit_code == 0, result.output
    assert "accepted: 1, rejected: 2" in result.output
    assert "item 1: branch: must not contain control characters" in result.output
    assert "item 2: name: must not contain control characters" in result.output
    csv_path = tmp_path / "profiles.csv"
    blank = [""] * (len(CSV_HEADER) - 4)
    write_csv(csv_path, [["880000000004", "", "", "王五", *blank], ["880000000005", "", "", "王\x00六", *blank],
                         ["880000000006", "", "", "赵\x07七", *blank]])
    result = cli(app, csv_path)
    assert result.exit_code == 0, result.output
    assert "accepted: 1, rejected: 2" in result.output
    assert "row 3: name: must not contain control characters" in result.output
    assert "row 4: name: must not contain control characters" in result.output
    assert {stored(app, a) is not None for a in ("880000000001", "880000000004")} == {True}
    assert count(app, ClientProfile) == 2


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


# -- property: whatever arrives, no 500, every good row stored, every bad row named (issue 12) -----

CLEAN = st.characters(exclude_categories=("Cc", "Cs"))
HIDDEN_CHARACTERS = st.sampled_from("\x00\x01\x1b\x7f\x85\x9f\ud800\udbff\udc00\udfff")
ANY_TEXT = st.text(st.one_of(st.characters(), HIDDEN_CHARACTERS), max_size=70)
PAST_DAYS = st.dates(date(1990, 1, 1), TODAY)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10 ** 40, 10 ** 40) | st.floats(allow_nan=False, allow_infinity=False)
    | ANY_TEXT | st.dates().map(date.isoformat),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4), max_leaves=10)
MIXES = [{"cash": 1}, {"stock": 0.5, "fund": 0.5}, {"stock": 0.25, "fund": 0.25, "wealth": 0.25, "cash": 0.25}]
FIELDS = {"account_id", "unionid", "mobile", "name", "stage", "risk_level", "risk_expires", "total_assets",
          "assets_as_of", "asset_mix", "last_trade_date", "tags", "branch", "stage_dates", "profile"}
TEXT_FIELDS = ("unionid", "name", "branch")


def optional(strategy):
    """The strategy's values, or null."""
    return st.none() | strategy


@st.composite
def good_rows(draw):
    """A profile the import must store: any Unicode but hidden characters, any sane number and date."""
    days = sorted(draw(st.lists(PAST_DAYS, max_size=len(STAGES))))
    return {
        "unionid": draw(optional(st.text(CLEAN, max_size=64))), "name": draw(optional(st.text(CLEAN, max_size=64))),
        "mobile": draw(optional(st.from_regex(r"1[0-9]{10}", fullmatch=True))),
        "stage": draw(optional(st.sampled_from(STAGES))), "risk_level": draw(optional(st.sampled_from(RISK_LEVELS))),
        "risk_expires": draw(optional(st.dates(date(1990, 1, 1), date(TODAY.year + 5, 12, 31)).map(date.isoformat))),
        "total_assets": draw(optional(st.integers(0, 10 ** 15) | st.floats(0, 1e15))),
        "assets_as_of": draw(optional(PAST_DAYS.map(date.isoformat))),
        "asset_mix": draw(optional(st.sampled_from(MIXES))),
        "last_trade_date": draw(optional(PAST_DAYS.map(date.isoformat))),
        "tags": draw(st.lists(st.text(CLEAN, min_size=1, max_size=32).filter(str.strip), max_size=20)),
        "branch": draw(optional(st.text(CLEAN, max_size=64))),
        "stage_dates": {stage: day.isoformat() for stage, day in zip(STAGES, days)},
    }


@st.composite
def bad_rows(draw):
    """A row the import must refuse: a hidden character in a text field, or not an object at all."""
    if draw(st.booleans()):
        return draw(JSON_VALUES.filter(lambda value: not isinstance(value, dict)))
    row, field = draw(good_rows()), draw(st.sampled_from(TEXT_FIELDS))
    text, position = draw(st.text(CLEAN, max_size=20)), draw(st.integers(0, 20))
    row[field] = text[:position] + draw(HIDDEN_CHARACTERS) + text[position:]
    return row


@st.composite
def odd_rows(draw):
    """A good row with one field (or a new one) replaced by any JSON value: stored or refused, never a 500."""
    row = draw(good_rows())
    row[draw(st.sampled_from(sorted(FIELDS - {"profile"})) | ANY_TEXT)] = draw(JSON_VALUES)
    return row


KINDS = {"good": good_rows(), "bad": bad_rows(), "odd": odd_rows()}


@st.composite
def batches(draw):
    """A request's worth of rows, each (kind, row), good ones with an account id of their own."""
    kinds = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=8))
    batch = []
    for index, kind in enumerate(kinds):
        row = draw(KINDS[kind])
        if isinstance(row, dict) and not (kind == "odd" and "account_id" in row):  # unless the odd value is its id
            row = {**row, "account_id": f"88{index:010d}"}
        batch.append((kind, row))
    return batch


@pytest.fixture
def quiet_api_app(tmp_path, emulator):
    """The import API with no rate limit and no tag push: many requests, nothing to mirror."""
    return make_app(tmp_path / "api.db", emulator.url, SIDEBAR_IMPORT_TOKEN=TOKEN, PUSH_TAGS_AFTER_IMPORT=False,
                    IMPORT_RATE_LIMIT=(1_000_000, 60))


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(batch=batches())
def test_any_batch_is_answered_row_by_row(quiet_api_app, batch):
    run_sql(quiet_api_app, "DELETE FROM asset_snapshot")
    run_sql(quiet_api_app, "DELETE FROM client_profile")
    rows = [row for _, row in batch]
    response = post(quiet_api_app, rows)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    rejected = {item["index"]: item["error"] for item in body["rejected"]}
    assert body["accepted"] + len(rejected) == len(rows) == body["accepted"] + len(body["rejected"])
    for index, error in rejected.items():
        assert re.split(r"[:.\[ ]", error)[0] in FIELDS, error
    for index, (kind, row) in enumerate(batch):
        assert (index in rejected) == (kind == "bad") or kind == "odd", (kind, rejected.get(index))
    with quiet_api_app.app_context():
        names = dict(db.session.execute(select(ClientProfile.account_id, ClientProfile.name)).all())
    assert set(names) == {row["account_id"] for index, row in enumerate(rows) if index not in rejected}
    for index, (kind, row) in enumerate(batch):
        if kind == "good" and rows.count(row) == 1:
            assert names[row["account_id"]] == (row["name"] or None)
