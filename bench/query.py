"""Query and export speed on a large archive: search, list, show, and exports, against the targets.

Targets (100,000 issues of ~500 words): search p95 < 50 ms, list with filters p95 < 20 ms, show
< 10 ms, export of 10,000 issues to Markdown < 30 s and to JSON Lines < 10 s. Every figure goes
through ``storage.Archive``, the API the ``tomtalks`` command is a thin layer on (Python start-up
and argument parsing, ~0.5 s per command, are not counted).

Run from the repository root::

    .venv/bin/python bench/query.py [--issues 100000] [--repeat 5] [--proposed-indexes] [--out results.json]

The archive is generated once into ``data/bench/query-<N>.db`` (``--regenerate`` to redo it) and
reused. ``--proposed-indexes`` also measures list and search with the composite indexes asked for
in docs/benchmarks.md (created on the benchmark archive, dropped afterwards). A Markdown report
goes to stdout, progress to stderr.

The archive
-----------

Why synthetic: the benchmark needs 100,000 issues, far more than any corpus shipped with the project.
To make full-text search behave as it would on real newsletters, words follow a Zipf law (a few very
common words, a long tail of rare ones) over a vocabulary of English words taken from the bundled demo
newsletter, ranked by their frequency there, followed by ~50,000 generated pseudo-words. Issues belong
to ten newsletters with a few authors each, span 2012–2025, and mix free, paid and preview access.

Rows are written with SQLAlchemy core ``insert`` in batches (one transaction per batch) on the real
schema, so the FTS triggers index every issue exactly as the crawl's writes do.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import os
import platform
import random
import re
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from storage import Archive
from storage.models import Issue, Newsletter
from storage.queries import IssueFilter

PROPOSED_INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_issues_newsletter_published ON issues (newsletter_id, published_at)",
    "CREATE INDEX IF NOT EXISTS ix_issues_access_published ON issues (access, published_at)",
)
DROP_PROPOSED = (
    "DROP INDEX IF EXISTS ix_issues_newsletter_published",
    "DROP INDEX IF EXISTS ix_issues_access_published",
)

NEWSLETTERS = (
    ("Signal Weekly", "substack", ("Ada Moreau", "Ben Okafor")),
    ("The Margin", "ghost", ("Clara Jensen",)),
    ("Ops Notes", "buttondown", ("Dev Patel", "Eli Cohen", "Fatima Zahra")),
    ("Field Report", "beehiiv", ("Gus Ferreira",)),
    ("Long Context", "substack", ("Hana Sato", "Ivan Petrov")),
    ("Tidewater Letters", "wordpress", ("Jo March",)),
    ("Build Log", "medium", ("Kwame Mensah", "Lena Fischer")),
    ("Quarterly Quiet", "mailchimp", ("Mira Novak",)),
    ("Practical Models", "linkedin", ("Nils Berg", "Olu Ade", "Priya Rao")),
    ("Night Shift", "generic", ("Quinn Harper",)),
)
ACCESS_MIX = (("free", 0.82), ("paid_full", 0.08), ("paid_preview", 0.07), ("login_wall", 0.03))
_SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]


def vocabulary(synthetic: int = 50_000, seed: int = 7) -> list[str]:
    """Words ranked most frequent first: the demo newsletter's words, then generated pseudo-words."""
    counts: Counter[str] = Counter()
    folder = resources.files("tomtalks_scraper.demo_site") / "issues"
    for file in folder.iterdir():
        if file.name.endswith(".md"):
            counts.update(w.lower() for w in re.findall(r"[A-Za-z][a-z']+", file.read_text(encoding="utf-8")))
    words = [w for w, _ in counts.most_common()]
    seen = set(words)
    rng = random.Random(seed)
    wanted = len(words) + synthetic
    while len(words) < wanted:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 2, 3, 3, 3, 4))))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class TextMaker:
    """Paragraphs of sentences drawn from a Zipf-weighted vocabulary (exponent 1.05, as in English)."""

    def __init__(self, words: list[str], seed: int) -> None:
        self.words = words
        self.cum = list(itertools.accumulate(1 / (rank + 1) ** 1.05 for rank in range(len(words))))
        self.rng = random.Random(seed)

    def sentence(self, n: int) -> str:
        words = self.rng.choices(self.words, cum_weights=self.cum, k=n)
        return words[0].capitalize() + " " + " ".join(words[1:]) + "."

    def paragraphs(self, target_words: int) -> list[str]:
        out, total = [], 0
        while total < target_words:
            sentences = [self.sentence(self.rng.randint(8, 24)) for _ in range(self.rng.randint(2, 6))]
            out.append(" ".join(sentences))
            total += sum(s.count(" ") + 1 for s in sentences)
        return out

    def title(self) -> str:
        return " ".join(self.rng.choices(self.words[40:3000], k=self.rng.randint(3, 9))).capitalize()


