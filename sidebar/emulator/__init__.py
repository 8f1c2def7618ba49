"""The WeCom emulator: a Flask app of its own that speaks WeCom's wire format (wecom.md).

It serves the server API (/cgi-bin/…), the OAuth authorize page, bridge.js for the JS-SDK, a
simulated WeCom client page, and test switches (/_admin/…). It works at the root of its own
port or mounted under a prefix (e.g. /_wecom with DispatcherMiddleware): every URL it builds
is relative to its script root.
"""
import time

from flask import Flask

from . import acquisition, admin, api, changes, client, groupmsg, oauth, statistics  # noqa: F401  (their endpoints)
from .callbacks import CallbackSender
from .credentials import Credentials
from .seed import seed_world
from .state import EXTENSION, EmulatorState


def create_emulator(corp_id="wwdemo0000000001", agent_id="1000002", secret="demo-secret-do-not-use-in-production",
                    sidebar_url="/sidebar/", logout_url=None, token_ttl=7200, seed=20261126,
                    callback_url=None, callback_token=None, callback_aes_key=None, synthetic_contacts=0):
    """A new emulator app with its own seeded world; `app.world` is that World.

    With callback_url (and the app's Token and EncodingAESKey) every change of the world is sent to
    the app as an encrypted callback; synthetic_contacts adds that many generated contacts.
    """
    app = Flask(__name__, template_folder="templates", static_folder="static")
    # WeCom answers UTF-8 JSON with Chinese as is, errcode and errmsg first.
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    now = time.time()
    state = EmulatorState(
        corp_id=corp_id, agent_id=str(agent_id), secret=secret, sidebar_url=sidebar_url,
        logout_url=logout_url, world=seed_world(seed, now), credentials=Credentials(token_ttl),
    )
    if synthetic_contacts:
        state.world.add_synthetic_contacts(synthetic_contacts, now)
    state.callbacks = CallbackSender(corp_id, str(agent_id), state.now)
    if callback_url:
        state.callbacks.configure(callback_url, callback_token, callback_aes_key)
    state.world.listeners.append(state.callbacks.world_changed)
    app.extensions[EXTENSION] = state
    app.world = state.world
    for blueprint in (api.bp, oauth.bp, client.bp, admin.bp, changes.bp, groupmsg.bp):
        app.register_blueprint(blueprint)
    acquisition.init_app(app, state)
    return app
