"""Copies and duplicates: one identity per issue, its URL aliases, and works grouping near-duplicates.

``after_upsert`` runs at the end of ``storage.writes.upsert_issue``, in the same transaction, for
every issue stored (the crawl's and ``Archive.save_issue``'s), so an issue is never stored without
being checked. What it does, in order:

1. **Identity** (``tomtalks_scraper.extraction.identity``): the issue's stable key and the URLs it
   answers to. A *new* row whose key or alias belongs to an issue already stored (a re-crawl under
   an alias: ``www.``, AMP, the custom domain of a Substack) is folded into that issue: the new row
   is removed and the stored one updated in place, with its revision history.
2. **Copy evidence** (``tomtalks_scraper.extraction.copies``) read from the raw page: a content-farm
   copy is recorded with its reasons and its likely original, and its own author and date claims
   are replaced (by the article's signature, by the original's once it is in the archive).
3. **Near-duplicates** (``storage.fingerprints``): the body's MinHash signature is indexed by LSH
   bands in ``fingerprint_bands``; the few issues sharing bands are compared exactly, leaving out the
   paragraphs that are their newsletters' boilerplate (intro, sign-off: a paragraph in
   ``BOILERPLATE_ISSUES`` or more issues of one newsletter). Matches join one ``work``, whose primary
   copy is elected by ``elect``; the others point to it with ``issues.copy_of``.

Why boilerplate is learnt per newsletter rather than fixed: the issues of one newsletter share an
intro and a sign-off, which for short issues is most of the text; comparing them whole would group
every issue with every other. The first few issues are compared before the boilerplate is known;
when a paragraph becomes boilerplate (its ``BOILERPLATE_ISSUES``-th issue), the issues holding it are
checked again and leave works they no longer belong to.

Reading works and copies (``tomtalks duplicates``, ``show``) is ``storage.work_queries``.
"""

from __future__ import annotations

import json
from array import array
from collections import namedtuple
from collections.abc import Iterator, Sequence, Set
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from lxml import html as lxml_html
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from storage import fingerprints as fp
from storage.models import (
    ArchiveSetting,
    FingerprintBand,
    Issue,
    IssueFingerprint,
    IssueLine,
    Work,
    WorkMember,
    utc_now_iso,
)
from storage.page_checks import PageChecks, body_lines, content_shingles, parse_page

if TYPE_CHECKING:
    from storage.writes import SaveResult

#: A paragraph in this many issues of one newsletter is its boilerplate. Not 2 or 3: a newsletter
#: configured with its Substack, LinkedIn and Medium editions holds each paragraph three times.
BOILERPLATE_ISSUES = 5
#: Setting (``archive_settings``): platforms in order of preference for the primary copy of a work.
PREFER_PLATFORMS = "prefer_platforms"
NEAR_DUPLICATE = "near_duplicate"
#: Copies whose body is not the whole text: never primary while a full copy is in the work.
_PARTIAL_ACCESS = ("paid_preview", "login_wall")


def _sql(session: Session, sql: str, params: Sequence[Any] | list[Sequence[Any]] = ()) -> Any:
    """Run ``sql`` (``?`` placeholders) on the session's connection without SQLAlchemy's statement
    compilation: the check runs on every store, and building and compiling its dozen statements cost
    more than SQLite running them. ``params`` is one row of values, or a list of rows (executemany).
    Placeholders are rewritten for the driver's paramstyle, so any database SQLAlchemy drives works."""
    conn = session.connection()
    style = conn.dialect.paramstyle
    many = bool(params) and isinstance(params, list) and isinstance(params[0], (tuple, list))
    rows = params if many else [params]
    if style in ("format", "pyformat"):
        sql = sql.replace("?", "%s")
    elif style in ("named", "numeric", "numeric_dollar"):
        parts = sql.split("?")
        mark = {"named": ":p{}", "numeric": ":{}", "numeric_dollar": "${}"}[style]
        start = 0 if style == "named" else 1
        sql = parts[0] + "".join(mark.format(i + start) + part for i, part in enumerate(parts[1:]))
        if style == "named":
            rows = [{f"p{i}": value for i, value in enumerate(row)} for row in rows]
    # Straight on the DB-API cursor, in the session's transaction: SQLAlchemy's execution context and
    # result cost ~10 µs a statement, and a store runs about twenty of these.
    cursor = conn.connection.dbapi_connection.cursor()
    if many:
        cursor.executemany(sql, [tuple(r) if not isinstance(r, dict) else r for r in rows])
    else:
        row = rows[0]
        cursor.execute(sql, row if isinstance(row, dict) else tuple(row))
    return _Result(cursor)


