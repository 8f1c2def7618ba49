"""Beside a blocked SOP task: suitable materials of the blocked one's category for the same chat, ranked
by the library, each sent in one tap through the share path."""
import re

from helpers import import_classes, publish
from test_sop_sidebar import advisor, group, plan_for, post, unionid_of  # noqa: F401 - fixtures too


def test_a_blocked_task_offers_suitable_materials_of_the_same_category(library_app, world, advisor, group):  # noqa: F811
    externals = [m for m in group["members"] if m["type"] == 2 and unionid_of(world, m["userid"])]
    import_classes(library_app, {unionid_of(world, externals[0]["userid"]): ("C2", 300, [])})
    product = publish(library_app, "text", risk_level="R4", body="科创成长基金", title="科创成长基金")
    fitting = publish(library_app, "text", risk_level="R1", body="货币基金", title="货币基金周报")
    general = publish(library_app, "text", body="市场早知道", title="市场早知道")
    too_risky = publish(library_app, "text", risk_level="R5", body="杠杆产品", title="杠杆产品介绍")
    elsewhere = publish(library_app, "text", body="开户指南", title="开户指南", category="开户入金")
    task_id = plan_for(library_app, group["chat_id"], "", materials=[product])

    answer = post(advisor, f"/sidebar/tasks/{task_id}/shares")
    assert answer.status_code == 403
    url = answer.get_json()["alternatives_url"]
    page = advisor.get(url).get_data(as_text=True)
    shown = {int(n) for n in re.findall(r'data-material-id="(\d+)"', page)}
    assert shown == {fitting, general}, (shown, product, too_risky, elsewhere)
    assert "市场观点" in page and f'data-target="group:{group["chat_id"]}"' in page

    sent = post(advisor, f"/sidebar/materials/{fitting}/shares", target=f"group:{group['chat_id']}")
    assert sent.status_code == 200 and sent.get_json()["message"]["text"]["content"].startswith("货币基金")


def test_only_the_advisors_blocked_task_has_alternatives(library_app, advisor, group):  # noqa: F811
    task_id = plan_for(library_app, group["chat_id"], "早上好")
    assert advisor.get(f"/sidebar/tasks/{task_id}/alternatives").status_code == 404  # open, not blocked
    assert advisor.get("/sidebar/tasks/999999/alternatives").status_code == 404
