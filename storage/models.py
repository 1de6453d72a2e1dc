"""The archive's tables as typed SQLAlchemy 2.0 models. ``docs/schema.md`` documents them for users.

Dates that come from pages (``published_at``, ``modified_at``) are stored as ISO 8601 text in UTC
(``2024-06-12T14:00:00Z``, or ``2024-06-12`` when the source gives only a day): they read the same
in ``sqlite3``, Datasette and exports, and sort correctly as text. Times we produce ourselves
(``fetched_at`` and friends) use the same form.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: CRC-32 values (paragraph hashes, LSH band keys) reach 2**32: 64-bit on PostgreSQL, whose INTEGER is
#: 32 bits; SQLite's INTEGER already holds 64 bits (and its schema stays as migration 0005 made it).
HASH32 = BigInteger().with_variant(Integer(), "sqlite")


def utc_now_iso() -> str:
    """Now, in the stored ISO 8601 UTC form."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Base(DeclarativeBase):
    pass


class Newsletter(Base):
    """A newsletter being archived: the unit users name in ``newsletters.toml`` and filter on."""

    __tablename__ = "newsletters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    home_url: Mapped[str | None] = mapped_column(Text)
    platform: Mapped[str] = mapped_column(String(40), default="generic")
    created_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)

    issues: Mapped[list[Issue]] = relationship(back_populates="newsletter")


class Issue(Base):
    """One newsletter issue, cleaned. One row per issue: re-crawls update it in place."""

    __tablename__ = "issues"
    __table_args__ = (
        Index("ix_issues_newsletter_published", "newsletter_id", "published_at"),
        Index("ix_issues_access_published", "access", "published_at"),
        Index("ix_issues_author", "author"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    newsletter_id: Mapped[int] = mapped_column(ForeignKey("newsletters.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text, unique=True)
    canonical_url: Mapped[str | None] = mapped_column(Text, index=True)
    platform: Mapped[str] = mapped_column(String(40), default="generic")
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[str | None] = mapped_column(String(32), index=True)
    modified_at: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    image_url: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    raw_html_gz: Mapped[bytes | None] = mapped_column(LargeBinary)
    word_count: Mapped[int] = mapped_column(Integer, default=0)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    http_status: Mapped[int | None] = mapped_column(Integer)
    extractor: Mapped[str] = mapped_column(String(80))
    extractor_version: Mapped[str] = mapped_column(String(80))
    fetched_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)
    first_seen_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)
    subtitle: Mapped[str | None] = mapped_column(Text)
    issue_number: Mapped[int | None] = mapped_column(Integer)
    volume: Mapped[int | None] = mapped_column(Integer)
    access: Mapped[str] = mapped_column(String(20), default="free")
    gone_at: Mapped[str | None] = mapped_column(String(32))  # the source answered 404/410: kept, marked
    # Copies and duplicates (storage/works.py): the stable key (platform id or normalised canonical URL),
    # and the primary copy of this issue's work when this row is not it (hidden from list and search).
    identity_key: Mapped[str | None] = mapped_column(Text, index=True)
    copy_of: Mapped[int | None] = mapped_column(ForeignKey("issues.id", ondelete="SET NULL"), index=True)

    newsletter: Mapped[Newsletter] = relationship(back_populates="issues")
    revisions: Mapped[list[IssueRevision]] = relationship(
        back_populates="issue", cascade="all, delete-orphan", order_by="IssueRevision.revision"
    )
    links: Mapped[list[IssueLink]] = relationship(
        back_populates="issue", cascade="all, delete-orphan", order_by="IssueLink.position"
    )


class IssueLink(Base):
    """A hyperlink in an issue's body: its real target (unwrapped, untracked) and anchor text."""

    __tablename__ = "issue_links"
    __table_args__ = (UniqueConstraint("issue_id", "position", name="uq_issue_links_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text, index=True)
    text: Mapped[str] = mapped_column(Text)

    issue: Mapped[Issue] = relationship(back_populates="links")


class RejectedPage(Base):
    """A page the crawl fetched or tried to fetch but did not store as an issue, and why.

    Nothing a crawl meets is silently lost: refusals (HTTP 999, auth walls), errors, empty or
    teaser pages and unreadable content each leave a row here, updated on every new attempt.
    """

    __tablename__ = "rejected_pages"
    __table_args__ = (UniqueConstraint("url", name="uq_rejected_pages_url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    newsletter: Mapped[str | None] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(String(80), index=True)
    detail: Mapped[str | None] = mapped_column(Text)
    http_status: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    first_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)
    last_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)


class IssueRevision(Base):
    """An earlier version of an issue's body, kept when a re-crawl found the content changed."""

    __tablename__ = "issue_revisions"
    __table_args__ = (UniqueConstraint("issue_id", "revision", name="uq_issue_revisions_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)  # 1 = the first version stored
    title: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_markdown: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    word_count: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[str] = mapped_column(String(32))  # last time this version was seen
    replaced_at: Mapped[str] = mapped_column(String(32))  # when a newer version replaced it

    issue: Mapped[Issue] = relationship(back_populates="revisions")


class CrawlState(Base):
    """What the crawler knows of one URL between runs: validators for conditional requests, the date the
    listing gave, when it was last checked and changed, and how it failed. Lets a cron run skip or
    cheaply re-check what it already has."""

    __tablename__ = "crawl_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    newsletter: Mapped[str | None] = mapped_column(String(300), index=True)
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # stored, unchanged, gone, failed, refused, rejected
    http_status: Mapped[int | None] = mapped_column(Integer)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    page_hash: Mapped[str | None] = mapped_column(String(64))  # sha256 of the fetched page text
    listed_date: Mapped[str | None] = mapped_column(String(32))  # the date the listing gave last time
    published_at: Mapped[str | None] = mapped_column(String(32))  # drives the age-based re-check schedule
    first_seen_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)
    last_checked_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)
    last_changed_at: Mapped[str | None] = mapped_column(String(32))
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class CrawlRun(Base):
    """One crawl of one or more sources (a cron run of ``tomtalks crawl``, or a ``scrapy crawl``)."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)
    finished_at: Mapped[str | None] = mapped_column(String(32))
    finish_reason: Mapped[str | None] = mapped_column(String(80))
    mode: Mapped[str] = mapped_column(String(20), default="incremental")  # incremental or full
    log_file: Mapped[str | None] = mapped_column(Text)

    sources: Mapped[list[CrawlRunSource]] = relationship(back_populates="run", cascade="all, delete-orphan")


class CrawlRunSource(Base):
    """Per source of a run: what was listed, new, changed, unchanged, skipped and failed."""

    __tablename__ = "crawl_run_sources"
    __table_args__ = (UniqueConstraint("run_id", "source", name="uq_crawl_run_sources_source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"), index=True)
    newsletter: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(Text)
    listed: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # known and unchanged by the listing's dates
    failed: Mapped[int] = mapped_column(Integer, default=0)
    finish_reason: Mapped[str | None] = mapped_column(String(80))

    run: Mapped[CrawlRun] = relationship(back_populates="sources")


# Copies and duplicates (storage/works.py, docs/schema.md) ---------------------------------------------


class Work(Base):
    """One text published several times (cross-posts, a content farm's copy): its issues and the primary one."""

    __tablename__ = "works"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    primary_issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id", ondelete="SET NULL"))
    created_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)
    updated_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)


class WorkMember(Base):
    """An issue's place in a work: which member it was matched to, how similar, and why."""

    __tablename__ = "work_members"

    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)
    matched_issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id", ondelete="SET NULL"))
    similarity: Mapped[float | None] = mapped_column(Float)  # Jaccard of the two texts' shingles
    containment: Mapped[float | None] = mapped_column(Float)  # shared / the smaller text's shingles
    reason: Mapped[str] = mapped_column(String(40))  # near_duplicate, same_identity
    joined_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)


class IssueAlias(Base):
    """A URL that served the issue or that it declares as its own (canonical, og:url, AMP), normalised."""

    __tablename__ = "issue_aliases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # fetched, canonical, og:url, amp
    first_seen_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)
    last_seen_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)