class _Result:
    """A statement's rows the few ways this module reads them (``all``, ``first``, ``scalar``, ``scalars``,
    iteration), each row a named tuple (``row.issue_id``), as SQLAlchemy's ``Result`` gives them."""

    __slots__ = ("_cursor",)
    _row_types: dict[tuple[str, ...], Any] = {}

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def all(self) -> list[Any]:
        description = self._cursor.description
        if description is None:  # a statement without rows
            return []
        names = tuple(column[0] for column in description)
        row_type = self._row_types.get(names)
        if row_type is None:
            row_type = self._row_types[names] = namedtuple("Row", names, rename=True)  # noqa: PYI024
        return [row_type._make(row) for row in self._cursor.fetchall()]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.all())

    def first(self) -> Any:
        rows = self.all()
        return rows[0] if rows else None

    def scalar(self) -> Any:
        row = self.first()
        return None if row is None else row[0]

    def scalars(self) -> _Result:
        return _Scalars(self._cursor)


class _Scalars(_Result):
    """The first column of each row."""

    __slots__ = ()

    def all(self) -> list[Any]:
        return [row[0] for row in self._cursor.fetchall()] if self._cursor.description is not None else []


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def _ignore_conflicts(session: Session) -> str:
    """``ON CONFLICT DO NOTHING`` where the database has it (SQLite, PostgreSQL)."""
    return " ON CONFLICT DO NOTHING" if session.get_bind().dialect.name in ("sqlite", "postgresql") else ""


def _alias_conflict(session: Session) -> str:
    """An alias another writer recorded meanwhile moves to this issue, as one seen again does (below)."""
    return (" ON CONFLICT (url) DO UPDATE SET issue_id = excluded.issue_id, last_seen_at = excluded.last_seen_at"
            if session.get_bind().dialect.name in ("sqlite", "postgresql") else "")


@dataclass(frozen=True)
class Match:
    issue_id: int
    similarity: fp.Similarity


# Entry point -----------------------------------------------------------------------------------------


def after_upsert(session: Session, issue: Issue, result: SaveResult, *, url: str, raw_html: str | None,
                 checks: PageChecks | None = None) -> SaveResult:
    """Identity, aliases, copy evidence and duplicate grouping for the issue ``upsert_issue`` just wrote.

    ``checks``: the page-only part, computed beforehand (``storage.page_checks``: a crawl's extraction
    workers do it), used when it was computed for what the row now holds; else it is computed here.
    Returns the save result to report: another issue's when the new row was folded into it.
    """
    from tomtalks_scraper.extraction.identity import identify

    page = checks if checks is not None and checks.fits(issue, url) else None
    tree = None if page is not None else _parse(raw_html)
    identity = page.identity if page is not None else identify(url, issue.canonical_url, issue.platform, raw_html,
                                                               tree)
    owners = _alias_owners(session, [alias for alias, _ in identity.aliases])
    if result.created and (target := _stored_under(session, issue, identity, owners)) is not None:
        return _fold_into(session, issue, target, url=url, raw_html=raw_html, aliases=identity.aliases)
    _set_identity_key(session, issue, identity.key)
    record_aliases(session, issue.id, identity.aliases, owners)
    if page is not None:
        farm = page.evidence is not None and _record_copy_evidence(session, issue, url, None, evidence=page.evidence)
    else:
        farm = tree is not None and _record_copy_evidence(session, issue, url, tree)
    index_issue(session, issue, new=result.created, page=page)
    if farm and (work_id := _sql(session, "SELECT work_id FROM work_members WHERE issue_id = ?",
                                 (issue.id,)).scalar()) is not None:
        elect(session, work_id)  # the original's author and date, also when the body was unchanged
    return result