def _issue_rows(count: int, newsletter_ids: list[int], seed: int) -> Iterator[dict[str, Any]]:
    maker = TextMaker(vocabulary(), seed)
    rng = maker.rng
    start = time.mktime((2012, 1, 1, 0, 0, 0, 0, 0, 0))
    span = time.mktime((2025, 12, 31, 0, 0, 0, 0, 0, 0)) - start
    access_values = [a for a, _ in ACCESS_MIX]
    access_weights = [w for _, w in ACCESS_MIX]
    for n in range(count):
        slot = n % len(NEWSLETTERS)
        name, platform, authors = NEWSLETTERS[slot]
        chosen = [rng.choice(authors)] if rng.random() > 0.1 or len(authors) == 1 else list(authors[:2])
        paragraphs = maker.paragraphs(max(60, int(rng.gauss(500, 120))) if rng.random() > 0.02 else 60)
        body_text = "\n".join(paragraphs)
        title = maker.title()
        host = re.sub(r"[^a-z]+", "", name.lower()) + ".example"
        image = f"https://{host}/img/{n}.jpg"
        markdown = "\n\n".join(paragraphs[:1] + [f"![figure {n}]({image})"] + paragraphs[1:])
        markdown += f"\n\n[Read more](https://{host}/p/{n}/more)"
        html = "".join(f"<p>{p}</p>" for p in paragraphs) + f'<p><img src="{image}" alt="figure {n}"></p>'
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + rng.random() * span))
        yield {
            "newsletter_id": newsletter_ids[slot], "url": f"https://{host}/p/{n}", "canonical_url": None,
            "platform": platform, "title": title, "author": ", ".join(chosen), "authors": chosen,
            "published_at": when if rng.random() > 0.01 else None, "modified_at": None,
            "description": paragraphs[0][:160], "tags": rng.sample(maker.words[200:260], rng.randint(0, 3)),
            "image_url": image, "language": "en", "body_text": body_text, "body_markdown": markdown,
            "body_html": html, "raw_html_gz": None, "word_count": len(body_text.split()),
            "content_hash": hashlib.sha256(body_text.encode()).hexdigest(), "http_status": 200,
            "extractor": "bench", "extractor_version": "1", "fetched_at": "2026-01-01T00:00:00Z",
            "first_seen_at": "2026-01-01T00:00:00Z", "subtitle": None, "issue_number": n // len(NEWSLETTERS) + 1,
            "volume": None, "access": rng.choices(access_values, access_weights)[0],
        }


def generate(path: Path, count: int, seed: int = 1, batch: int = 2_000) -> float:
    """Create ``path`` with ``count`` issues; returns the seconds it took (text generation included)."""
    started = time.perf_counter()
    archive = Archive.open(str(path), create=True)
    try:
        with archive.engine.begin() as connection:
            connection.execute(insert(Newsletter), [
                {"name": name, "home_url": f"https://{re.sub(r'[^a-z]+', '', name.lower())}.example/",
                 "platform": platform, "created_at": "2026-01-01T00:00:00Z"}
                for name, platform, _ in NEWSLETTERS
            ])
            by_name = dict(connection.execute(select(Newsletter.name, Newsletter.id)).all())
        ids = [by_name[name] for name, _, _ in NEWSLETTERS]
        rows = _issue_rows(count, ids, seed)
        while chunk := list(itertools.islice(rows, batch)):
            with archive.engine.begin() as connection:
                connection.execute(insert(Issue), chunk)
    finally:
        archive.close()
    return time.perf_counter() - started


# Measuring -----------------------------------------------------------------------------------------

