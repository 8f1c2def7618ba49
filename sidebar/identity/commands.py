"""`flask roles …`: grant, revoke and list console roles."""
import click
from flask.cli import AppGroup

from ..models import ROLES
from . import service

roles = AppGroup("roles", help="Console roles: content, compliance, manager, operator.")


@roles.command("grant")
@click.argument("userid")
@click.argument("role", type=click.Choice(ROLES))
def grant(userid, role):
    """Give USERID the console ROLE."""
    service.grant_role(userid, role)
    click.echo(f"{userid}: +{role}")


@roles.command("revoke")
@click.argument("userid")
@click.argument("role", type=click.Choice(ROLES))
def revoke(userid, role):
    """Take the console ROLE away from USERID."""
    if not service.revoke_role(userid, role):
        raise click.ClickException(f"{userid} does not have the role {role}")
    click.echo(f"{userid}: -{role}")


@roles.command("list")
def list_roles():
    """List every grant."""
    for row in service.all_roles():
        click.echo(f"{row.userid}\t{row.role}\t{row.granted_at:%Y-%m-%d %H:%M}")