def _set_identity_key(session: Session, issue: Issue, key: str) -> None:
    """Write the key without an ORM flush of the whole row (the row is written; only this column moves)."""
    if issue.identity_key != key:
        _sql(session, "UPDATE issues SET identity_key = ? WHERE id = ?", (key, issue.id))
        set_committed_value(issue, "identity_key", key)


_parse = parse_page


# Identity and aliases --------------------------------------------------------------------------------


def _alias_owners(session: Session, urls: list[str]) -> dict[str, int]:
    """Which issue each of ``urls`` is an alias of, for those already known."""
    return dict(_sql(session, f"SELECT url, issue_id FROM issue_aliases WHERE url IN ({_marks(urls)})", urls).all())


def _stored_under(session: Session, issue: Issue, identity: Any, owners: dict[str, int]) -> Issue | None:
    """The issue already stored under one of this page's aliases or its identity key, if any.

    A key made from a URL only folds texts that are alike: a site whose every page declares the
    home page as canonical must not collapse its archive into one issue.
    """
    others = sorted(owner for owner in owners.values() if owner != issue.id)
    owner = others[0] if others else _sql(
        session, "SELECT id FROM issues WHERE identity_key = ? AND id != ? ORDER BY id LIMIT 1",
        (identity.key, issue.id)).scalar()
    if owner is None:
        return None
    target = session.get(Issue, owner)
    if target is None:
        return None
    if identity.key.startswith("url:") and target.content_hash != issue.content_hash:
        similarity = fp.compare(fp.shingles(target.body_text or ""), fp.shingles(issue.body_text or ""))
        if similarity.jaccard < 0.3 and similarity.containment < 0.8:
            return None
    return target


def _fold_into(session: Session, new: Issue, target: Issue, *, url: str, raw_html: str | None,
               aliases: list[tuple[str, str]]) -> SaveResult:
    """Replace the row just created for an alias URL by an update of the issue stored under it."""
    from storage.writes import ISSUE_FIELDS, upsert_issue

    values = {name: getattr(new, name) for name in ISSUE_FIELDS}
    links = [(link.url, link.text) for link in new.links]
    newsletter, home = new.newsletter.name, new.newsletter.home_url
    session.delete(new)
    session.flush()
    result = upsert_issue(session, url=target.url, newsletter=newsletter, newsletter_url=home, raw_html=raw_html,
                          values=values, links=links)
    record_aliases(session, result.issue_id, aliases)
    return result


def record_aliases(session: Session, issue_id: int, aliases: list[tuple[str, str]],
                   owners: dict[str, int] | None = None) -> None:
    """Remember every URL of the issue (normalised); an alias seen again moves to this issue.

    ``owners`` (alias → issue id, as ``_alias_owners`` read them) saves reading them again.
    """
    now = utc_now_iso()
    if owners is None:
        owners = _alias_owners(session, [alias for alias, _ in aliases])
    fresh = [(alias, issue_id, kind, now, now) for alias, kind in aliases if alias not in owners]
    if fresh:
        _sql(session, "INSERT INTO issue_aliases (url, issue_id, kind, first_seen_at, last_seen_at) "
                      "VALUES (?, ?, ?, ?, ?)" + _alias_conflict(session), fresh)
    seen = [alias for alias, _ in aliases if alias in owners]
    if seen:
        _sql(session, f"UPDATE issue_aliases SET issue_id = ?, last_seen_at = ? WHERE url IN ({_marks(seen)})",
             [issue_id, now, *seen])


# Content-farm evidence -------------------------------------------------------------------------------