@dataclass
class Timings:
    """Wall and CPU milliseconds of repeated runs of one kind of operation."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def time(self, operation: Callable[[], object]) -> object:
        wall, cpu = time.perf_counter(), time.process_time()
        result = operation()
        self.wall.append((time.perf_counter() - wall) * 1000)
        self.cpu.append((time.process_time() - cpu) * 1000)
        return result

    def summary(self) -> dict[str, float]:
        return {"runs": len(self.wall), "p50_ms": percentile(self.wall, 50), "p95_ms": percentile(self.wall, 95),
                "max_ms": round(max(self.wall), 1), "cpu_p95_ms": percentile(self.cpu, 95)}


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = max(0, math.ceil(pct / 100 * len(ordered)) - 1)
    return round(ordered[index], 1)


def search_queries(words: list[str], seed: int = 3) -> tuple[list[tuple[str, IssueFilter]], list[str]]:
    """The realistic mix (what people type: topic words, phrases, prefixes, operators, filters) and
    the stress set (words in most issues), as (query, filter) pairs."""
    rng = random.Random(seed)

    def topic() -> str:  # log-uniform over ranks 150–40,000: from "fairly common" to "rare"
        return words[int(math.exp(rng.uniform(math.log(150), math.log(40_000))))]

    maker = TextMaker(words, seed)
    plain = IssueFilter(limit=20)
    mix: list[tuple[str, IssueFilter]] = [(topic(), plain) for _ in range(12)]
    for _ in range(6):  # phrases as they occur in text: consecutive words of a generated sentence
        sentence = maker.sentence(12).rstrip(".").lower().split()
        start = rng.randrange(0, len(sentence) - 3)
        mix.append(('"' + " ".join(sentence[start:start + rng.choice((2, 3))]) + '"', plain))
    mix += [(topic()[:5] + "*", plain) for _ in range(4)]
    mix += [(f"{topic()} {op} {topic()}", plain) for op in ("AND", "OR", "NOT", "AND", "OR", "NOT")]
    filters = [IssueFilter(newsletter="The Margin", limit=20), IssueFilter(author="jensen", limit=20),
               IssueFilter(since="2020-01-01", until="2021-12-31", limit=20),
               IssueFilter(access="paid_full", limit=20), IssueFilter(newsletter="Ops Notes", since="2018-01-01",
                                                                       limit=20),
               IssueFilter(author="dev patel", access="free", limit=20)]
    mix += [(topic(), where) for where in filters]
    stress = ["the", "data", "work", '"the data"', "dat*", "data AND the"]
    return mix, stress


LIST_FILTERS = (
    IssueFilter(), IssueFilter(newsletter="The Margin"), IssueFilter(newsletter="night shift"),
    IssueFilter(since="2020-01-01", until="2020-03-31"), IssueFilter(until="2012-06-30"),
    IssueFilter(author="clara"), IssueFilter(author="ivan petrov"), IssueFilter(author="nobody here"),
    IssueFilter(access="free"), IssueFilter(access="login_wall"), IssueFilter(access="paid_preview"),
    IssueFilter(newsletter="Ops Notes", access="paid_full", since="2016-01-01"),
    IssueFilter(newsletter="Build Log", author="lena"), IssueFilter(since="2025-01-01", access="free"),
)


def measure_reads(archive: Archive, words: list[str], repeat: int) -> dict[str, Any]:
    mix, stress = search_queries(words)
    results: dict[str, Any] = {}
    for sort in ("relevance", "date"):
        timings = Timings()
        for query, where in mix:
            archive.search(query, where, sort=sort)  # warm the page cache once, as a second search would
            for _ in range(repeat):
                timings.time(lambda q=query, w=where, s=sort: archive.search(q, w, sort=s))
        results[f"search ({sort}), realistic mix of {len(mix)} queries"] = timings.summary()
    for sort in ("relevance", "date"):
        per_query = {}
        for query in stress:
            timings = Timings()
            archive.search(query, IssueFilter(limit=20), sort=sort)
            for _ in range(repeat):
                timings.time(lambda q=query, s=sort: archive.search(q, IssueFilter(limit=20), sort=s))
            per_query[query] = timings.summary()["p50_ms"]
        results[f"search ({sort}), stress: words in most issues (p50 ms each)"] = per_query
    timings = Timings()
    for where in LIST_FILTERS:
        archive.list(where)
        for _ in range(repeat):
            timings.time(lambda w=where: archive.list(w))
    results[f"list, {len(LIST_FILTERS)} filter combinations (50 rows)"] = timings.summary()
    slowest = {}
    for where in LIST_FILTERS:
        one = Timings()
        for _ in range(repeat):
            one.time(lambda w=where: archive.list(w))
        slowest[_describe(where)] = one.summary()["p50_ms"]
    results["list, p50 ms per filter"] = slowest
    total = archive.count()
    rng = random.Random(5)
    timings = Timings()
    for _ in range(200 * max(1, repeat // 5)):
        issue_id = rng.randint(1, total)
        timings.time(lambda i=issue_id: archive.get(i))
    results["show (by id, 200 random issues)"] = timings.summary()
    return results


def _describe(where: IssueFilter) -> str:
    parts = [f"{k}={v}" for k, v in vars(where).items() if v is not None and k != "limit"]
    return ", ".join(parts) or "no filter"


def measure_exports(archive: Archive) -> dict[str, Any]:
    """Export one newsletter (10,000 issues in the 100,000-issue archive) in each format."""
    where = IssueFilter(newsletter=NEWSLETTERS[0][0], limit=None)
    count = archive.count(where)
    results: dict[str, Any] = {"issues exported": count}
    with tempfile.TemporaryDirectory() as folder:
        for fmt, target in (("markdown", "md"), ("jsonl", "issues.jsonl"), ("csv", "issues.csv"),
                            ("epub", "book.epub")):
            print(f"  export {fmt} …", file=sys.stderr)
            started = time.perf_counter()
            files = archive.export(fmt, Path(folder) / target, where)
            seconds = time.perf_counter() - started
            size = sum(f.stat().st_size for f in files)
            results[f"export {fmt}"] = {"seconds": round(seconds, 2), "files": len(files), "mb": round(size / 1e6, 1)}
    return results


def set_proposed_indexes(path: Path, present: bool) -> float:
    started = time.perf_counter()
    with sqlite3.connect(path) as connection:
        for statement in PROPOSED_INDEXES if present else DROP_PROPOSED:
            connection.execute(statement)
    return time.perf_counter() - started


def report(results: dict[str, Any]) -> str:
    lines = []
    for section, data in results.items():
        lines.append(f"\n### {section}\n")
        if isinstance(data, dict):
            lines += ["| measure | value |", "|---|---|"]
            lines += [f"| {k} | {json.dumps(v) if isinstance(v, dict) else v} |" for k, v in data.items()]
        else:
            lines.append(str(data))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--db", type=Path, help="archive to generate or reuse (default data/bench/query-N.db)")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each query (default 5)")
    parser.add_argument("--proposed-indexes", action="store_true",
                        help="measure list and search again with the composite indexes proposed in the docs")
    parser.add_argument("--no-exports", action="store_true")
    parser.add_argument("--out", type=Path, help="write the results as JSON too")
    args = parser.parse_args()
    path = args.db or Path("data/bench") / f"query-{args.issues}.db"
    sidecar = path.with_suffix(".json")
    if args.regenerate or not path.exists():
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        print(f"generating {args.issues} issues into {path} …", file=sys.stderr)
        seconds = generate(path, args.issues)
        sidecar.write_text(json.dumps({"issues": args.issues, "generation_seconds": round(seconds, 1)}))
    generation = json.loads(sidecar.read_text()) if sidecar.exists() else {}
    set_proposed_indexes(path, present=False)  # measure the schema as the migrations leave it
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "cpus": os.cpu_count(),
            "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "archive": str(path), "size_mb": round(path.stat().st_size / 1e6), **generation,
        }
    }
    archive = Archive.open(str(path))
    try:
        words = vocabulary()
        print("measuring reads …", file=sys.stderr)
        results["reads, schema as migrated (0001–head)"] = measure_reads(archive, words, args.repeat)
        if args.proposed_indexes:
            archive.close()
            seconds = set_proposed_indexes(path, present=True)
            archive = Archive.open(str(path))
            print("measuring reads with the proposed indexes …", file=sys.stderr)
            reads = measure_reads(archive, words, args.repeat)
            reads["creating the two indexes took (s)"] = round(seconds, 1)
            results["reads, with the proposed composite indexes"] = reads
            archive.close()
            set_proposed_indexes(path, present=False)
            archive = Archive.open(str(path))
        if not args.no_exports:
            print("measuring exports …", file=sys.stderr)
            results["exports (one newsletter)"] = measure_exports(archive)
    finally:
        archive.close()
    results["machine"]["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(report(results))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
