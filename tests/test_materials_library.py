"""The advisors' library: substring search (indexed), filters, recommended first, suitability marks."""
import re
import time

import pytest

from helpers import import_classes, publish, signed_in
from sidebar.extensions import db

ADVISOR = "zhangwei"


def titles(html):
    """Listed titles, in order."""
    return re.findall(r'<p class="material-title">([^<]+)</p>', html)


@pytest.fixture
def shelf(library_app):
    """A few approved materials, one draft-only, one expired."""
    from datetime import date

    publish(library_app, "text", title="红利低波ETF定投话术", summary="每月定投", tags="基金,ETF,定投",
            category="产品推介", risk_level="R3")
    publish(library_app, "link", title="新手入门：什么是ETF", summary="看懂指数基金", tags="新手,ETF",
            category="投资者教育")
    publish(library_app, "image", title="开户福利海报", summary="万一佣金", tags="开户,活动", category="活动海报")
    publish(library_app, "text", title="雪球收益凭证要素", summary="敲入敲出规则", tags="高风险", category="产品推介",
            risk_level="R5")
    publish(library_app, "text", title="已过期的话术", valid_until=date(2020, 1, 1))
    return signed_in(library_app, ADVISOR)


def test_search_finds_chinese_substrings_in_titles_summaries_and_tags(shelf):
    def search(q):
        return sorted(titles(shelf.get("/sidebar/materials", query_string={"q": q}).get_data(as_text=True)))

    assert search("低波ETF") == ["红利低波ETF定投话术"]  # indexed (three characters and more)
    assert search("指数基金") == ["新手入门：什么是ETF"]  # in the summary
    assert search("定投") == ["红利低波ETF定投话术"]  # two characters: LIKE
    assert search("险") == ["雪球收益凭证要素"]  # one character, in the tags
    assert search("ETF 新手") == ["新手入门：什么是ETF"]  # every word must match
    assert search("etf") == ["新手入门：什么是ETF", "红利低波ETF定投话术"]  # case-insensitive
    assert search('"; DROP TABLE material; --') == []
    assert search("100%") == [] and search("_") == []
    assert "已过期的话术" not in search("话术")


def test_category_and_kind_filters(shelf):
    assert titles(shelf.get("/sidebar/materials?category=活动海报").get_data(as_text=True)) == ["开户福利海报"]
    assert titles(shelf.get("/sidebar/materials?kind=link").get_data(as_text=True)) == ["新手入门：什么是ETF"]


