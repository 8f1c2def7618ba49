"""The advisors' library: shareable materials, searched and filtered, recommended ones first.

"Recommended for this client" is a score: the client's tags among the material's tags, a topic
matching where the client stands in the account-opening journey, and a product level fitting the
client's class. Materials the chat may not receive sink to the end. The database finds the newest
matches (the window, the same for everyone and kept while no material changes); the score is
Python's, over the window's tags, titles and levels.
"""
from collections import namedtuple
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_

from .. import memo, versions
from ..domain.facts import STAGE_LABELS
from ..extensions import db
from ..models import PRODUCT_LEVELS, Material, MaterialVersion, Share, StoredFile
from .audience import audience_for
from .media import needs_upload
from .search import matching, narrowed

PAGE_SIZE = 30
UPLOADED_KINDS = ("image", "video", "file")  # sent as a WeCom media_id, which an upload must provide
RANK_WINDOW = 500  # how many of the newest matches are ranked for the chat
NEWEST_FIRST = (MaterialVersion.reviewed_at.desc(), MaterialVersion.id.desc())  # the live index's order
# What a client at each stage most needs next (matched against material tags and titles).
STAGE_TOPICS = {None: ("开户",), "registered": ("开户",), "applying": ("开户",), "opened": ("入金",),
                "funded": ("新手", "交易入门"), "traded": ("策略",)}
TAG_POINTS, TOPIC_POINTS, FIT_POINTS, BELOW_POINTS, UNSUITABLE_POINTS = 3, 2, 2, 1, -100


# A version as ranking sees it: tags as ",a,b," and the title, both without case.
Candidate = namedtuple("Candidate", "id tags title risk_level")


@dataclass
class Item:
    """A material as the library lists it."""

    material: Material
    version: MaterialVersion
    recommended: bool
    suitable: bool
    blockers: list
    held: str | None = None  # why sharing is switched off for now (WeCom in trouble), or None
    alternatives: list = field(default_factory=list)  # for a blocked one: suitable versions of its category
    sent_at: object = None  # when it last reached this chat (UTC), or None
    reason: str = ""  # why it is recommended for this chat (the score's terms in words)


@dataclass
class Library:
    """A page of the library, for a chat (audience) or for browsing (None)."""

    audience: object
    items: list
    more: bool
    query: str
    category: str
    kind: str


def shareable(by_id=False):
    """Approved and not withdrawn (a condition over Material + version; validity is valid_on's).

    by_id: for a search the trigram index has narrowed to a few hundred versions. Looking those up
    by id is 3× cheaper than walking every approved version in date order, but SQLite takes the walk
    whenever the status term can use its index, so the term is written so that it cannot.
    """
    status = MaterialVersion.status + "" if by_id else MaterialVersion.status
    return and_(Material.withdrawn_at.is_(None), status == "approved")


def browse(wecom, advisor, chat, query, category, kind, today):
    """The library page; NotVisible when `chat` is not the advisor's.

    The newest RANK_WINDOW matching materials are ranked for the chat and the best PAGE_SIZE shown:
    the cost stays bounded however large the library grows.
    """
    audience = audience_for(wecom, advisor, chat, today) if chat else None
    window = memo.value(("library-window", query, category, kind, today), (versions.MATERIALS,),
                            lambda: _window(query, category, kind, today))
    ranked = _ranked(audience, window) if audience else [(candidate, 0) for candidate in window]
    shown = ranked[:PAGE_SIZE]
    rows = {version.id: (material, version) for material, version in db.session.execute(
        db.select(Material, MaterialVersion).join(MaterialVersion, MaterialVersion.material_id == Material.id)
        # checked again: a copy of the window may predate a withdrawal by the moment its version is raised
        .where(MaterialVersion.id.in_([candidate.id for candidate, _ in shown]), shareable(by_id=True),
               *valid_on(today)))}
    trouble = bool(audience) and wecom.in_trouble()
    items = [_item(audience, *rows[candidate.id], points, trouble, why(audience, candidate) if points > 0 else "")
             for candidate, points in shown if candidate.id in rows]
    if audience:
        sent = last_sent(audience, [item.material.id for item in items])
        for item in items:
            item.sent_at = sent.get(item.material.id)
    blocked = [item for item in items if not item.suitable]
    if blocked:
        found = alternatives(audience, [item.version for item in blocked], today)
        for item in blocked:
            item.alternatives = found[item.version.id]
    return Library(audience, items, len(ranked) > PAGE_SIZE, query or "", category or "", kind or "")


def _window(query, category, kind, today):
    """The newest RANK_WINDOW shareable versions matching the search and filters, as ranking candidates.

    The same for every advisor and chat: kept while no material changes (memo.value), so the
    words advisors search most cost a lookup, not a walk of the library.
    """
    stmt = db.select(MaterialVersion.id, MaterialVersion.tags, MaterialVersion.title, MaterialVersion.risk_level) \
        .join(Material, Material.id == MaterialVersion.material_id) \
        .where(shareable(by_id=narrowed(query)), *valid_on(today))
    if category:
        stmt = stmt.where(MaterialVersion.category == category)
    if kind:
        stmt = stmt.where(Material.kind == kind)
    condition = matching(query)
    if condition is not None:
        stmt = stmt.where(condition)
    return [Candidate(id, f",{_folded(tags)},", _folded(title), level)
            for id, tags, title, level in db.session.execute(stmt.order_by(*NEWEST_FIRST).limit(RANK_WINDOW))]