def _record_copy_evidence(session: Session, issue: Issue, url: str, tree: lxml_html.HtmlElement | None, *,
                          stored: bool = False, evidence: Any = None) -> bool:
    """Score the page; a farm copy's author and date claims are kept as evidence and not trusted.
    Returns whether the page is a farm copy.

    ``stored``: the issue was stored earlier (a backfill or rebuild): its author and date may be ones
    this module set, so the claims recorded then are the page's, not the row's. ``evidence``: the
    page's score computed beforehand (``PageChecks``, for a new store: not ``stored``), instead of ``tree``.
    """
    from tomtalks_scraper.extraction.copies import copy_evidence

    known = _sql(session, "SELECT claimed_author, claimed_published_at FROM issue_copies WHERE issue_id = ?",
                 (issue.id,)).first()
    author, published = (known.claimed_author, known.claimed_published_at) if stored and known else (
        issue.author, issue.published_at)
    if evidence is None:
        evidence = copy_evidence(tree, url, issue.platform, issue.body_text or "", author,
                                 [link.url for link in issue.links])
    if not evidence.signals and not known:
        return False
    if known:
        _sql(session, "DELETE FROM issue_copies WHERE issue_id = ?", (issue.id,))
    _sql(session, "INSERT INTO issue_copies (issue_id, is_farm, score, reasons, likely_original_url, claimed_author, "
                  "claimed_published_at, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
         (issue.id, evidence.is_copy, evidence.score, json.dumps(evidence.reasons, ensure_ascii=False),
          evidence.likely_original_url, author, published, utc_now_iso()))
    if evidence.is_copy:
        signed = evidence.signature_author
        issue.authors = [signed] if signed else []
        issue.author = signed
        issue.published_at = None  # what the farm says; the original's date replaces it once known
    return evidence.is_copy


# Fingerprints and grouping ---------------------------------------------------------------------------


_lines = body_lines


def _boilerplate(session: Session, hashes: set[int]) -> set[int]:
    """Which of ``hashes`` are boilerplate: paragraphs of ``BOILERPLATE_ISSUES`` or more issues of one
    newsletter (any newsletter: a farm's copy carries its original newsletter's sign-off)."""
    if not hashes:
        return set()
    values = sorted(hashes)
    return set(_sql(session, f"SELECT DISTINCT line_hash FROM (SELECT line_hash FROM issue_lines "
                             f"WHERE line_hash IN ({_marks(values)}) GROUP BY line_hash, newsletter_id "
                             f"HAVING count(*) >= {BOILERPLATE_ISSUES}) AS boilerplate", values).scalars())


_content_shingles = content_shingles


def _unindex(session: Session, issue_id: int, signature: bytes | None, line_hashes: bytes | None,
             newsletter_id: int) -> None:
    """Remove an issue's band and paragraph rows (their keys are recomputed from what was stored)."""
    if signature:
        keys = sorted(set(fp.band_keys(fp.from_bytes(signature))))
        _sql(session, f"DELETE FROM fingerprint_bands WHERE issue_id = ? AND band_key IN ({_marks(keys)})",
             [issue_id, *keys])
    hashes = sorted(set(fp.from_bytes(line_hashes))) if line_hashes else []
    if hashes:
        _sql(session, f"DELETE FROM issue_lines WHERE newsletter_id = ? AND issue_id = ? "
                      f"AND line_hash IN ({_marks(hashes)})", [newsletter_id, issue_id, *hashes])


