"""The group panel's kept copy (sidebar/memo.py) is not used once the tick wrote a task for the group:
the panel asks for 今日SOP at once, not up to a minute later."""
from test_sop_sidebar import ADVISOR, advisor, group, plan_for  # noqa: F401 - fixtures too

SLOT = "/sidebar/tasks?chat=group:"


def panel(client, chat_id):
    """The group panel as htmx loads it (the kept copy may answer)."""
    return client.get(f"/sidebar/groups/{chat_id}", headers={"HX-Request": "true"}).get_data(as_text=True)


def test_a_task_made_by_the_tick_shows_in_the_kept_group_panel_at_once(library_app, advisor, group):  # noqa: F811
    first = panel(advisor, group["chat_id"])
    assert SLOT not in first
    assert panel(advisor, group["chat_id"]) == first  # kept: the same copy
    plan_for(library_app, group["chat_id"], "早上好")  # the tick makes the task
    assert SLOT + group["chat_id"] in panel(advisor, group["chat_id"])
