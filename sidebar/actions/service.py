"""Who may act on a client from the sidebar, and the errors the actions raise."""
from ..insight.contact import NotAllowed, viewable_follow


class InvalidInput(Exception):
    """The form cannot be accepted; the message is for the advisor."""


def own_follow(wecom, advisor, external_userid):
    """The advisor's own follow of the contact: NotVisible when not theirs, NotAllowed for a manager's
    read-only view. Checked before any other field of the request is read."""
    follow, read_only = viewable_follow(wecom, advisor, external_userid)
    if read_only:
        raise NotAllowed
    return follow


__all__ = ["InvalidInput", "NotAllowed", "own_follow"]