def index_issue(session: Session, issue: Issue, *, new: bool = False, force: bool = False,
                recheck: bool = True, page: PageChecks | None = None) -> list[Match]:
    """Fingerprint the issue's body and put it in the work of the issues it duplicates.

    Nothing is done when the body and newsletter are those already fingerprinted (a re-crawl that found
    the page unchanged), unless ``force``. ``new``: the row was just created (nothing to look up or
    undo). ``recheck`` also re-checks the issues whose paragraphs this issue made boilerplate (never
    recursively). ``page``: the body's paragraphs, shingles and signature computed beforehand for this
    row's body (``PageChecks.fits``). Returns the matches found. ``issue`` may be a plain row: only its
    ``id``, ``newsletter_id``, ``content_hash`` and ``body_text`` are read.

    The statements here run on every store, so they are Core statements on the session's connection
    (a tenth of the ORM's overhead), eight for a new issue.
    """
    newsletter_id = issue.newsletter_id
    row = None if new else _sql(
        session, "SELECT content_hash, newsletter_id, signature, line_hashes FROM issue_fingerprints "
                 "WHERE issue_id = ?", (issue.id,)).first()
    if row is not None and not force and row.content_hash == issue.content_hash and row.newsletter_id == newsletter_id:
        return []
    if row is not None:
        _unindex(session, issue.id, row.signature, row.line_hashes, row.newsletter_id)
    lines = page.lines if page is not None else _lines(issue.body_text or "")
    hashes = sorted({h for h, _ in lines})
    counts: list[Any] = []
    if hashes:
        _sql(session, "INSERT INTO issue_lines (newsletter_id, line_hash, issue_id) VALUES (?, ?, ?)"
             + _ignore_conflicts(session), [(newsletter_id, h, issue.id) for h in hashes])
        counts = _sql(session, f"SELECT line_hash, newsletter_id, count(*) FROM issue_lines WHERE line_hash IN "
                               f"({_marks(hashes)}) GROUP BY line_hash, newsletter_id HAVING count(*) > 1",
                      hashes).all()
    boilerplate = {h for h, _, n in counts if n >= BOILERPLATE_ISSUES}
    if page is not None and not boilerplate:
        shingles, sig = page.shingles, page.signature  # the whole body: what was computed with the page
    else:
        shingles = _content_shingles(lines, boilerplate)
        sig = fp.signature(shingles)
    keys = sorted(set(fp.band_keys(sig))) if sig is not None else []
    values = (issue.content_hash, newsletter_id, len(shingles), fp.to_bytes(sig) if sig is not None else None,
              fp.to_bytes(array("I", hashes)), utc_now_iso(), issue.id)
    if row is None:
        _sql(session, "INSERT INTO issue_fingerprints (content_hash, newsletter_id, shingles, signature, line_hashes, "
                      "computed_at, issue_id) VALUES (?, ?, ?, ?, ?, ?, ?)", values)
    else:
        _sql(session, "UPDATE issue_fingerprints SET content_hash = ?, newsletter_id = ?, shingles = ?, signature = ?, "
                      "line_hashes = ?, computed_at = ? WHERE issue_id = ?", values)
    # With no paragraph of this newsletter left out, ``shingles`` are the whole body's: the comparisons reuse them.
    matches = _find_matches(session, issue.id, issue.body_text or "", lines, shingles, sig, keys,
                            whole=None if boilerplate else shingles) if sig is not None else []
    if keys:
        _sql(session, "INSERT INTO fingerprint_bands (band_key, issue_id) VALUES (?, ?)" + _ignore_conflicts(session),
             [(k, issue.id) for k in keys])
    if matches or not new:
        regroup(session, issue.id, matches)
    if recheck:
        newly = [h for h, owner, n in counts if owner == newsletter_id and n == BOILERPLATE_ISSUES]
        if newly:
            _recheck_holders(session, newsletter_id, newly, issue.id)
    return matches


def _recheck_holders(session: Session, newsletter_id: int, hashes: list[int], except_id: int) -> None:
    """Paragraphs just became boilerplate: the issues that hold them were compared with them in; again."""
    holders = _sql(session, f"SELECT DISTINCT issue_id FROM issue_lines WHERE newsletter_id = ? AND line_hash IN "
                            f"({_marks(hashes)}) AND issue_id != ?", [newsletter_id, *hashes, except_id]).scalars()
    holders = holders.all()
    if not holders:
        return
    # The four columns ``index_issue`` reads, as plain rows (not whole ORM rows with their pages: nothing
    # of them is written here, and every pending change to them was flushed when they were stored).
    rows = _sql(session, f"SELECT id, newsletter_id, content_hash, body_text FROM issues WHERE id IN "
                         f"({_marks(holders)})", list(holders)).all()
    by_id = {row.id: row for row in rows}
    for holder_id in holders:
        if (holder := by_id.get(holder_id)) is not None:
            index_issue(session, holder, force=True, recheck=False)


