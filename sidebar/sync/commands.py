"""Commands: the trading-system import from a file, full sync, tag push and the callback inbox drain."""
import csv
import json
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import click
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import wecom
from ..models import CHINA, china_today, utcnow
from ..wecom import WeComError
from . import full, inbox, tags
from .profiles import after_import, import_profiles

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
    today, accepted, rejected, accounts = china_today(), 0, [], set()
    with click.progressbar(length=len(rows), label="Importing profiles") as bar:
        for start in range(0, len(rows), CHUNK):
            result = import_profiles(rows[start:start + CHUNK], today)
            accepted += result.accepted
            accounts |= result.accounts
            rejected += [(start + item["index"], item["error"]) for item in result.rejected]
            bar.update(min(CHUNK, len(rows) - start))
    click.echo(f"accepted: {accepted}, rejected: {len(rejected)}")
    for index, error in rejected[:SHOWN]:
        click.echo(f"  {row_name} {index + first_number}: {error}")
    if len(rejected) > SHOWN:
        click.echo(f"  … and {len(rejected) - SHOWN} more")
    click.echo(f"group snapshots: {after_import(accounts, today)} groups recorded for {today.isoformat()}")
    _push_imported_tags(accounts)


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


def _push_imported_tags(accounts):
    """After an import, mirror the imported clients' profile tags to WeCom; a failure only warns."""
    if not current_app.config["PUSH_TAGS_AFTER_IMPORT"]:
        return
    try:
        result = tags.push_imported(wecom(), accounts, pace=_pace())
    except WeComError as error:
        click.echo(f"profile tags not pushed ({error}); `flask push-tags` will catch up", err=True)
        return
    click.echo(f"profile tags: {result.marked} relations updated in WeCom, {result.created} tags created")


# -- full sync, tag push, inbox drain ---------------------------------------------------------------

PHASE_LABELS = {"staff": "员工 (staff)", "contacts": "客户 (contacts by advisor)", "group-list": "客户群列表 (group list)",
                "groups": "客户群 (groups)", "finish": "核对未列出的关系 (re-checking unlisted)"}
SINCE = re.compile(r"([0-9]+)([mhd])")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class _Bars:
    """full.Progress hooks drawn as one click progress bar per phase."""

    def __init__(self):
        self.bar = None

    def start(self, phase, total):
        """Close the previous phase's bar and open this one's."""
        self.close()
        if total:
            self.bar = click.progressbar(length=total, label=PHASE_LABELS.get(phase, phase))
            self.bar.__enter__()
        else:
            click.echo(PHASE_LABELS.get(phase, phase))

    def advance(self, count):
        """Move the current bar."""
        if self.bar and count:
            self.bar.update(count)

    def backoff(self, seconds):
        """Say why the run is waiting."""
        click.echo(f"\nWeCom rate limit (45009): waiting {seconds:.1f} s, then resuming", err=True)

    def close(self):
        """Finish the current bar, if any."""
        if self.bar:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _pace():
    """Seconds between WeCom calls in bulk work (SYNC_PACE_SECONDS; tests set 0)."""
    return current_app.config["SYNC_PACE_SECONDS"]


def _since(ctx, param, value):
    """--since: an ISO date or time in China time, or an age like 30m, 6h, 2d; as naive UTC."""
    if value is None:
        return None
    relative = SINCE.fullmatch(value.strip())
    if relative:
        return utcnow() - timedelta(**{UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter("use an ISO date/time (China time) like 2026-11-25T02:00, or an age like 6h") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=CHINA)
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


@click.command("sync")
@click.option("--since", callback=_since, metavar="WHEN",
              help="Skip groups fetched (by a callback or a sync) after WHEN: 2026-11-25T02:00 or 6h, 2d.")
@click.option("--restart", is_flag=True, help="Abandon an unfinished run instead of resuming it.")
@with_appcontext
def sync_command(since, restart):
    """Full sync of staff, contacts and groups from WeCom; an interrupted run resumes where it stopped."""
    bars = _Bars()
    try:
        result = full.sync(wecom(), since=since, pace=_pace(), progress=bars, restart=restart)
    except full.SyncFailed as error:
        bars.close()
        raise click.ClickException(f"sync stopped at {error}. Run it again to resume.") from None
    bars.close()
    counts = result.counts
    click.echo(("resumed" if result.resumed else "finished") + f" run #{result.run_id}: "
               f"{counts['staff_seen']} staff, "
               f"contacts +{counts['contacts_added']} ~{counts['contacts_changed']}, "
               f"follows +{counts['follows_added']} ~{counts['follows_changed']} "
               f"restored {counts['follows_restored']} ended {counts['follows_ended']}, "
               f"groups +{counts['groups_added']} ~{counts['groups_changed']} dismissed {counts['groups_dismissed']}, "
               f"channel arrivals +{counts['arrivals_added']}")
    if not result.changed():
        click.echo("nothing changed: the local copy already matched WeCom")


@click.command("push-tags")
@with_appcontext
def push_tags_command():
    """Mirror profile tags, stage and risk class onto WeCom's 客户画像 tags (only the differences)."""
    total = tags.pending_count()
    try:
        with click.progressbar(length=total, label="客户画像标签 (profile tags)") as bar:
            result = tags.push_tags(wecom(), pace=_pace(), progress=bar.update)
    except WeComError as error:
        raise click.ClickException(f"push stopped: {error}. Run it again to resume.") from None
    click.echo(f"checked: {result.checked}, marked: {result.marked}, tags created: {result.created}, "
               f"failed: {result.failed}")
    for line in result.errors:
        click.echo(f"  {line}", err=True)


@click.command("drain-inbox")
@click.option("--keep-days", default=inbox.KEEP_DAYS, show_default=True, type=click.IntRange(1),
              help="Delete processed callbacks older than this.")
@with_appcontext
def drain_inbox_command(keep_days):
    """Process callbacks stored but not (successfully) processed yet, e.g. after a crash."""
    result = inbox.drain(wecom(), keep_days=keep_days)
    click.echo(f"done: {result.done}, ignored: {result.ignored}, failed: {result.failed}, purged: {result.purged}")
    if result.failed:
        raise click.ClickException(f"{result.failed} callbacks failed; they are retried by the next drain")
