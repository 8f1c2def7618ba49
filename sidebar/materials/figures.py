"""Console figures: shares, clients reached and opens per material and per advisor; the share audit."""
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import distinct, func, or_
from sqlalchemy.orm import aliased

from ..extensions import db
from ..masking import mask_free_text
from ..models import CHINA, LinkOpen, Material, MaterialVersion, Share, Staff
from .search import contains
from .tracking import opens_of

AUDIT_PAGE = 100
STATUS_LABELS = {"prepared": "已准备", "sent": "已发送", "cancelled": "已取消", "failed": "失败", "blocked": "已拦截"}
CLASS_LABELS = {None: "—", "unknown": "无有效测评"}
CSV_HEADER = ["时间", "顾问", "顾问ID", "物料ID", "物料标题", "版本", "物料风险等级", "对象类型", "对象ID", "对象名称",
              "客户风险等级", "结果", "原因", "打开次数"]


@dataclass
class AuditFilter:
    """What the audit view is narrowed to; every field optional."""

    advisor: str = ""
    client: str = ""
    material: int | None = None
    title: str = ""  # words of a material's title, in any of its versions
    status: str = ""
    since: date | None = None
    until: date | None = None


def material_figures(material_id=None, limit=100, advisors=None, since=None, until=None):
    """Per material: sent shares, clients and groups reached, opens, open rate of tracked links.

    advisors: count only these advisors' shares (a manager's branch); None counts everyone's.
    since, until: China dates (both included) of the shares counted, with every open of them; None: open.
    """
    sent = Share.status == "sent"
    opens = _opens_per_share()
    totals = (db.select(Share.material_id,
                        func.count(Share.id).filter(sent).label("sent"),
                        func.count(Share.id).filter(Share.status == "blocked").label("blocked"),
                        func.count(distinct(Share.target_id)).filter(sent, Share.target_type == "contact")
                        .label("clients"),
                        func.count(distinct(Share.target_id)).filter(sent, Share.target_type == "group")
                        .label("groups"),
                        func.coalesce(func.sum(opens.c.n), 0).label("opens"),
                        func.count(Share.id).filter(sent, Share.first_opened_at.is_not(None)).label("opened"))
              .outerjoin(opens, opens.c.share_id == Share.id).group_by(Share.material_id))
    if material_id is not None:
        totals = totals.where(Share.material_id == material_id)
    if advisors is not None:
        totals = totals.where(_shared_by(advisors))
    totals = totals.where(*_shared_between(since, until)).subquery()
    other = aliased(MaterialVersion)
    newest = (db.select(other.id).where(other.material_id == totals.c.material_id)
              .order_by(other.number.desc()).limit(1).scalar_subquery())
    stmt = (db.select(totals, MaterialVersion.title, Material.kind)
            .join(Material, Material.id == totals.c.material_id).join(MaterialVersion, MaterialVersion.id == newest)
            .order_by(totals.c.sent.desc(), totals.c.material_id.desc()).limit(limit))
    return [_with_rate(row._asdict()) for row in db.session.execute(stmt)]


def advisor_figures(limit=200, advisors=None, since=None, until=None):
    """Per advisor: shares by outcome, clients reached, opens; of these advisors only, unless None;
    since/until as material_figures."""
    opens = _opens_per_share()
    stmt = (db.select(Share.advisor, Staff.name,
                      *(func.count(Share.id).filter(Share.status == s).label(s) for s in STATUS_LABELS),
                      func.count(distinct(Share.target_id)).filter(Share.status == "sent",
                                                                   Share.target_type == "contact").label("clients"),
                      func.coalesce(func.sum(opens.c.n), 0).label("opens"))
            .outerjoin(Staff, Staff.userid == Share.advisor).outerjoin(opens, opens.c.share_id == Share.id)
            .group_by(Share.advisor, Staff.name).order_by(func.count(Share.id).desc()).limit(limit))
    if advisors is not None:
        stmt = stmt.where(_shared_by(advisors))
    return [row._asdict() for row in db.session.execute(stmt.where(*_shared_between(since, until)))]


def audit_rows(flt, page=1, size=AUDIT_PAGE, advisors=None):
    """One page of shares, newest first, and whether there are more; of these advisors only, unless None."""
    rows = db.session.execute(_audit_query(flt, advisors).offset((page - 1) * size).limit(size + 1)).all()
    return rows[:size], len(rows) > size


def audit_csv(flt, advisors=None):
    """Every share matching the filter as CSV lines (a generator: the export streams); advisors as audit_rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    yield "\ufeff" + buffer.getvalue()  # the BOM makes Excel read UTF-8
    for row in db.session.execute(_audit_query(flt, advisors).execution_options(yield_per=500)):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(value) for value in _csv_values(row)])
        yield buffer.getvalue()


def _audit_query(flt, advisors):
    """Shares joined with what the audit shows, filtered, of these advisors only unless None."""
    stmt = (db.select(Share, MaterialVersion.title, MaterialVersion.number, Staff.name.label("advisor_name"),
                      opens_of(Share.id).label("opens"))
            .join(MaterialVersion, MaterialVersion.id == Share.version_id)
            .outerjoin(Staff, Staff.userid == Share.advisor))
    conditions = [] if advisors is None else [_shared_by(advisors)]
    if flt.advisor:
        conditions.append(or_(Share.advisor == flt.advisor, Staff.name == flt.advisor))
    if flt.client:
        conditions.append(or_(Share.target_id == flt.client,
                              Share.target_name.like(contains(flt.client), escape="\\")))
    if flt.material:
        conditions.append(Share.material_id == flt.material)
    if flt.title:
        conditions.append(Share.material_id.in_(db.select(MaterialVersion.material_id).where(
            MaterialVersion.title.like(contains(flt.title), escape="\\"))))
    if flt.status:
        conditions.append(Share.status == flt.status)
    conditions.extend(_shared_between(flt.since, flt.until))
    return stmt.where(*conditions).order_by(Share.created_at.desc(), Share.id.desc())


def _shared_between(since, until):
    """Conditions: shared on China dates since … until, both included (either may be None)."""
    conditions = []
    if since:
        conditions.append(Share.created_at >= _utc_start(since))
    if until:
        conditions.append(Share.created_at < _utc_start(until + timedelta(days=1)))
    return conditions


def _shared_by(advisors):
    """Shares of one of these advisors."""
    return Share.advisor.in_(sorted(advisors))


def _opens_per_share():
    """share_id -> number of opens, as a subquery."""
    return db.select(LinkOpen.share_id, func.count().label("n")).group_by(LinkOpen.share_id).subquery()


def _with_rate(figures):
    """Add the open rate: opened shares over sent shares, for tracked (article) materials only."""
    tracked = figures["kind"] == "link" and figures["sent"]
    figures["open_rate"] = figures["opened"] / figures["sent"] if tracked else None
    return figures


def _utc_start(day):
    """Midnight of a China date, as the naive UTC the database stores."""
    return datetime.combine(day, time(), CHINA).astimezone(timezone.utc).replace(tzinfo=None)


def _csv_values(row):
    """One audit row as CSV values."""
    share = row.Share
    when = share.created_at.replace(tzinfo=timezone.utc).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    return [when, row.advisor_name or share.advisor, share.advisor, share.material_id, row.title, row.number,
            share.material_level or "通用", "客户" if share.target_type == "contact" else "客户群", share.target_id,
            mask_free_text(share.target_name), CLASS_LABELS.get(share.client_class, share.client_class),
            STATUS_LABELS.get(share.status, share.status), mask_free_text(share.reason or ""), row.opens]


def _cell(value):
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
