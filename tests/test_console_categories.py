"""Categories managed in the console (issue 17 item 8): the fixed six seeded, then added, renamed,
retired, restored and ordered by the content team; the library's filter and the material form use them."""
import re

import pytest

from helpers import publish, signed_in
from test_materials_console import create, material_id

SEEDED = ["产品推介", "市场观点", "投资者教育", "开户引导", "活动海报", "服务话术"]  # forms.py's list until 0013


@pytest.fixture
def editor(library_app):
    return signed_in(library_app, "zhaomin")


def change(client, category, action, **form):
    """POST a change to the category called so, found on the categories page."""
    page = client.get("/console/categories").get_data(as_text=True)
    category_id = re.search(rf'data-category="{re.escape(category)}">\s*<form class="category-rename" method="post" '
                            r'action="/console/categories/(\d+)"', page).group(1)
    return client.post(f"/console/categories/{category_id}", data={"csrf_token": client.csrf, "action": action, **form})


def add(client, name):
    """POST a new category."""
    return client.post("/console/categories", data={"csrf_token": client.csrf, "name": name})


def listed(client):
    """The categories page's names, in order, with 已停用 marked."""
    page = client.get("/console/categories").get_data(as_text=True)
    return [name + ("·停用" if retired else "")
            for retired, name in re.findall(r'<li class="panel category( retired)?" data-category="([^"]+)"', page)]


def form_options(client, material=None):
    """The category options of the material form (new, or editing material)."""
    path = f"/console/materials/{material}/edit" if material else "/console/materials/new"
    html = client.get(path).get_data(as_text=True)
    select = re.search(r'<select name="category".*?</select>', html, re.S).group(0)
    return re.findall(r"<option\s*(?:selected)?\s*>([^<]+)</option>", select)


def library_filter(client):
    """The category options of the advisors' library filter."""
    html = client.get("/sidebar/materials").get_data(as_text=True)
    select = re.search(r'<select name="category".*?</select>', html, re.S).group(0)
    return re.findall(r"<option\s*(?:selected)?\s*>([^<]+)</option>", select)


def library_titles(client, **args):
    """Titles the library lists for these filters."""
    html = client.get("/sidebar/materials", query_string=args).get_data(as_text=True)
    return re.findall(r'<p class="material-title">([^<]+)</p>', html)


def test_the_six_fixed_categories_are_seeded_in_their_order_and_used_by_form_and_library(editor):
    assert listed(editor) == SEEDED
    assert form_options(editor) == SEEDED
    assert library_filter(editor) == SEEDED


def test_an_added_category_is_offered_in_the_form_and_the_library_and_takes_materials(library_app, editor):
    assert add(editor, "  基金定投  ").status_code == 303
    assert listed(editor) == SEEDED + ["基金定投"]
    assert form_options(editor)[-1] == library_filter(editor)[-1] == "基金定投"
    assert create(editor, category="基金定投").status_code == 303
    for name, reason in [("基金定投", "已有名为“基金定投”的分类"), ("", "请填写分类名称"), ("很" * 17, "最多 16 个字")]:
        refused = add(editor, name)
        assert refused.status_code == 400 and reason in refused.get_data(as_text=True), name
    assert listed(editor) == SEEDED + ["基金定投"]


def test_renaming_carries_the_materials_with_it(library_app, editor):
    published = publish(library_app, title="四季度策略", category="市场观点")
    assert change(editor, "市场观点", "rename", name="投资策略").status_code == 303
    assert listed(editor)[1] == "投资策略"
    assert library_titles(editor, category="投资策略") == ["四季度策略"]
    assert "投资策略" in editor.get(f"/console/materials/{published}").get_data(as_text=True)
    assert change(editor, "投资策略", "rename", name="产品推介").status_code == 400, "the name of another"


def test_a_retired_category_is_no_longer_offered_but_its_materials_stay_valid(library_app, editor):
    published = publish(library_app, title="双十一海报", kind="image", category="活动海报")
    assert change(editor, "活动海报", "retire").status_code == 303
    assert "活动海报" not in form_options(editor) and "活动海报" not in library_filter(editor)
    assert listed(editor)[4] == "活动海报·停用"
    assert library_titles(editor) == ["双十一海报"], "still in the library"
    assert form_options(editor, published)[-1] == "活动海报", "its own category stays choosable when edited"
    refused = create(editor, category="活动海报")
    assert refused.status_code == 400 and "请选择分类" in refused.get_data(as_text=True)
    assert change(editor, "活动海报", "restore").status_code == 303
    assert create(editor, category="活动海报").status_code == 303


def test_the_order_is_the_teams(editor):
    assert change(editor, "服务话术", "up").status_code == 303
    assert change(editor, "产品推介", "up").status_code == 303  # the first stays first
    assert change(editor, "产品推介", "down").status_code == 303
    expected = ["市场观点", "产品推介", "投资者教育", "开户引导", "服务话术", "活动海报"]
    assert listed(editor) == expected and form_options(editor) == expected and library_filter(editor) == expected


def test_only_the_content_team_manages_categories(library_app, editor):
    for userid in ("sunli", "zhouqiang", "zhangwei"):
        other = signed_in(library_app, userid)
        assert other.get("/console/categories").status_code == 403
        assert add(other, "基金定投").status_code == 403
    assert editor.post("/console/categories", data={"name": "基金定投"}).status_code == 400, "no CSRF token"
    assert listed(editor) == SEEDED
    assert editor.post("/console/categories/999", data={"csrf_token": editor.csrf, "action": "up"}).status_code == 404
    assert material_id  # the console's helpers are shared with test_materials_console
