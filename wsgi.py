"""Entry point: `gunicorn wsgi:app` and `flask --app wsgi COMMAND`."""
import sys

from sidebar import create_app
from sidebar.config import ConfigError

FLASK_OPTIONS_WITH_VALUE = {"--app", "-A", "--env-file", "-e"}


def _command(argv):
    """The flask sub-command this process runs, if it is the flask CLI."""
    args = iter(argv[1:])
    for arg in args:
        if arg in FLASK_OPTIONS_WITH_VALUE:
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None


# `flask --app wsgi demo` is the embedded default: it needs none of the production settings.
_overrides = {"SIDEBAR_MODE": "demo"} if _command(sys.argv) == "demo" else None
try:
    app = create_app(_overrides)
except ConfigError as error:
    sys.exit(f"Configuration error: {error}")
