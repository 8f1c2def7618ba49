"""The welcome's place on the queue: ahead of everything else, as soon as its callback is stored."""
from ..extensions import db
from ..models import CallbackInbox
from ..queue import enqueue

WELCOME_TASK = "welcome"


def enqueue_welcome(row_id):
    """Queue the welcome of a stored add_external_contact callback (the task checks for a channel's state)."""
    row = db.session.get(CallbackInbox, row_id)
    if row is not None and row.change_type == "add_external_contact":
        enqueue(WELCOME_TASK, row_id)