def _ranked(audience, window):
    """(candidate, points) best first; among equal points the newest first (the window's order)."""
    tags = {f",{_folded(tag)}," for tag in audience.tags[:20]}
    topics = [_folded(topic) for topic in STAGE_TOPICS.get(audience.stage, ())] if audience.type == "contact" else []
    fitting = [level for level in PRODUCT_LEVELS if audience.allows(level)]

    def points(candidate):
        """Tags the client has, a topic for their stage, a product level that fits them."""
        return (TAG_POINTS * sum(tag in candidate.tags for tag in tags)
                + TOPIC_POINTS * sum(t in candidate.tags or t in candidate.title for t in topics)
                + _risk_points(audience, fitting, candidate.risk_level))

    return sorted(((candidate, points(candidate)) for candidate in window), key=lambda pair: -pair[1])


def why(audience, candidate):
    """The reason line of a recommended material: the terms of the score it earned, in words."""
    reasons = []
    matched = [tag for tag in audience.tags[:20] if f",{_folded(tag)}," in candidate.tags]
    if matched:
        reasons.append("客户标签 " + "、".join(matched))
    if audience.type == "contact":
        topics = [t for t in STAGE_TOPICS.get(audience.stage, ()) if _folded(t) in candidate.tags + candidate.title]
        if topics:
            stage = STAGE_LABELS.get(audience.stage, "未开户") if audience.stage else "未开户"
            reasons.append(f"{stage}客户下一步：{'、'.join(topics)}")
    fitting = [level for level in PRODUCT_LEVELS if not audience.blockers(level)]
    if audience.clients and candidate.risk_level and fitting and candidate.risk_level == fitting[-1]:
        reasons.append(f"{candidate.risk_level} 产品正合客户风险等级")
    return "；".join(reasons)


def _risk_points(audience, fitting, level):
    """Products at the clients' class score most, lower levels a little, unsuitable ones sink."""
    if not audience.clients or level is None:  # a group of prospects only, or no product level: nothing to fit
        return 0
    if fitting and level == fitting[-1]:
        return FIT_POINTS
    return BELOW_POINTS if level in fitting else UNSUITABLE_POINTS


def _folded(text):
    """Text compared without case (tags typed as ETF or etf are one tag)."""
    return (text or "").casefold()


def valid_on(today):
    """Within valid_from … valid_until (either may be open)."""
    return (or_(MaterialVersion.valid_from.is_(None), MaterialVersion.valid_from <= today),
            or_(MaterialVersion.valid_until.is_(None), MaterialVersion.valid_until >= today))


def _item(audience, material, version, points, trouble=False, reason=""):
    """One listed material, with what the chat's clients make of it."""
    allowed = audience.allows(version.risk_level) if audience else True
    blockers = [] if allowed else audience.blockers(version.risk_level)
    held = None
    if trouble and material.kind in UPLOADED_KINDS and needs_upload(version.file, material.kind):
        held = "企业微信暂时无法访问，这个物料需要重新上传到企业微信，请稍后再发送"
    return Item(material, version, recommended=points > 0 and allowed, suitable=allowed,
                blockers=blockers, held=held, reason=reason)


def alternatives(audience, blocked, today, limit=3):
    """{version id: up to `limit` live versions of the same category this chat may receive} for blocked versions.

    One query over the categories involved; the nearest product level first (what the advisor meant to
    send, at a level the client may have), then general material, the newest first within each.
    """
    categories = {version.category for version in blocked}
    rows = db.session.scalars(
        db.select(MaterialVersion).join(Material, Material.id == MaterialVersion.material_id)
        .where(shareable(), *valid_on(today), MaterialVersion.category.in_(categories))
        .order_by(*NEWEST_FIRST).limit(RANK_WINDOW)).all()
    fitting = sorted((v for v in rows if audience.allows(v.risk_level)),
                     key=lambda v: -int(v.risk_level[1]) if v.risk_level else 0)
    return {version.id: [v for v in fitting if v.category == version.category and v.material_id != version.material_id]
            [:limit] for version in blocked}


def last_sent(audience, material_ids):
    """{material id: when it last reached this chat (UTC)} among material_ids, in one query."""
    if not material_ids:
        return {}
    rows = db.session.execute(db.select(Share.material_id, func.max(func.coalesce(Share.result_at, Share.created_at)))
                              .where(Share.target_type == audience.type, Share.target_id == audience.id,
                                     Share.status == "sent", Share.material_id.in_(material_ids))
                              .group_by(Share.material_id))
    return dict(rows.tuples().all())


def picture_of(material_id, today):
    """The StoredFile of a shareable material's picture (the poster, or a card's cover), or None.

    None as well for a material withdrawn, expired or not yet valid: the library no longer shows it.
    """
    row = db.session.execute(db.select(Material.kind, MaterialVersion.file_sha, MaterialVersion.cover_sha)
                             .join(MaterialVersion, MaterialVersion.material_id == Material.id)
                             .where(Material.id == material_id, shareable(), *valid_on(today))).first()
    if row is None:
        return None
    return db.session.get(StoredFile, row.file_sha if row.kind == "image" else row.cover_sha or "")
