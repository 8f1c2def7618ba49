"""Substring search over material titles, summaries and tags, behind one function.

SQLite: an FTS5 table with the trigram tokenizer finds words of three characters or more through
its index; shorter words (one or two Chinese characters) fall back to LIKE. Rows of the index are the
versions' ids, so one index serves the library (approved versions) and the console (newest ones).
PostgreSQL: ILIKE on each field, which pg_trgm's GIN indexes (migration 0006) answer for words of
three characters or more; the database keeps those indexes itself.
"""
import re

from sqlalchemy import and_, or_, text

from ..extensions import db
from ..models import MaterialVersion
from ..models.materials import SEARCH_INDEX

MIN_INDEXED = 3  # the trigram tokenizer cannot match fewer characters
MAX_WORDS = 5


def _fts_available():
    """Whether this database has the trigram index (SQLite only)."""
    return db.engine.dialect.name == "sqlite"


def index_version(version):
    """Put a version's searchable text in the index (after it has an id; in the same transaction)."""
    if not _fts_available():
        return
    db.session.flush()
    db.session.execute(text(f"DELETE FROM {SEARCH_INDEX} WHERE rowid = :id"), {"id": version.id})
    db.session.execute(text(f"INSERT INTO {SEARCH_INDEX} (rowid, title, summary, tags) "
                            "VALUES (:id, :title, :summary, :tags)"),
                       {"id": version.id, "title": version.title, "summary": version.summary,
                        "tags": version.tags.replace(",", " ")})


def narrowed(query):
    """Whether the trigram index answers a word of this query (then at most a few hundred versions match)."""
    return _fts_available() and any(len(w) >= MIN_INDEXED for w in words_of(query))


def words_of(query):
    """The words of a query (split on spaces), at most a few."""
    return [w for w in re.split(r"\s+", (query or "").strip()) if w][:MAX_WORDS]


def matching(query):
    """A condition on MaterialVersion: every word of the query is in its title, summary or tags."""
    words = words_of(query)
    indexed = [w for w in words if len(w) >= MIN_INDEXED] if _fts_available() else []
    conditions = [_like(w) for w in words if w not in indexed]
    if indexed:
        phrase = " ".join('"' + w.replace('"', '""') + '"' for w in indexed)  # FTS5 phrases, ANDed
        conditions.append(MaterialVersion.id.in_(
            text(f"SELECT rowid FROM {SEARCH_INDEX} WHERE {SEARCH_INDEX} MATCH :phrase")
            .bindparams(phrase=phrase)))
    return and_(*conditions) if conditions else None


def contains(word):
    """A LIKE pattern (escape character \\) matching a literal substring."""
    return "%" + re.sub(r"([\\%_])", r"\\\1", word) + "%"


def _like(word):
    """Case-insensitive LIKE over the three fields.

    SQLite's LIKE already ignores the case of ASCII letters, the only ones its lower() folds; ILIKE
    there would add lower() on both sides, a third slower over a scan of 10,000 versions.
    """
    like = "like" if db.engine.dialect.name == "sqlite" else "ilike"
    return or_(*(getattr(column, like)(contains(word), escape="\\") for column in
                 (MaterialVersion.title, MaterialVersion.summary, MaterialVersion.tags)))
