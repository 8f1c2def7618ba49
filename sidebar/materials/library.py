"""The advisors' library: shareable materials, searched and filtered, recommended ones first.

"Recommended for this client" is a score computed by the database: the client's tags among the
material's tags, a topic matching where the client stands in the account-opening journey, and a
product level fitting the client's class. Materials the chat may not receive sink to the end.
"""
from dataclasses import dataclass

from sqlalchemy import and_, case, literal, or_

from ..extensions import db
from ..models import PRODUCT_LEVELS, Material, MaterialVersion, StoredFile
from .audience import audience_for
from .media import needs_upload
from .search import contains, matching, narrowed

PAGE_SIZE = 30
UPLOADED_KINDS = ("image", "video", "file")  # sent as a WeCom media_id, which an upload must provide
RANK_WINDOW = 500  # how many of the newest matches are ranked for the chat
# What a client at each stage most needs next (matched against material tags and titles).
STAGE_TOPICS = {None: ("开户",), "registered": ("开户",), "applying": ("开户",), "opened": ("入金",),
                "funded": ("新手", "交易入门"), "traded": ("策略",)}
TAG_POINTS, TOPIC_POINTS, FIT_POINTS, BELOW_POINTS, UNSUITABLE_POINTS = 3, 2, 2, 1, -100


@dataclass
class Item:
    """A material as the library lists it."""

    material: Material
    version: MaterialVersion
    recommended: bool
    suitable: bool
    blockers: list
    held: str | None = None  # why sharing is switched off for now (WeCom in trouble), or None


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
    """Approved and not withdrawn (a condition over Material + version; validity is _valid_on's).

    by_id: for a search the trigram index has narrowed to a few hundred versions. Looking those up
    by id is 3× cheaper than walking every approved version in date order, but SQLite takes the walk
    whenever the status term can use its index, so the term is written so that it cannot.
    """
    status = MaterialVersion.status + "" if by_id else MaterialVersion.status
    return and_(Material.withdrawn_at.is_(None), status == "approved")


def browse(client, advisor, chat, query, category, kind, today):
    """The library page; NotVisible when `chat` is not the advisor's.

    The newest RANK_WINDOW matching materials are ranked for the chat and the best PAGE_SIZE shown:
    the cost stays bounded however large the library grows.
    """
    audience = audience_for(client, advisor, chat, today) if chat else None
    newest_first = (MaterialVersion.reviewed_at.desc(), MaterialVersion.id.desc())  # the index's order
    window = _matching_ids(query, category, kind, today).order_by(*newest_first).limit(RANK_WINDOW).subquery()
    score = (_score(audience) if audience else literal(0)).label("score")
    stmt = (db.select(Material, MaterialVersion, score)
            .join(MaterialVersion, MaterialVersion.material_id == Material.id)
            .where(MaterialVersion.id.in_(db.select(window.c.id)))
            # by the label: the score, two dozen LIKEs per version, is computed once, not again to sort
            .order_by(*((score.desc(),) if audience else ()), *newest_first).limit(PAGE_SIZE + 1))
    rows = db.session.execute(stmt).all()
    trouble = bool(audience) and client.in_trouble()
    items = [_item(audience, material, version, points, trouble) for material, version, points in rows[:PAGE_SIZE]]
    return Library(audience, items, len(rows) > PAGE_SIZE, query or "", category or "", kind or "")


def _matching_ids(query, category, kind, today):
    """Ids of the shareable versions matching the search and filters."""
    stmt = db.select(MaterialVersion.id).join(Material, Material.id == MaterialVersion.material_id) \
        .where(shareable(by_id=narrowed(query)), *_valid_on(today))
    if category:
        stmt = stmt.where(MaterialVersion.category == category)
    if kind:
        stmt = stmt.where(Material.kind == kind)
    condition = matching(query)
    return stmt if condition is None else stmt.where(condition)


def _valid_on(today):
    """Within valid_from … valid_until (either may be open)."""
    return (or_(MaterialVersion.valid_from.is_(None), MaterialVersion.valid_from <= today),
            or_(MaterialVersion.valid_until.is_(None), MaterialVersion.valid_until >= today))


def _item(audience, material, version, points, trouble=False):
    """One listed material, with what the chat's clients make of it."""
    blockers = audience.blockers(version.risk_level) if audience else []
    held = None
    if trouble and material.kind in UPLOADED_KINDS and needs_upload(version.file, material.kind):
        held = "企业微信暂时无法访问，这个素材需要重新上传到企业微信，请稍后再发送"
    return Item(material, version, recommended=points > 0 and not blockers, suitable=not blockers,
                blockers=blockers, held=held)


def _score(audience):
    """The recommendation score of a version for this audience, as an SQL expression."""
    terms = [case((_has_tag(tag), TAG_POINTS), else_=0) for tag in audience.tags[:20]]
    if audience.type == "contact":
        terms += [case((or_(MaterialVersion.tags.like(contains(t), escape="\\"),
                            MaterialVersion.title.like(contains(t), escape="\\")), TOPIC_POINTS), else_=0)
                  for t in STAGE_TOPICS.get(audience.stage, ())]
    terms.append(_risk_points(audience))
    return sum(terms[1:], terms[0])


def _risk_points(audience):
    """Products at the clients' class score most, lower levels a little, unsuitable ones sink."""
    if not audience.clients:  # a group of prospects only: no class to fit
        return literal(0)
    fitting = [lv for lv in PRODUCT_LEVELS if not audience.blockers(lv)]
    if not fitting:
        return case((MaterialVersion.risk_level.is_(None), 0), else_=UNSUITABLE_POINTS)
    return case((MaterialVersion.risk_level.is_(None), 0),
                (MaterialVersion.risk_level == fitting[-1], FIT_POINTS),
                (MaterialVersion.risk_level.in_(fitting), BELOW_POINTS), else_=UNSUITABLE_POINTS)


def _has_tag(tag):
    """The version's comma-joined tags contain exactly this tag."""
    return (literal(",") + MaterialVersion.tags + literal(",")).like(contains("," + tag + ","), escape="\\")



def picture_of(material_id):
    """The StoredFile of a live material's picture (the poster, or a card's cover), or None."""
    row = db.session.execute(db.select(Material.kind, MaterialVersion.file_sha, MaterialVersion.cover_sha)
                             .join(MaterialVersion, MaterialVersion.material_id == Material.id)
                             .where(Material.id == material_id, shareable())).first()
    if row is None:
        return None
    return db.session.get(StoredFile, row.file_sha if row.kind == "image" else row.cover_sha or "")