def test_htmx_gets_the_fragment_and_search_swaps_only_the_results(shelf):
    fragment = shelf.get("/sidebar/materials?q=ETF", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="library-results"' in fragment
    assert 'hx-select="#library-results"' in fragment and 'hx-include="closest form"' in fragment


def test_for_a_client_recommended_materials_come_first_and_unsuitable_ones_are_marked(library_app, shelf, world):
    people = {c["external_userid"]: c for c in world["contacts"]}
    follow = next(f for f in world["follows"] if f["userid"] == ADVISOR and people[f["external_userid"]]["unionid"])
    contact = follow["external_userid"]
    import_classes(library_app, {people[contact]["unionid"]: ("C3", 100, ["基金持有", "定投"])})
    shelf.get(f"/sidebar/contacts/{contact}")
    html = shelf.get(f"/sidebar/materials?chat=contact:{contact}").get_data(as_text=True)
    listed = titles(html)
    assert listed[0] == "红利低波ETF定投话术", "tags and an R3 product for a C3 client"
    assert listed[-1] == "雪球收益凭证要素", "an R5 product sinks for a C3 client"
    assert "为该客户推荐" in html
    last = html[html.rindex('<li class="material'):]
    assert "unsuitable" in last and "该客户不能接收 R5 产品" in last
    assert f'data-target="contact:{contact}"' in html


def test_tags_match_without_case_and_a_topic_for_the_clients_stage_counts(library_app, shelf, world):
    people = {c["external_userid"]: c for c in world["contacts"]}
    follow = next(f for f in world["follows"] if f["userid"] == ADVISOR and people[f["external_userid"]]["unionid"])
    contact = follow["external_userid"]
    import_classes(library_app, {people[contact]["unionid"]: ("C3", 100, ["etf"])})  # a funded client: 新手 topics
    shelf.get(f"/sidebar/contacts/{contact}")
    html = shelf.get(f"/sidebar/materials?chat=contact:{contact}").get_data(as_text=True)
    # ETF tag 3 + R3 fits C3 2 = 5; ETF tag 3 + 新手 topic 2 = 5, and newer: first among equals
    assert titles(html)[:3] == ["新手入门：什么是ETF", "红利低波ETF定投话术", "开户福利海报"]
    recommended = html[:html.index("全部物料")]
    assert titles(recommended) == ["新手入门：什么是ETF", "红利低波ETF定投话术"]


def test_a_search_made_again_shows_what_was_published_or_withdrawn_in_between(library_app, shelf, world):
    contact = next(f["external_userid"] for f in world["follows"] if f["userid"] == ADVISOR)
    assert shelf.get(f"/sidebar/contacts/{contact}").status_code == 200
    search = f"/sidebar/materials?chat=contact:{contact}&q=ETF"
    before = titles(shelf.get(search, headers={"HX-Request": "true"}).get_data(as_text=True))
    assert set(before) == {"红利低波ETF定投话术", "新手入门：什么是ETF"}
    added = publish(library_app, "text", title="ETF申购赎回清单解读", tags="ETF")
    assert titles(shelf.get(search, headers={"HX-Request": "true"}).get_data(as_text=True))[0] == "ETF申购赎回清单解读"
    compliance = signed_in(library_app, "sunli")
    assert compliance.post(f"/console/materials/{added}/withdraw", data={"csrf_token": compliance.csrf}).status_code == 303
    assert titles(shelf.get(search, headers={"HX-Request": "true"}).get_data(as_text=True)) == before


def test_the_library_for_a_chat_that_is_not_the_advisors_is_404(library_app, shelf, world):
    theirs = next(f["external_userid"] for f in world["follows"] if f["userid"] == "lina")
    mine = {f["external_userid"] for f in world["follows"] if f["userid"] == ADVISOR}
    if theirs in mine:
        pytest.skip("seed shares this contact")
    assert shelf.get(f"/sidebar/materials?chat=contact:{theirs}").status_code == 404
    assert shelf.get("/sidebar/materials?chat=group:nope").status_code == 404


def uses_search_index(query):
    """Whether the database's plan for query reads the search index (FTS5 or pg_trgm), not every row."""
    from sqlalchemy import text

    sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "sqlite":
        plan = " ".join(str(row) for row in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
        return "material_fts VIRTUAL TABLE INDEX" in plan
    plan = " ".join(row[0] for row in db.session.execute(text("EXPLAIN " + sql)))
    return "_trgm" in plan and "Seq Scan on material_version" not in plan


@pytest.mark.parametrize("column,days", [("valid_until", -1), ("valid_from", 1)], ids=["expired", "not-yet-valid"])
def test_the_poster_of_a_material_outside_its_dates_is_not_served(library_app, column, days):
    from datetime import timedelta

    from sidebar.models import china_today

    live = publish(library_app, "image", title="在期海报")
    dated = publish(library_app, "image", title="不在期海报", **{column: china_today() + timedelta(days=days)})
    advisor = signed_in(library_app, ADVISOR)
    assert advisor.get(f"/sidebar/materials/{dated}/thumb").status_code == 404
    served = advisor.get(f"/sidebar/materials/{live}/thumb")
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/png"
    assert served.headers["Cache-Control"] == "private, max-age=3600", "the advisor's browser only, never a shared cache"


def test_the_poster_of_a_withdrawn_material_is_not_served(library_app):
    material = publish(library_app, "image", title="下架海报")
    advisor = signed_in(library_app, ADVISOR)
    assert advisor.get(f"/sidebar/materials/{material}/thumb").status_code == 200
    compliance = signed_in(library_app, "sunli")
    compliance.post(f"/console/materials/{material}/withdraw", data={"csrf_token": compliance.csrf})
    assert advisor.get(f"/sidebar/materials/{material}/thumb").status_code == 404


def test_search_stays_fast_at_ten_thousand_materials(library_app):
    """10,000 approved materials: an indexed substring search answers in milliseconds, not a scan in Python."""
    from sqlalchemy import select, text

    from sidebar.materials.library import browse
    from sidebar.materials.search import matching
    from sidebar.models import MaterialVersion
    from sidebar.models import china_today

    with library_app.app_context():
        conn = db.session.connection()
        rows = [{"id": n, "kind": "text", "by": "zhaomin"} for n in range(1, 10001)]
        conn.execute(text("INSERT INTO material (id, kind, created_by, created_at) VALUES (:id, :kind, :by, "
                          "CURRENT_TIMESTAMP)"), rows)
        words = ["红利", "低波", "科技", "成长", "医药", "消费", "债券", "黄金", "新能源", "半导体"]
        title = "{}{}主题第{}期".format
        versions = [{"id": n, "m": n, "title": title(words[n % 10], words[(n * 7) % 10], n),
                     "summary": f"第{n}期{words[(n * 3) % 10]}观察", "tags": words[(n * 3) % 10]} for n in range(1, 10001)]
        conn.execute(text("INSERT INTO material_version (id, material_id, number, status, title, summary, category, tags, "
                          "author, created_at, reviewed_at) VALUES (:id, :m, 1, 'approved', :title, :summary, '市场观点', "
                          ":tags, 'zhaomin', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), versions)
        if db.engine.dialect.name == "sqlite":  # the app's index_version does this one by one
            conn.execute(text("INSERT INTO material_fts (rowid, title, summary, tags) "
                              "SELECT id, title, summary, tags FROM material_version"))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":  # as autovacuum would: statistics, GIN pending list merged
            with db.engine.connect() as autocommit:
                autocommit.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE material_version"))
        started = time.perf_counter()
        page = browse(None, "zhangwei", None, "第4321期", "", "", china_today())
        elapsed = time.perf_counter() - started
        assert [item.version.title for item in page.items] == [title(words[1], words[7], 4321)]
        assert uses_search_index(select(MaterialVersion.id).where(matching("第4321期")))
    assert elapsed < 0.25, f"search took {elapsed * 1000:.0f} ms"
