"""`flask --app wsgi sop import FILE.json` / `sop export`, and `sop-tick [--at …]`."""
import json

import click
from flask.cli import AppGroup, with_appcontext

from . import plans

sop = AppGroup("sop", help="SOP plans: import a plan file as drafts, export every plan.")


@sop.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--author", default="operations", show_default=True, help="userid recorded as the plans' author.")
def import_command(path, author):
    """Create the plans of FILE (a JSON array) as drafts: all or none."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as error:
        raise click.ClickException(f"不是可读的 JSON 文件：{error}") from None
    try:
        created = plans.import_plans(author, data)
    except plans.BadPlan as error:
        raise click.ClickException(f"计划文件被拒绝，未创建任何计划：{error}") from None
    for plan in created:
        click.echo(f"/console/sop/{plan.id}\t{plan.name}")


@sop.command("export")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="Where to write (default stdout).")
def export_command(output):
    """Write every plan (its newest version) in the plan file's format."""
    json.dump(plans.export_plans(), output, ensure_ascii=False, indent=2)
    output.write("\n")


@click.command("sop-tick")
@click.option("--at", "at", default=None, help="ISO datetime (China time if no offset); default now.")
@with_appcontext
def sop_tick_command(at):
    """Turn every step due up to that moment into tasks and send the reminders (idempotent)."""
    from .tick import tick

    try:
        now = plans.parse_moment(at) if at else None
    except ValueError:
        raise click.ClickException(f"--at 不是 ISO 时间：{at}") from None
    click.echo(tick(now).describe())