def _find_matches(
    session: Session, issue_id: int, body: str, lines: list[tuple[int, str]], shingles: set[int],
    sig: Any, keys: list[int], *, whole: Set[int] | None = None,
) -> list[Match]:
    """Stored issues that are near-duplicates of this one: LSH candidates, a signature pre-check, then
    an exact comparison without either newsletter's boilerplate. ``whole``: the shingles of this whole
    body, if known."""
    candidates = _sql(session, f"SELECT issue_id FROM fingerprint_bands WHERE band_key IN ({_marks(keys)}) "
                               f"AND issue_id != ? GROUP BY issue_id HAVING count(*) >= {fp.MIN_BAND_HITS}",
                      [*keys, issue_id]).scalars().all()
    if not candidates:
        return []
    likely = []
    for other_id, other_sig, other_size in _sql(
        session, "SELECT issue_id, signature, shingles FROM issue_fingerprints "
                 f"WHERE issue_id IN ({_marks(candidates)})", candidates,
    ):
        if other_sig and fp.could_be_near_duplicate(fp.estimated_jaccard(sig, fp.from_bytes(other_sig)),
                                                    len(shingles), other_size):
            likely.append(other_id)
    if not likely:
        return []
    matches = []
    # By the other body's text: identical copies (a cross-post, a page crawled under many URLs) give the
    # same comparison, which then runs once; nothing is written meanwhile, so the boilerplate is the same.
    compared: dict[str, fp.Similarity] = {}
    for other_id, other_body in _sql(
        session, f"SELECT id, body_text FROM issues WHERE id IN ({_marks(likely)})", likely,
    ):
        other_body = other_body or ""
        similarity = compared.get(other_body)
        if similarity is None:
            other_lines = lines if other_body == body else _lines(other_body)
            similarity = compared[other_body] = _compare_without_boilerplate(session, lines, other_lines, whole)
        if fp.is_near_duplicate(similarity):
            matches.append(Match(other_id, similarity))
    return sorted(matches, key=lambda m: -m.similarity.jaccard)


def _compare_without_boilerplate(session: Session, lines: list[tuple[int, str]], other_lines: list[tuple[int, str]],
                                 whole: Set[int] | None = None) -> fp.Similarity:
    """The exact similarity of two bodies, leaving out the paragraphs that are boilerplate in either.
    ``whole``: the shingles of the first whole body, if known (used when nothing is left out)."""
    boilerplate = _boilerplate(session, {h for h, _ in lines} | {h for h, _ in other_lines})
    same = other_lines == lines  # the same body (a copy): its shingles once, compared with themselves
    if not boilerplate:
        own = whole if whole is not None else _content_shingles(lines, boilerplate)
        return fp.compare(own, own if same else _content_shingles(other_lines, boilerplate))
    # Left out of both texts by their words, not only by whole paragraphs: a copy's sign-off with a
    # word changed is not the newsletter's paragraph any more, but still its boilerplate.
    both = lines if same else lines + other_lines
    common = set().union(*(fp.shingles(text) for h, text in both if h in boilerplate))
    own = _content_shingles(lines, boilerplate) - common
    return fp.compare(own, own if same else _content_shingles(other_lines, boilerplate) - common)


