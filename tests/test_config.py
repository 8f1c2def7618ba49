"""Settings: a missing or malformed required setting stops the app with a message naming it."""
import subprocess
import sys

import pytest

from sidebar import create_app
from sidebar.config import ConfigError

GOOD = {
    "SIDEBAR_MODE": "production",
    "SIDEBAR_SECRET_KEY": "k" * 40,
    "WECOM_CORP_ID": "ww1436e0e65a779aee",
    "WECOM_AGENT_ID": "1000002",
    "WECOM_SECRET": "s3cret",
    "SIDEBAR_PUBLIC_URL": "http://sidebar.example.com",
}


def production(tmp_path, **changes):
    """A production app built from GOOD settings with changes (None removes a setting)."""
    settings = {**GOOD, "SIDEBAR_DATABASE_URL": f"sqlite:///{tmp_path}/p.db", **changes}
    return create_app({k: v for k, v in settings.items() if v is not None})


def test_production_starts_with_the_required_settings(tmp_path):
    app = production(tmp_path)
    assert app.config["WECOM_API_BASE"] == "https://qyapi.weixin.qq.com"
    assert app.config["WECOM_OAUTH_BASE"] == "https://open.weixin.qq.com"
    assert app.config["SIDEBAR_IMPORT_TOKEN"] is None


@pytest.mark.parametrize("name", ["SIDEBAR_SECRET_KEY", "WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET",
                                  "SIDEBAR_PUBLIC_URL"])
def test_missing_required_setting_is_named(tmp_path, name):
    with pytest.raises(ConfigError, match=name):
        production(tmp_path, **{name: None})


@pytest.mark.parametrize("changes, named", [
    ({"SIDEBAR_SECRET_KEY": "short"}, "SIDEBAR_SECRET_KEY"),
    ({"WECOM_AGENT_ID": "abc"}, "WECOM_AGENT_ID"),
    ({"WECOM_CORP_ID": "ww 1"}, "WECOM_CORP_ID"),
    ({"WECOM_API_BASE": "qyapi.weixin.qq.com"}, "WECOM_API_BASE"),
    ({"WECOM_OAUTH_BASE": "ftp://open.weixin.qq.com"}, "WECOM_OAUTH_BASE"),
    ({"SIDEBAR_PUBLIC_URL": "https://sidebar.example.com/?x=1"}, "SIDEBAR_PUBLIC_URL"),
    ({"SIDEBAR_DATABASE_URL": "not a url"}, "SIDEBAR_DATABASE_URL"),
    ({"SIDEBAR_IMPORT_TOKEN": "abc"}, "SIDEBAR_IMPORT_TOKEN"),
    ({"SIDEBAR_TRUSTED_PROXIES": "two"}, "SIDEBAR_TRUSTED_PROXIES"),
    ({"WECOM_TOKEN": "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"}, "WECOM_AES_KEY"),
    ({"WECOM_TOKEN": "t", "WECOM_AES_KEY": "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhU"}, "WECOM_AES_KEY"),
])
def test_malformed_setting_is_named(tmp_path, changes, named):
    with pytest.raises(ConfigError, match=named):
        production(tmp_path, **changes)


@pytest.mark.parametrize("given", ["postgresql://app:p%40ss@db.internal:5432/sidebar",
                                   "postgres://app:p%40ss@db.internal:5432/sidebar"])
def test_a_plain_postgresql_url_uses_the_driver_we_ship(tmp_path, given):
    app = production(tmp_path, SIDEBAR_DATABASE_URL=given)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://app:p%40ss@db.internal:5432/sidebar"


def test_callback_keys_of_the_official_sample_are_accepted(tmp_path):
    app = production(tmp_path, WECOM_TOKEN="hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
                     WECOM_AES_KEY="6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt")
    assert app.config["WECOM_AES_KEY"].endswith("hUt")


def test_without_a_public_url_production_stops_and_the_demo_signs_for_the_request_host(tmp_path):
    with pytest.raises(ConfigError, match="SIDEBAR_PUBLIC_URL is required outside demo/test"):
        production(tmp_path, SIDEBAR_PUBLIC_URL=None)
    demo = create_app({"SIDEBAR_MODE": "demo", "SIDEBAR_DATABASE_URL": f"sqlite:///{tmp_path}/d.db"})
    assert demo.config["SIDEBAR_PUBLIC_URL"] is None


def test_session_cookie_is_secure_behind_https(tmp_path):
    plain = production(tmp_path)
    https = production(tmp_path, SIDEBAR_PUBLIC_URL="https://sidebar.example.com/")
    assert plain.config["SESSION_COOKIE_SECURE"] is False
    assert https.config["SESSION_COOKIE_SECURE"] is True
    assert https.config["SIDEBAR_PUBLIC_URL"] == "https://sidebar.example.com"
    assert https.config["SESSION_COOKIE_HTTPONLY"] and https.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_gunicorn_entry_point_exits_with_the_setting_named(tmp_path):
    """`wsgi.py` without production settings stops at once, naming what is missing."""
    env = {"PATH": "/usr/bin:/bin", "SIDEBAR_DATABASE_URL": f"sqlite:///{tmp_path}/w.db"}
    result = subprocess.run([sys.executable, "-c", "import wsgi"], capture_output=True, text=True,
                            env=env, cwd=".", timeout=60)
    assert result.returncode != 0
    assert "SIDEBAR_SECRET_KEY is required" in result.stderr
