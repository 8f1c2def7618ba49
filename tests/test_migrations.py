"""The migrations create exactly the schema the models describe, and can step back."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from sidebar.extensions import db


def differences(app, conn):
    """What autogenerate would change, seen through the app's own filter (the search index is no model)."""
    include_name = app.extensions["migrate"].configure_args.get("include_name")
    return compare_metadata(MigrationContext.configure(conn, opts={"include_name": include_name}), db.metadata)


def test_migrated_schema_matches_the_models(app):
    with app.app_context(), db.engine.connect() as conn:
        assert differences(app, conn) == []


def test_each_migration_steps_down_and_up_again(app):
    with app.app_context():
        downgrade(revision="base")
        upgrade()
        with db.engine.connect() as conn:
            assert differences(app, conn) == []