def regroup(session: Session, issue_id: int, matches: list[Match]) -> None:
    """Put the issue in one work with its matches (merging their works), or take it out of a work none
    of whose members it matches any more; then elect the work's primary copy."""
    member = _sql(session, "SELECT work_id FROM work_members WHERE issue_id = ?", (issue_id,)).scalar()
    matched = sorted({m.issue_id for m in matches})
    if member is not None:
        mates = set(_sql(session, "SELECT issue_id FROM work_members WHERE work_id = ? AND issue_id != ?",
                         (member, issue_id)).scalars())
        if not mates.intersection(matched):
            _leave(session, issue_id, member)
            member = None
    if not matches:
        return
    now = utc_now_iso()
    current = dict(_sql(session, f"SELECT issue_id, work_id FROM work_members WHERE issue_id IN ({_marks(matched)})",
                        matched).all())
    works = set(current.values()) | ({member} if member is not None else set())
    if works:
        work_id = min(works)
        others = sorted(works - {work_id})
        if others:
            _sql(session, f"UPDATE work_members SET work_id = ? WHERE work_id IN ({_marks(others)})",
                 [work_id, *others])
            _sql(session, f"DELETE FROM works WHERE id IN ({_marks(others)})", others)
    else:
        work = Work(created_at=now, updated_at=now)
        session.add(work)
        session.flush()
        work_id = work.id
    best = matches[0]
    joining = [] if member is not None else [(issue_id, work_id, best.issue_id, best.similarity)]
    joining += [(m.issue_id, work_id, issue_id, m.similarity) for m in matches if m.issue_id not in current]
    if joining:
        _sql(session, "INSERT INTO work_members (issue_id, work_id, matched_issue_id, similarity, containment, reason, "
                      "joined_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
             [(who, work, matched_to, round(sim.jaccard, 4), round(sim.containment, 4), NEAR_DUPLICATE, now)
              for who, work, matched_to, sim in joining])
    elect(session, work_id)


def _leave(session: Session, issue_id: int, work_id: int) -> None:
    """Take an issue out of its work; a work left with one issue is dissolved."""
    _sql(session, "DELETE FROM work_members WHERE issue_id = ?", (issue_id,))
    _sql(session, "UPDATE issues SET copy_of = NULL WHERE id = ?", (issue_id,))
    remaining = _sql(session, "SELECT issue_id FROM work_members WHERE work_id = ?", (work_id,)).scalars().all()
    if len(remaining) >= 2:
        elect(session, work_id)
        return
    if remaining:
        _sql(session, "UPDATE issues SET copy_of = NULL WHERE id = ?", (remaining[0],))
    _sql(session, "DELETE FROM work_members WHERE work_id = ?", (work_id,))
    _sql(session, "DELETE FROM works WHERE id = ?", (work_id,))


# Electing the primary copy ---------------------------------------------------------------------------


def preferred_platforms(session: Session) -> list[str]:
    """The platform preference stored with the archive (``tomtalks duplicates --prefer``), else none."""
    value = _sql(session, "SELECT value FROM archive_settings WHERE key = ?", (PREFER_PLATFORMS,)).scalar()
    if isinstance(value, str):
        value = json.loads(value)
    return [str(p).lower() for p in value] if isinstance(value, list) else []


def set_preferred_platforms(session: Session, platforms: list[str]) -> None:
    """Store the preference and elect every work's primary again by it."""
    row = session.get(ArchiveSetting, PREFER_PLATFORMS)
    if row is None:
        session.add(ArchiveSetting(key=PREFER_PLATFORMS, value=platforms))
    else:
        row.value = platforms
    session.flush()
    for work_id in session.scalars(select(Work.id)).all():
        elect(session, work_id)


@lru_cache(maxsize=4096)
def _alias_url(url: str) -> str:
    """``identity.alias_url``, remembered: ``elect`` normalises every member's declared URLs each time its
    work changes (a work of twenty copies: forty URLs a store)."""
    from tomtalks_scraper.extraction.identity import alias_url

    return alias_url(url)


