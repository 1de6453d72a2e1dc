"""Near-duplicate detection on a generated archive: precision, recall and the cost per stored issue.

Targets (20,000 issues of which 2,000 are planted near-duplicates): precision ≥ 0.99 and recall ≥ 0.95
on the planted pairs; the duplicate check adds < 5 ms per stored issue with 20,000 issues stored.

Run from the repository root::

    .venv/bin/python bench/duplicates.py [--issues 20000] [--planted 2000] [--seed 1] [--out results.json]

Every issue is stored through ``storage.writes.upsert_issue`` (the crawl's write path, one transaction
each) into a fresh SQLite archive under ``data/bench/``, in a shuffled order (a copy is often stored
before its original). The duplicate check (``storage.works.after_upsert``) is timed on its own around
each call; the whole store is timed too. A Markdown report goes to stdout, progress to stderr.

The archive
-----------

40 newsletters of generated text (Zipf-distributed words: ``bench/query.py``'s vocabulary). Each
newsletter has its own intro (0–40 words) and sign-off (0–150 words) shared by all its issues, and
its own issue length (means from 150 to 1,200 words): different issues of one newsletter are the hard
negatives, as in the demo site where all 13 issues open with the same sentence.

The planted near-duplicates are copies of 1,800 originals (200 of them copied twice), stored under
other newsletters and platforms, each made by one or two of these changes, chosen beforehand to look
like what cross-posts and content farms do:

* ``edits``: 2–8 % of the words substituted, deleted or inserted; one sentence in three copies added
  or removed;
* ``chrome``: the intro and/or sign-off dropped, other chrome added (a 5–40-word header, a 10–150-word
  footer such as a farm's "Top Articles" list of link titles);
* ``truncation``: only the first paragraphs, up to 40–90 % of the words (a paywalled preview, a copy cut short);
* ``reorder``: one to three paragraphs moved elsewhere.

A pair counts as found when both issues end up in one work. True pairs are all pairs of issues made
from the same original (original–copy and copy–copy); every other pair in a work is a false positive.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.query import TextMaker, percentile, vocabulary  # noqa: E402
from storage import works  # noqa: E402
from storage.db import make_engine, session_factory, transaction  # noqa: E402
from storage.models import Issue, WorkMember  # noqa: E402
from storage.writes import upsert_issue  # noqa: E402

PLATFORMS = ("substack", "linkedin", "ghost", "beehiiv", "medium", "wordpress", "buttondown", "generic")
TRANSFORMS = ("edits", "chrome", "truncation", "reorder")
COPY_SITES = (("Farm Digest", "generic"), ("Mirror Daily", "generic"), ("Reposted Weekly", "medium"),
              ("Cross Post", "linkedin"), ("Archive Copy", "mailchimp"))


@dataclass
class Doc:
    """One issue to store, with what the benchmark knows and the archive must find out."""

    key: str  # unique URL path part
    newsletter: str
    platform: str
    title: str
    paragraphs: list[str]
    published_at: str
    family: int  # the original's number: issues of one family are copies of each other
    transforms: tuple[str, ...] = ()


@dataclass
class Newsletter:
    name: str
    platform: str
    intro: list[str]
    signoff: list[str]
    mean_words: int
    count: int = 0


@dataclass
class Generated:
    docs: list[Doc] = field(default_factory=list)
    planted: int = 0


def _words_of(paragraphs: list[str]) -> int:
    return sum(p.count(" ") + 1 for p in paragraphs)


def _newsletters(maker: TextMaker, count: int) -> list[Newsletter]:
    rng = maker.rng
    out = []
    for n in range(count):
        intro_words = rng.choice((0, 5, 8, 12, 20, 40))
        signoff_words = rng.choice((0, 20, 40, 80, 120, 150))
        intro = [maker.sentence(intro_words)] if intro_words else []
        signoff = maker.paragraphs(signoff_words) if signoff_words else []
        mean = rng.choice((150, 250, 400, 600, 900, 1200))
        out.append(Newsletter(f"Letter {n:02d}", PLATFORMS[n % len(PLATFORMS)], intro, signoff, mean))
    return out


def _date(rng: random.Random) -> str:
    start = time.mktime((2016, 1, 1, 0, 0, 0, 0, 0, 0))
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + rng.random() * 9 * 365 * 86400))


def _shift(date: str, days: float) -> str:
    seconds = time.mktime(time.strptime(date, "%Y-%m-%dT%H:%M:%SZ")) + days * 86400
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.localtime(seconds))


def _edit(paragraphs: list[str], maker: TextMaker) -> list[str]:
    rng = maker.rng
    rate = rng.uniform(0.02, 0.08)
    edited = []
    for paragraph in paragraphs:
        out = []
        for word in paragraph.split(" "):
            roll = rng.random()
            if roll < rate * 0.6:
                out.append(rng.choice(maker.words[:5000]))
            elif roll < rate * 0.8:
                continue
            elif roll < rate:
                out += [word, rng.choice(maker.words[:5000])]
            else:
                out.append(word)
        edited.append(" ".join(out) or paragraph)
    if rng.random() < 1 / 3:
        where = rng.randrange(len(edited))
        if rng.random() < 0.5 or len(edited) < 3:
            edited.insert(where, maker.sentence(rng.randint(8, 24)))
        else:
            sentences = edited[where].split(". ")
            if len(sentences) > 1:
                sentences.pop(rng.randrange(len(sentences)))
                edited[where] = ". ".join(sentences)
    return edited


def _chrome(paragraphs: list[str], letter: Newsletter, maker: TextMaker) -> list[str]:
    rng = maker.rng
    body = list(paragraphs)
    if letter.intro and body[:len(letter.intro)] == letter.intro and rng.random() < 0.6:
        body = body[len(letter.intro):]
    if letter.signoff and body[-len(letter.signoff):] == letter.signoff and rng.random() < 0.6:
        body = body[:-len(letter.signoff)]
    header = [maker.sentence(rng.randint(5, 40))] if rng.random() < 0.7 else []
    footer_words = rng.randint(10, 150)
    if rng.random() < 0.5:  # a farm's list of unrelated link titles
        footer = ["Top Articles"] + [maker.title() for _ in range(max(2, footer_words // 6))]
    else:
        footer = maker.paragraphs(footer_words)
    return header + body + footer


def _truncate(paragraphs: list[str], maker: TextMaker) -> list[str]:
    """The first paragraphs up to 40–90 % of the words (at least one paragraph)."""
    budget = _words_of(paragraphs) * maker.rng.uniform(0.4, 0.9)
    kept: list[str] = []
    for paragraph in paragraphs:
        if kept and _words_of(kept + [paragraph]) > budget:
            break
        kept.append(paragraph)
    return kept


def _reorder(paragraphs: list[str], maker: TextMaker) -> list[str]:
    body = list(paragraphs)
    for _ in range(maker.rng.randint(1, 3)):
        if len(body) < 2:
            break
        body.insert(maker.rng.randrange(len(body)), body.pop(maker.rng.randrange(len(body))))
    return body


def generate(issues: int, planted: int, seed: int) -> Generated:
    """The issues to store: ``issues - planted`` originals and ``planted`` copies, shuffled."""
    maker = TextMaker(vocabulary(), seed)
    rng = maker.rng
    letters = _newsletters(maker, 40)
    originals: list[tuple[Doc, Newsletter]] = []
    for n in range(issues - planted):
        letter = rng.choice(letters)
        letter.count += 1
        target = max(40, int(rng.gauss(letter.mean_words, letter.mean_words / 4)))
        paragraphs = letter.intro + maker.paragraphs(target) + letter.signoff
        doc = Doc(f"{letter.platform}/{n}", letter.name, letter.platform, maker.title(), paragraphs, _date(rng), n)
        originals.append((doc, letter))
    twice = planted // 10
    chosen = rng.sample(range(len(originals)), planted - twice)
    families = chosen + chosen[:twice]
    out = Generated(docs=[doc for doc, _ in originals], planted=planted)
    apply = {"edits": lambda p, letter: _edit(p, maker), "chrome": lambda p, letter: _chrome(p, letter, maker),
             "truncation": lambda p, letter: _truncate(p, maker), "reorder": lambda p, letter: _reorder(p, maker)}
    for m, family in enumerate(families):
        original, letter = originals[family]
        transforms = tuple(sorted(rng.sample(TRANSFORMS, rng.choice((1, 1, 2)))))
        paragraphs = list(original.paragraphs)
        for name in transforms:
            paragraphs = apply[name](paragraphs, letter)
        site, site_platform = rng.choice(COPY_SITES)
        title = original.title if rng.random() < 0.8 else original.title + " (2024)"
        doc = Doc(f"copy/{m}", site, site_platform, title, paragraphs,
                  _shift(original.published_at, rng.uniform(-3, 30)), original.family, transforms)
        out.docs.append(doc)
    rng.shuffle(out.docs)
    return out


# Storing and measuring -------------------------------------------------------------------------------


class TimedCheck:
    """Wraps ``works.after_upsert`` (called by ``upsert_issue``) to time the duplicate check alone."""

    def __init__(self) -> None:
        self.original = works.after_upsert
        self.times: list[float] = []
        self.cpu: list[float] = []  # CPU time: what the check costs when other processes share the machine

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return self.original(*args, **kwargs)
        finally:
            self.times.append((time.perf_counter() - started) * 1000)
            self.cpu.append((time.process_time() - cpu) * 1000)

    def __enter__(self) -> TimedCheck:
        works.after_upsert = self  # type: ignore[assignment]
        return self

    def __exit__(self, *_: object) -> None:
        works.after_upsert = self.original  # type: ignore[assignment]


def store_all(path: Path, docs: list[Doc]) -> tuple[list[float], list[float], list[float], dict[str, int]]:
    """Store every doc through ``upsert_issue``; returns per-issue ms (check wall and CPU, whole store) and
    ids by key."""
    if path.exists():
        path.unlink()
    engine = make_engine(f"sqlite:///{path}", create=True)
    sessions = session_factory(engine)
    ids: dict[str, int] = {}
    whole: list[float] = []
    with TimedCheck() as check:
        for n, doc in enumerate(docs):
            body = "\n".join(doc.paragraphs)
            values = {
                "platform": doc.platform, "title": doc.title, "author": "Bench Author", "authors": ["Bench Author"],
                "published_at": doc.published_at, "body_text": body, "body_markdown": body,
                "body_html": "".join(f"<p>{p}</p>" for p in doc.paragraphs), "word_count": _words_of(doc.paragraphs),
                "content_hash": hashlib.sha256(body.encode()).hexdigest(), "http_status": 200,
                "extractor": "bench", "extractor_version": "1", "access": "free",
            }
            started = time.perf_counter()
            with transaction(sessions) as session:
                result = upsert_issue(session, url=f"https://{doc.newsletter.replace(' ', '').lower()}.example/"
                                      f"{doc.key}", newsletter=doc.newsletter, newsletter_url=None, raw_html=None,
                                      values=values)
            whole.append((time.perf_counter() - started) * 1000)
            ids[doc.key] = result.issue_id
            if (n + 1) % 2000 == 0:
                print(f"  stored {n + 1:,} issues; check p50 {percentile(check.times[-2000:], 50)} ms",
                      file=sys.stderr)
    engine.dispose()
    return check.times, check.cpu, whole, ids


def evaluate(path: Path, docs: list[Doc], ids: dict[str, int]) -> dict[str, Any]:
    """Pairs found vs planted: precision, recall (overall and per change), and which copy is primary."""
    engine = make_engine(f"sqlite:///{path}", create=False)
    with session_factory(engine)() as session:
        members = session.execute(select(WorkMember.work_id, WorkMember.issue_id)).all()
        primaries = dict(session.execute(select(Issue.id, Issue.copy_of)).all())
    engine.dispose()
    by_id = {ids[doc.key]: doc for doc in docs}
    groups: dict[int, list[int]] = defaultdict(list)
    for work_id, issue_id in members:
        groups[work_id].append(issue_id)
    found = {frozenset(pair) for group in groups.values() for pair in itertools.combinations(group, 2)}
    families: dict[int, list[int]] = defaultdict(list)
    for doc in docs:
        families[doc.family].append(ids[doc.key])
    true = {frozenset(pair) for family in families.values() for pair in itertools.combinations(family, 2)}
    hit = found & true
    per_transform: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for doc in docs:
        if doc.transforms:
            original = next(i for i in families[doc.family] if not by_id[i].transforms)
            pair_found = frozenset((original, ids[doc.key])) in found
            for name in (*doc.transforms, "+".join(doc.transforms) if len(doc.transforms) > 1 else None):
                if name:
                    per_transform[name][0] += pair_found
                    per_transform[name][1] += 1
    false_pairs = found - true
    false_same_newsletter = sum(1 for pair in false_pairs
                                if len({by_id[i].newsletter for i in pair}) == 1)
    originals_primary = sum(1 for family in families.values() if len(family) > 1 and all(
        primaries[i] is None if not by_id[i].transforms else primaries[i] is not None for i in family))
    return {
        "true_pairs": len(true), "found_pairs": len(found), "correct_pairs": len(hit),
        "precision": round(len(hit) / len(found), 4) if found else 1.0,
        "recall": round(len(hit) / len(true), 4) if true else 1.0,
        "false_pairs": len(false_pairs), "false_pairs_same_newsletter": false_same_newsletter,
        "works": len(groups),
        "recall_by_change": {name: {"found": f, "planted": n, "recall": round(f / n, 4)}
                             for name, (f, n) in sorted(per_transform.items())},
        "families_with_original_primary": originals_primary,
        "families": sum(1 for family in families.values() if len(family) > 1),
    }


def timing_summary(times: list[float]) -> dict[str, float]:
    return {"mean_ms": round(statistics.fmean(times), 2), "p50_ms": percentile(times, 50),
            "p95_ms": percentile(times, 95), "p99_ms": percentile(times, 99), "max_ms": round(max(times), 1)}


def report(results: dict[str, Any]) -> str:
    q = results["quality"]
    lines = [
        f"Archive of {results['issues']:,} issues ({results['planted']:,} planted near-duplicates, seed "
        f"{results['seed']}); Python {results['python']}, SQLite {results['sqlite']}, "
        f"{results['machine']}, {results['cpus']} CPUs, load average at the end {results['load_average'][0]:.1f}.",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| precision (pairs in one work that are true copies) | {q['precision']:.4f} | ≥ 0.99 |",
        f"| recall (true pairs found in one work) | {q['recall']:.4f} | ≥ 0.95 |",
        f"| duplicate check per stored issue, last {results['tail']:,} stores (mean / p95) | "
        f"{results['check_tail']['mean_ms']} / {results['check_tail']['p95_ms']} ms | < 5 ms |",
        f"| the same, CPU time (mean / p95) | {results['check_cpu_tail']['mean_ms']} / "
        f"{results['check_cpu_tail']['p95_ms']} ms | < 5 ms |",
        f"| whole store per issue, last {results['tail']:,} (mean / p95) | "
        f"{results['store_tail']['mean_ms']} / {results['store_tail']['p95_ms']} ms | — |",
        "",
        f"Pairs: {q['true_pairs']:,} true, {q['found_pairs']:,} found, {q['correct_pairs']:,} correct, "
        f"{q['false_pairs']} false ({q['false_pairs_same_newsletter']} within one newsletter). "
        f"Works: {q['works']:,}; original elected primary in {q['families_with_original_primary']:,} of "
        f"{q['families']:,} families.",
        "",
        "| change | planted | found | recall |",
        "|---|---|---|---|",
    ]
    for name, row in q["recall_by_change"].items():
        lines.append(f"| {name} | {row['planted']} | {row['found']} | {row['recall']:.4f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--issues", type=int, default=20_000)
    parser.add_argument("--planted", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tail", type=int, default=2_000, help="report the check's cost over the last N stores")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    folder = Path("data/bench")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"duplicates-{args.issues}.db"
    print(f"Generating {args.issues:,} issues…", file=sys.stderr)
    generated = generate(args.issues, args.planted, args.seed)
    print(f"Storing them into {path}…", file=sys.stderr)
    check, check_cpu, whole, ids = store_all(path, generated.docs)
    results = {
        "issues": args.issues, "planted": args.planted, "seed": args.seed, "tail": args.tail,
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
        "machine": f"{platform.machine()}, {platform.system()}",
        "check_tail": timing_summary(check[-args.tail:]), "check_all": timing_summary(check),
        "check_cpu_tail": timing_summary(check_cpu[-args.tail:]), "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "store_tail": timing_summary(whole[-args.tail:]),
        "quality": evaluate(path, generated.docs, ids),
    }
    print(report(results))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
