"""The migrations create exactly the schema the models describe, and step down and up keeping the rows."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from sidebar.demo_data import demo_profiles, group_history, prospect_profiles
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


def row_counts():
    """Rows in each table of the current schema (alembic's own table aside)."""
    tables = [t for t in inspect(db.engine).get_table_names() if t != "alembic_version"]
    with db.engine.connect() as conn:
        return {t: conn.scalar(text(f'SELECT count(*) FROM "{t}"')) for t in tables}


def populate(app, world):
    """What a working firm has: a full WeCom sync, trading profiles, group history, materials, notes."""
    from sidebar.extensions import wecom
    from sidebar.insight import contact
    from sidebar.insight.snapshot import backfill
    from sidebar.materials.demo import seed_materials
    from sidebar.materials.storage import storage
    from sidebar.sync.full import sync
    from sidebar.sync.profiles import import_profiles

    with app.app_context():
        sync(wecom(), pace=0)
        rows = demo_profiles(world) + prospect_profiles(world)
        assert import_profiles(rows).rejected == []
        backfill(group_history(world, rows))
        db.session.commit()
        seed_materials(storage())
        db.session.commit()
        follow = world["follows"][0]
        contact.add_note(wecom(), follow["userid"], follow["external_userid"], "迁移前写下的跟进记录")
        db.session.commit()


def test_a_populated_database_keeps_its_rows_down_to_the_first_revision_up_to_head_and_one_step_back(app, world):
    populate(app, world)
    with app.app_context():
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        revisions = [r.revision for r in script.walk_revisions()]  # head first
        at_head = row_counts()
        assert all(at_head[t] for t in ("staff", "external_contact", "follow", "group_chat", "group_member",
                                        "client_profile", "group_snapshot", "material_version", "follow_up_note"))
        for revision in revisions[1:]:  # step down to the first revision, one migration at a time
            downgrade(revision=revision)
            assert row_counts() == {t: at_head[t] for t in row_counts()}, f"rows changed at {revision}"
        first = row_counts()
        upgrade()
        at_head = row_counts()
        assert {t: at_head[t] for t in first} == first
        downgrade(revision="-1")
        assert row_counts() == {t: at_head[t] for t in row_counts()}
