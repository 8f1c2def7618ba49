"""`flask import-profiles FILE`: the trading-system import from a JSON or CSV file."""
import csv
import json
import re
from decimal import Decimal

import click
from flask.cli import with_appcontext

from ..models import china_today
from .profiles import import_profiles

CHUNK = 1000  # rows per import call: the progress bar moves, memory of one call stays small
SHOWN = 20
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
NUMBER_COLUMNS = {"total_assets", "asset_mix.stock", "asset_mix.fund", "asset_mix.wealth", "asset_mix.cash"}
NESTED = ("asset_mix", "stage_dates")  # CSV columns `asset_mix.stock`, `stage_dates.opened`, ...


@click.command("import-profiles")
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_profiles_command(path):
    """Import client profiles from FILE.json (an array, as the API takes) or FILE.csv."""
    rows, row_name, first_number = _read(path)
    today, accepted, rejected = china_today(), 0, []
    with click.progressbar(length=len(rows), label="Importing profiles") as bar:
        for start in range(0, len(rows), CHUNK):
            result = import_profiles(rows[start:start + CHUNK], today)
            accepted += result.accepted
            rejected += [(start + item["index"], item["error"]) for item in result.rejected]
            bar.update(min(CHUNK, len(rows) - start))
    click.echo(f"accepted: {accepted}, rejected: {len(rejected)}")
    for index, error in rejected[:SHOWN]:
        click.echo(f"  {row_name} {index + first_number}: {error}")
    if len(rejected) > SHOWN:
        click.echo(f"  … and {len(rejected) - SHOWN} more")


def _read(path):
    """The file's profiles, how its rows are named and the number of the first one; exit if unreadable."""
    try:
        if path.lower().endswith(".json"):
            return _json_rows(path), "item", 0  # as the API counts: index in the array
        if path.lower().endswith(".csv"):
            return _csv_rows(path), "row", 2  # as a spreadsheet shows it: the header is row 1
    except (OSError, UnicodeDecodeError, csv.Error, ValueError, RecursionError) as error:
        raise click.ClickException(f"cannot read {path}: {error}") from None
    raise click.ClickException(f"{path}: expected a .json or .csv file")


def _json_rows(path):
    """The JSON array in the file."""
    with open(path, encoding="utf-8-sig") as file:
        rows = json.load(file)
    if not isinstance(rows, list):
        raise ValueError("expected a JSON array of profiles")
    return rows


def _csv_rows(path):
    """Each CSV record as a profile like the API's; the header names the fields."""
    with open(path, encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        if "account_id" not in (reader.fieldnames or []):
            raise ValueError("the header has no account_id column")
        return [_csv_profile(record) for record in reader]


def _csv_profile(record):
    """One record as a profile: empty cells are null, tags split on |, dotted columns nested."""
    profile = {}
    for column, cell in record.items():
        value = cell.strip() if isinstance(cell, str) else None  # extra cells (no header) are ignored
        if column is None or not value:
            continue
        if column in NUMBER_COLUMNS:
            value = _number(value)
        elif column == "tags":
            value = [tag.strip() for tag in value.split("|")]
        head, dot, key = column.partition(".")
        if dot and head in NESTED:
            profile.setdefault(head, {})[key] = value
        else:
            profile[column] = value
    return profile


def _number(text):
    """CSV has no types: a number written plainly becomes one; anything else stays text, refused later."""
    if not NUMBER.fullmatch(text):
        return text
    return Decimal(text) if re.search(r"[.eE]", text) else int(text)