class IssueFingerprint(Base):
    """The MinHash signature of an issue's body (storage/fingerprints.py) and what it was made from.

    ``line_hashes`` are the body's paragraphs (CRC-32 of their words), the key to its rows in
    ``issue_lines``; ``newsletter_id`` is the newsletter those rows were filed under.
    """

    __tablename__ = "issue_fingerprints"

    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    newsletter_id: Mapped[int] = mapped_column(Integer)
    shingles: Mapped[int] = mapped_column(Integer)  # distinct shingles outside the newsletter's boilerplate
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)  # NUM_BINS little-endian uint32, or NULL
    line_hashes: Mapped[bytes] = mapped_column(LargeBinary)
    computed_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)


class FingerprintBand(Base):
    """LSH index: one row per band of a signature. Issues sharing bands are candidate duplicates.

    No foreign key (an index-organised table of two integers, millions of rows): ``storage.works``
    deletes an issue's rows itself, recomputing their keys from the stored signature.
    """

    __tablename__ = "fingerprint_bands"
    __table_args__ = (PrimaryKeyConstraint("band_key", "issue_id"), {"sqlite_with_rowid": False})

    band_key: Mapped[int] = mapped_column(HASH32)
    issue_id: Mapped[int] = mapped_column(Integer)


class IssueLine(Base):
    """Which issues of a newsletter hold a paragraph: a paragraph in many is the newsletter's boilerplate
    (intro, sign-off), left out when comparing texts."""

    __tablename__ = "issue_lines"
    __table_args__ = (PrimaryKeyConstraint("line_hash", "newsletter_id", "issue_id"), {"sqlite_with_rowid": False})

    line_hash: Mapped[int] = mapped_column(HASH32)
    newsletter_id: Mapped[int] = mapped_column(Integer)
    issue_id: Mapped[int] = mapped_column(Integer)


class IssueCopy(Base):
    """Why a page looks like a content-farm copy (extraction/copies.py), and what it claimed of itself."""

    __tablename__ = "issue_copies"

    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True)
    is_farm: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    likely_original_url: Mapped[str | None] = mapped_column(Text)
    claimed_author: Mapped[str | None] = mapped_column(Text)  # what the copy said, not trusted
    claimed_published_at: Mapped[str | None] = mapped_column(String(32))
    checked_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)


class ArchiveSetting(Base):
    """Settings kept with the archive, read by every process writing to it (e.g. ``prefer_platforms``)."""

    __tablename__ = "archive_settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