def elect(session: Session, work_id: int) -> int | None:
    """Choose the work's primary copy and point the others to it.

    Order: never a content-farm copy; a full text before a paywalled preview or a sign-in wall; the
    user's preferred platforms (``archive_settings``) in their order; an issue another member
    declares as its original (its canonical or likely original URL is one of this issue's aliases);
    a platform's page before a generic page; the earliest published; the first stored. A farm copy
    in the work takes the primary's author and date.
    """
    rows = _sql(session, "SELECT i.id, i.platform, i.access, i.published_at, i.first_seen_at, i.canonical_url, "
                         "i.copy_of, c.is_farm, c.likely_original_url FROM work_members m "
                         "JOIN issues i ON i.id = m.issue_id "
                         "LEFT JOIN issue_copies c ON c.issue_id = i.id WHERE m.work_id = ?", (work_id,)).all()
    if not rows:
        return None
    declares = {r.id: {_alias_url(u) for u in (r.canonical_url, r.likely_original_url) if u} for r in rows}
    urls, ids = sorted(set().union(*declares.values())), sorted(declares)
    owners = _sql(session, f"SELECT url, issue_id FROM issue_aliases WHERE url IN ({_marks(urls)}) "
                           f"AND issue_id IN ({_marks(ids)})", [*urls, *ids]).all() if urls else []
    named = {owner for url, owner in owners if any(url in found for r, found in declares.items() if r != owner)}
    prefer = preferred_platforms(session)

    def rank(row: Any) -> tuple:
        return (bool(row.is_farm), row.access in _PARTIAL_ACCESS,
                prefer.index(row.platform) if row.platform in prefer else len(prefer),
                row.id not in named, row.platform == "generic", row.published_at or "9999", row.first_seen_at or "",
                row.id)

    primary = min(rows, key=rank)
    _sql(session, "UPDATE works SET primary_issue_id = ?, updated_at = ? WHERE id = ?",
         (primary.id, utc_now_iso(), work_id))
    # Only the rows whose pointer moves: a work of twenty copies gains a member without rewriting the others.
    if primary.copy_of is not None:
        _sql(session, "UPDATE issues SET copy_of = NULL WHERE id = ?", (primary.id,))
    others = [r.id for r in rows if r.id != primary.id and r.copy_of != primary.id]
    if others:
        _sql(session, f"UPDATE issues SET copy_of = ? WHERE id IN ({_marks(others)})", [primary.id, *others])
    farms = [r.id for r in rows if r.is_farm and r.id != primary.id]
    if farms and not primary.is_farm:
        author, authors, published = session.execute(
            select(Issue.author, Issue.authors, Issue.published_at).where(Issue.id == primary.id)).one()
        for farm_id in farms:  # through the ORM: the farm row may be in this session with its own claims pending
            farm = session.get(Issue, farm_id)
            if farm is not None:
                farm.author, farm.authors, farm.published_at = author, list(authors or []), published
    return primary.id


# Backfill --------------------------------------------------------------------------------------------


def unindexed_ids(session: Session) -> list[int]:
    """Issues stored before duplicates were tracked (or whose fingerprint is gone), oldest first."""
    query = (select(Issue.id).outerjoin(IssueFingerprint, IssueFingerprint.issue_id == Issue.id)
             .where(IssueFingerprint.issue_id.is_(None)).order_by(Issue.id))
    return list(session.scalars(query))


def index_existing(session: Session, issue_id: int) -> None:
    """Identity, aliases, copy evidence and grouping for an issue already stored (from its saved page)."""
    from storage.writes import decompress_html
    from tomtalks_scraper.extraction.identity import identify

    issue = session.get(Issue, issue_id)
    if issue is None:
        return
    raw_html = decompress_html(issue.raw_html_gz)
    tree = _parse(raw_html)
    identity = identify(issue.url, issue.canonical_url, issue.platform, raw_html, tree)
    _set_identity_key(session, issue, identity.key)
    record_aliases(session, issue.id, identity.aliases)
    if tree is not None:
        _record_copy_evidence(session, issue, issue.url, tree, stored=True)
    index_issue(session, issue, force=True)


def forget_all(session: Session) -> None:
    """Drop every fingerprint, work and copy record (identity keys and aliases stay): before a rebuild."""
    for model in (FingerprintBand, IssueLine, IssueFingerprint, WorkMember, Work):
        session.execute(delete(model))
    session.execute(update(Issue).where(Issue.copy_of.is_not(None)).values(copy_of=None))
