"""The absolute URLs a share carries, for every feature that prepares one (the routes are the library's)."""
from ..identity.auth import public_url


def share_links(token):
    """The absolute tracked link and cover URL of a share token."""
    return public_url("materials.open_link", token=token), public_url("materials.cover", token=token)
