"""Body extraction quality: our pipeline next to bare trafilatura, scored with the benchmark's metric.

Two corpora, both in ``../shared`` beside the repository:

(a) the article-extraction benchmark (92 news/blog pages with hand-made ground truth): our
    generic path (``extract_issue(html, url, platform="generic").body_text``), the same path with
    the default extraction every platform adapter uses (``run_trafilatura``, what the generic
    path ran before ``extraction/ensemble.py``), and bare ``trafilatura.extract`` with
    ``include_comments=False``, with and without ``favor_precision=True``. Each page is run through
    every extractor in turn, so load from other processes weighs on all of them alike. Scores come
    from the benchmark's own ``score.py`` (imported, not copied): precision and recall averaged
    over pages, F1 of the two means, ``fail`` = share of pages whose own F1 is below 0.5.
    Figures are also given on the even- and odd-indexed halves of the sorted page ids (the
    leave-half-out check: a rule tuned on one half should hold on the other).

(b) the real newsletter corpus (``corpus/real``): body F1 (same metric) of ``extract_issue(html,
    url)`` (platform detected as in a crawl; pages no adapter claims take the generic path), of the
    same with plain ``run_trafilatura`` as every adapter's body step, and of bare trafilatura against the text of
    Readability's ``<stem>.expected.html``; trafilatura's ``<stem>.trafilatura-evaldata.json``
    snippets (``with`` found, ``without`` leaked); and boilerplate leaks: strings that must not
    appear in the body, from the platform developers' ``tests/fixtures/<platform>/golden.json``
    (lists under keys containing ``not_in`` or named ``absent``) plus known platform chrome from
    ``../shared/docs/platforms.md`` §1 and §11.

(c) metadata: title, authors and published date of ``extract_issue`` against the hand-checked golden
    records (``tests/fixtures/<platform>/golden.json``: corpus pages and the platforms' own fixtures),
    and, as a second opinion, against the corpus's reference files (Readability's
    ``<stem>.expected-metadata.json``, trafilatura's evaldata). A field counts only on the pages whose
    reference gives it (a golden ``null`` means the page carries none: reported as "invented" when we
    output one anyway, since no date is better than a wrong one).

Run from the repository root::

    .venv/bin/python bench/extraction.py [--out FILE]

Progress goes to stderr, the tables to stdout, and with ``--out`` every figure as JSON. Exits
with code 2 when ``../shared`` is missing.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.util
import json
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import trafilatura
from lxml import etree
from lxml import html as lxml_html

from tomtalks_scraper.extraction.body import run_trafilatura
from tomtalks_scraper.extraction.issue import extract_issue, parse_html
from tomtalks_scraper.platforms import detect_platform
from tomtalks_scraper.platforms.base import PlatformAdapter

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BENCHMARK = SHARED / "benchmarks" / "article-extraction"
CORPUS = SHARED / "corpus" / "real"
FIXTURES = REPO / "tests" / "fixtures"

#: Platform chrome that must never reach a body (platforms.md §1, plus the UI strings of §11).
KNOWN_BOILERPLATE = (
    "Subscribe to",
    "member-only stories left",
    "What'd you think of today's email?",
    "Author by",
    "Recommended by LinkedIn",
    "More articles by",
    "Others also viewed",
    "Explore topics",
    "Report this article",
    "To view or add a comment, sign in",
    "Subscribe for free to receive new posts and support my work",
    "is a reader-supported publication",
)

#: Known strings that are chrome only as a block of their own (the "Subscribe to <Newsletter>" heading or
#: button); inside a paragraph they are the author's prose ("… every day. Subscribe to get Trader Tic's
#: thoughts."), so they count as leaks only at the start of a line of the body.
LINE_START_ONLY = frozenset({"Subscribe to"})

_STARTED = time.perf_counter()


def progress(message: str) -> None:
    print(f"[{time.perf_counter() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


def load_score_module() -> ModuleType:
    """The benchmark's ``score.py``, imported from the shared folder."""
    spec = importlib.util.spec_from_file_location("article_extraction_score", BENCHMARK / "score.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {BENCHMARK / 'score.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Extractors ------------------------------------------------------------------------------------

Extractor = Callable[[str, str], str]


@contextmanager
def default_extraction_on_generic() -> Iterator[None]:
    """Every adapter with plain ``run_trafilatura`` as its ``extract_body``: the generic path without the
    ensemble, and the adapters' known bodies without the embed and link-list steps (``PlatformAdapter``)."""
    with mock.patch.object(PlatformAdapter, "extract_body", lambda _self, tree, url: run_trafilatura(tree, url)):
        yield


def ours_generic(html: str, url: str) -> str:
    return extract_issue(html, url, platform="generic").body_text


def ours_default_extraction(html: str, url: str) -> str:
    with default_extraction_on_generic():
        return extract_issue(html, url, platform="generic").body_text


def ours_detected(html: str, url: str) -> str:
    return extract_issue(html, url).body_text


def ours_default_extraction_detected(html: str, url: str) -> str:
    with default_extraction_on_generic():
        return extract_issue(html, url).body_text


def bare(html: str, url: str) -> str:
    return trafilatura.extract(html, url=url, include_comments=False) or ""


def bare_precision(html: str, url: str) -> str:
    return trafilatura.extract(html, url=url, include_comments=False, favor_precision=True) or ""


# (a) The article-extraction benchmark -----------------------------------------------------------


@dataclass
class Scores:
    name: str
    P: float
    R: float
    F1: float
    fail: float
    pages_per_s: float
    F1_even: float
    F1_odd: float
    errors: int = 0
    per_page: dict[str, float] = field(default_factory=dict)  # page id -> F1


def score_outputs(score: ModuleType, name: str, ids: list[str], truth: dict[str, Any], texts: dict[str, str],
                  seconds: dict[str, float], errors: int) -> Scores:
    rows = []
    for page_id in ids:
        expected, predicted = truth[page_id]["articleBody"], texts[page_id]
        precision, recall, f1 = score.page_prf(*score.page_counts(expected, predicted))
        rows.append({"id": page_id, "p": precision, "r": recall, "f1": f1,
                     "exact": score.TOKEN.findall(expected) == score.TOKEN.findall(predicted)})
    total, even, odd = score.aggregate(rows), score.aggregate(rows[0::2]), score.aggregate(rows[1::2])
    return Scores(name=name, P=total["P"], R=total["R"], F1=total["F1"], fail=total["fail"],
                  pages_per_s=len(ids) / sum(seconds.values()), F1_even=even["F1"], F1_odd=odd["F1"],
                  errors=errors, per_page={row["id"]: row["f1"] for row in rows})


def run_benchmark(score: ModuleType) -> dict[str, Any]:
    truth = json.loads((BENCHMARK / "ground-truth.json").read_text("utf-8"))
    ids = sorted(truth)
    pages = {i: gzip.decompress((BENCHMARK / "html" / f"{i}.html.gz").read_bytes()).decode("utf-8", "replace")
             for i in ids}
    detected = {i: detect_platform(truth[i]["url"], parse_html(pages[i])).name for i in ids}
    not_generic = {i: name for i, name in detected.items() if name != "generic"}
    extractors: dict[str, Extractor] = {
        "tomtalks generic path (ensemble)": ours_generic,
        "tomtalks generic path, default extraction (before)": ours_default_extraction,
        "trafilatura extract(include_comments=False)": bare,
        "trafilatura extract(include_comments=False, favor_precision=True)": bare_precision,
    }
    if not_generic:  # what a crawl would store: some pages go to a platform adapter
        extractors["tomtalks extract_issue, platform detected"] = ours_detected
    for extractor in extractors.values():  # warm-up: imports, caches
        extractor(pages[ids[0]], truth[ids[0]]["url"])
    texts: dict[str, dict[str, str]] = {name: {} for name in extractors}
    seconds: dict[str, dict[str, float]] = {name: {} for name in extractors}
    errors = dict.fromkeys(extractors, 0)
    for number, page_id in enumerate(ids, 1):
        for name, extractor in extractors.items():
            started = time.perf_counter()
            try:
                texts[name][page_id] = extractor(pages[page_id], truth[page_id]["url"])
            except Exception as error:  # a page that breaks an extractor scores as empty output
                progress(f"{name}: {page_id[:12]} raised {error!r}")
                texts[name][page_id], errors[name] = "", errors[name] + 1
            seconds[name][page_id] = time.perf_counter() - started
        if number % 10 == 0 or number == len(ids):
            progress(f"benchmark: {number}/{len(ids)} pages")
    results = [score_outputs(score, name, ids, truth, texts[name], seconds[name], errors[name])
               for name in extractors]
    return {"pages": len(ids), "detected_platforms": not_generic, "results": results}


# (b) The real corpus ----------------------------------------------------------------------------

_BLOCK_TAGS = {"p", "div", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote",
               "pre", "table", "tr", "figure", "figcaption", "dd", "dt", "dl", "hr", "br", "header", "footer"}


def html_to_text(markup: str) -> str:
    """Readability's expected HTML as text: one line per block element, whitespace folded."""
    root = lxml_html.fragment_fromstring(markup, create_parent="div")
    etree.strip_elements(root, "script", "style", "noscript", with_tail=False)
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag in _BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
            if element.tag != "br":
                element.text = "\n" + (element.text or "")
    lines = (" ".join(line.split()) for line in root.text_content().splitlines())
    return "\n".join(line for line in lines if line)


@dataclass
class CorpusPage:
    path: Path
    url: str
    platform_dir: str
    expected_text: str | None = None
    evaldata: dict[str, Any] | None = None
    must_not_appear: list[str] = field(default_factory=list)
    golden_sources: list[str] = field(default_factory=list)


def corpus_urls() -> dict[str, str]:
    """Original URL of every corpus file, from ``sources.tsv``."""
    sources = CORPUS / "sources.tsv"
    if not sources.exists():
        return {}
    with sources.open(encoding="utf-8", newline="") as handle:
        return {row["file"]: row["original_url"] for row in csv.DictReader(handle, delimiter="\t")
                if row.get("file") and row.get("original_url")}


def _stem(path: Path) -> str:
    return path.name[: -len(".html")]


def corpus_pages() -> list[CorpusPage]:
    urls = corpus_urls()
    pages = []
    for path in sorted(CORPUS.rglob("*.html")):
        if path.name.endswith(".expected.html"):
            continue
        relative = path.relative_to(CORPUS).as_posix()
        stem = _stem(path)
        url_file = path.with_name(f"{stem}.url.txt")
        evaldata_file = path.with_name(f"{stem}.trafilatura-evaldata.json")
        expected_file = path.with_name(f"{stem}.expected.html")
        evaldata = None
        if evaldata_file.exists():
            (evaldata_url, evaldata), = json.loads(evaldata_file.read_text("utf-8")).items()
        url = (url_file.read_text("utf-8").strip() if url_file.exists() else None) or urls.get(relative) \
            or (evaldata_url if evaldata else None) or f"https://example.invalid/{relative}"
        pages.append(CorpusPage(
            path=path, url=url, platform_dir=relative.split("/")[0],
            expected_text=html_to_text(expected_file.read_text("utf-8")) if expected_file.exists() else None,
            evaldata=evaldata,
        ))
    return pages


def _forbidden_lists(node: Any) -> Iterator[list[str]]:
    """Lists of strings under keys containing ``not_in`` or named ``absent``, anywhere in ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if ("not_in" in key.lower() or key.lower() == "absent") and isinstance(value, list):
                yield [item for item in value if isinstance(item, str)]
            else:
                yield from _forbidden_lists(value)
    elif isinstance(node, list):
        for item in node:
            yield from _forbidden_lists(item)


def _golden_entries(data: Any) -> Iterator[tuple[str | None, Any]]:
    """(file name or None, entry) pairs, whatever the golden file's layout (list or mapping of pages)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, dict) and key.endswith(".html"):
                yield key, value
            elif isinstance(value, dict) and isinstance(value.get("file"), str):
                yield value["file"], value
            elif isinstance(value, (dict, list)):
                yield from _golden_entries(value)
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, dict) and isinstance(item.get("file"), str):
                yield item["file"], item
            elif isinstance(item, (dict, list)):
                yield from _golden_entries(item)


def attach_golden_strings(pages: list[CorpusPage]) -> list[str]:
    """Add each golden file's forbidden strings to the corpus page it describes; returns the files read."""
    by_relative = {page.path.relative_to(CORPUS).as_posix(): page for page in pages}
    read = []
    for golden in sorted(FIXTURES.glob("*/golden*.json")):
        try:
            data = json.loads(golden.read_text("utf-8"))
        except (OSError, ValueError) as error:
            progress(f"skipping {golden.relative_to(REPO)}: {error}")
            continue
        read.append(golden.relative_to(REPO).as_posix())
        platform = golden.parent.name
        for name, entry in _golden_entries(data):
            page = by_relative.get(name) or by_relative.get(f"{platform}/{name}") if name else None
            if page is None:
                continue  # a fixture beside the golden file, not a corpus page
            for strings in _forbidden_lists(entry):
                page.must_not_appear.extend(s for s in strings if s not in page.must_not_appear)
            page.golden_sources.append(golden.relative_to(REPO).as_posix())
    return read


def _folded(text: str) -> str:
    return " ".join(text.replace("’", "'").split())


def leaks(text: str, strings: list[str]) -> list[str]:
    folded = _folded(text)
    lines = [_folded(line) for line in text.splitlines()]
    return [s for s in strings if _folded(s) and (
        any(line.startswith(_folded(s)) for line in lines) if s in LINE_START_ONLY else _folded(s) in folded)]


def run_corpus(score: ModuleType) -> dict[str, Any]:
    pages = corpus_pages()
    golden_files = attach_golden_strings(pages)
    extractors: dict[str, Extractor] = {
        "tomtalks extract_issue": ours_detected,
        "tomtalks extract_issue, plain run_trafilatura in every adapter (before)": ours_default_extraction_detected,
        "generic path forced (ensemble)": ours_generic,
        "generic path forced, before (default extraction)": ours_default_extraction,
        "trafilatura extract": bare,
    }
    rows = []
    for number, page in enumerate(pages, 1):
        html = page.path.read_bytes().decode("utf-8", "replace")
        row: dict[str, Any] = {"file": page.path.relative_to(CORPUS).as_posix(), "url": page.url}
        try:
            row["platform"] = detect_platform(page.url, parse_html(html)).name
        except Exception as error:
            row["platform"] = f"error: {error!r}"
        forbidden = list(dict.fromkeys([*page.must_not_appear, *KNOWN_BOILERPLATE]))
        row["forbidden_strings"] = len(forbidden)
        for name, extractor in extractors.items():
            try:
                text = extractor(html, page.url)
            except Exception as error:
                progress(f"{name}: {row['file']} raised {error!r}")
                text, row[f"{name} error"] = "", repr(error)
            result: dict[str, Any] = {"words": len(text.split()), "leaks": leaks(text, forbidden)}
            if page.expected_text is not None:
                precision, recall, f1 = score.page_prf(*score.page_counts(page.expected_text, text))
                result.update(P=precision, R=recall, F1=f1)
            if page.evaldata:
                result["with_found"] = sum(1 for s in page.evaldata.get("with", []) if _folded(s) in _folded(text))
                result["with_total"] = len(page.evaldata.get("with", []))
                result["without_leaked"] = leaks(text, page.evaldata.get("without", []))
            row[name] = result
        rows.append(row)
        if number % 10 == 0 or number == len(pages):
            progress(f"corpus: {number}/{len(pages)} pages")
    summary = {}
    for name in extractors:
        scored = [row[name] for row in rows if "F1" in row[name]]
        summary[name] = {
            "pages_with_expected_text": len(scored),
            "mean_F1": statistics.mean(r["F1"] for r in scored) if scored else None,
            "metric": aggregate_metric(score, scored),
            "pages": len(rows),
            "leaks": sum(len(row[name]["leaks"]) for row in rows),
            "pages_with_leaks": sum(1 for row in rows if row[name]["leaks"]),
            "evaldata_with_found": sum(row[name].get("with_found", 0) for row in rows),
            "evaldata_with_total": sum(row[name].get("with_total", 0) for row in rows),
            "evaldata_without_leaked": sum(len(row[name].get("without_leaked", [])) for row in rows),
        }
    return {"golden_files": golden_files, "rows": rows, "summary": summary}


def aggregate_metric(score: ModuleType, scored: list[dict[str, Any]]) -> dict[str, float] | None:
    if not scored:
        return None
    rows = [{"p": r["P"], "r": r["R"], "f1": r["F1"], "exact": False} for r in scored]
    result = score.aggregate(rows)
    return {"P": result["P"], "R": result["R"], "F1": result["F1"], "fail": result["fail"]}


# (c) Metadata -------------------------------------------------------------------------------------

META_FIELDS = ("title", "authors", "published_at")
_WORD = re.compile(r"\w+")
_BYLINE_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b)\s*", re.I)


def _norm(text: str | None) -> str:
    return " ".join(_WORD.findall((text or "").replace("’", "'").casefold()))


def _norm_names(names: list[str]) -> list[str]:
    return sorted(n for n in (_norm(name) for name in names) if n)


def _byline_names(byline: str | None) -> list[str]:
    """Readability's byline ("By A and B") as a list of names."""
    text = re.sub(r"^\s*by\s+", "", byline or "", flags=re.I)
    return [name for name in _BYLINE_SPLIT.split(text) if name.strip()]


@dataclass
class MetaReference:
    source: str  # "golden" or "corpus reference"
    label: str  # the page as the reference names it
    path: Path
    url: str
    fields: dict[str, Any]  # field -> expected value (None: the page carries none)


def metadata_references(pages: list[CorpusPage]) -> list[MetaReference]:
    """Golden records (corpus and fixture pages), then the corpus's Readability / trafilatura references."""
    references = []
    for golden in sorted(FIXTURES.glob("*/golden.json")):
        for record in json.loads(golden.read_text("utf-8")).get("pages", []):
            kind, _, name = str(record.get("page", "")).partition(":")
            fields = {f: record[f] for f in META_FIELDS if f in record}
            if fields and kind in ("corpus", "fixture"):
                root = CORPUS if kind == "corpus" else FIXTURES
                references.append(MetaReference("golden", record["page"], root / name, record["url"], fields))
    for page in pages:
        stem = _stem(page.path)
        fields: dict[str, Any] = {}
        readability = page.path.with_name(f"{stem}.expected-metadata.json")
        if readability.exists():
            data = json.loads(readability.read_text("utf-8"))
            fields.update({"title": data.get("title"), "authors": _byline_names(data.get("byline")),
                           "published_at": data.get("publishedDate") or data.get("publishedTime")})
        if page.evaldata:
            fields.update({k: v for k, v in {"title": page.evaldata.get("title"),
                                             "authors": _byline_names(page.evaldata.get("author")),
                                             "published_at": page.evaldata.get("date")}.items() if v})
        fields = {k: v for k, v in fields.items() if v}  # these files say nothing about pages without a value
        if fields:
            references.append(MetaReference("corpus reference", page.path.relative_to(CORPUS).as_posix(), page.path,
                                            page.url, fields))
    return references


def metadata_matches(field_name: str, expected: Any, got: Any, exact_dates: bool) -> bool:
    if field_name == "title":
        return _norm(expected) == _norm(got)
    if field_name == "authors":
        return _norm_names(expected) == _norm_names(got or [])
    if exact_dates:  # golden dates are written as we store them
        return expected == got
    return bool(got) and str(got)[:10] == str(expected)[:10]  # Readability/evaldata: the same day


def run_metadata(pages: list[CorpusPage]) -> dict[str, Any]:
    references = metadata_references(pages)
    extracted: dict[tuple[Path, str], Any] = {}
    rows = []
    for ref in references:
        key = (ref.path, ref.url)
        if key not in extracted:
            try:
                extracted[key] = extract_issue(ref.path.read_bytes().decode("utf-8", "replace"), ref.url)
            except Exception as error:  # a page that breaks extraction counts every field as wrong
                progress(f"metadata: {ref.label} raised {error!r}")
                extracted[key] = None
        issue = extracted[key]
        for field_name, expected in ref.fields.items():
            got = getattr(issue, field_name, None) if issue is not None else None
            carried = expected not in (None, [], "")
            rows.append({"source": ref.source, "page": ref.label, "field": field_name, "expected": expected,
                         "got": got, "carried": carried,
                         "right": metadata_matches(field_name, expected, got, ref.source == "golden") if carried
                         else got in (None, [], "")})
    summary: dict[str, dict[str, Any]] = {}
    for source in ("golden", "corpus reference"):
        for field_name in (*META_FIELDS, "all"):
            chosen = [r for r in rows if r["source"] == source and r["carried"]
                      and (field_name == "all" or r["field"] == field_name)]
            right = sum(r["right"] for r in chosen)
            summary[f"{source}/{field_name}"] = {"right": right, "total": len(chosen),
                                                 "share": right / len(chosen) if chosen else None}
        invented = [r for r in rows if r["source"] == source and not r["carried"] and not r["right"]]
        summary[f"{source}/invented"] = {"count": len(invented),
                                         "of": sum(1 for r in rows if r["source"] == source and not r["carried"])}
    return {"rows": rows, "summary": summary, "pages": len(extracted)}


# Output ------------------------------------------------------------------------------------------


def print_benchmark(bench: dict[str, Any]) -> None:
    print(f"## (a) Article-extraction benchmark: {bench['pages']} pages\n")
    print("| extractor | P | R | F1 | fail (F1<0.5) | F1 even half | F1 odd half | pages/s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in bench["results"]:
        errors = f" ({r.errors} errors)" if r.errors else ""
        print(f"| {r.name}{errors} | {r.P:.3f} | {r.R:.3f} | **{r.F1:.3f}** | {r.fail:.3f} | {r.F1_even:.3f} "
              f"| {r.F1_odd:.3f} | {r.pages_per_s:.1f} |")
    if bench["detected_platforms"]:
        counts: dict[str, int] = {}
        for name in bench["detected_platforms"].values():
            counts[name] = counts.get(name, 0) + 1
        print(f"\nPages a crawl would give to a platform adapter instead of the generic path: {counts}")
    print()


def print_corpus(corpus: dict[str, Any]) -> None:
    names = list(corpus["summary"])
    print("## (b) Real corpus: body F1 against Readability's expected text, boilerplate leaks\n")
    print("Per page: F1 (- without expected text) / number of forbidden strings found.\n")
    print("| page | platform | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for row in corpus["rows"]:
        cells = []
        for name in names:
            result = row[name]
            f1 = f"{result['F1']:.3f}" if "F1" in result else "-"
            cells.append(f"{f1} / {len(result['leaks'])}")
        print(f"| {row['file']} | {row['platform']} | " + " | ".join(cells) + " |")
    print("\n| extractor | pages with expected text | mean per-page F1 | P | R | F1 (metric) | fail "
          "| evaldata `with` found | evaldata `without` leaked | leaked strings (pages) of all pages |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, s in corpus["summary"].items():
        metric = s["metric"] or {"P": 0, "R": 0, "F1": 0, "fail": 0}
        mean = f"{s['mean_F1']:.3f}" if s["mean_F1"] is not None else "-"
        print(f"| {name} | {s['pages_with_expected_text']} | {mean} | {metric['P']:.3f} | {metric['R']:.3f} "
              f"| {metric['F1']:.3f} | {metric['fail']:.3f} | {s['evaldata_with_found']}/{s['evaldata_with_total']} "
              f"| {s['evaldata_without_leaked']} | {s['leaks']} ({s['pages_with_leaks']}) of {s['pages']} |")
    leaked = {row["file"]: row["tomtalks extract_issue"]["leaks"] for row in corpus["rows"]
              if row["tomtalks extract_issue"]["leaks"]}
    print(f"\nStrings leaked by extract_issue: {leaked or 'none'}")
    print(f"\nForbidden strings: golden files {corpus['golden_files'] or 'none yet'} plus "
          f"{len(KNOWN_BOILERPLATE)} known platform strings (platforms.md §1, §11); "
          f"{sorted(LINE_START_ONLY)} only at the start of a line.")


def print_metadata(metadata: dict[str, Any]) -> None:
    summary = metadata["summary"]
    print(f"\n## (c) Metadata: title, authors, published date ({metadata['pages']} pages)\n")
    print("| reference | title | authors | published_at | all fields | invented (reference: none) |")
    print("|---|---|---|---|---|---|")
    for source in ("golden", "corpus reference"):
        cells = []
        for field_name in (*META_FIELDS, "all"):
            s = summary[f"{source}/{field_name}"]
            cells.append(f"{s['right']}/{s['total']} ({s['share']:.1%})" if s["total"] else "-")
        invented = summary[f"{source}/invented"]
        print(f"| {source} | " + " | ".join(cells) + f" | {invented['count']} of {invented['of']} |")
    wrong = [r for r in metadata["rows"] if not r["right"]]
    print("\nDisagreements (reference → extract_issue):\n")
    for r in wrong:
        print(f"- {r['source']} {r['page']} {r['field']}: {r['expected']!r} → {r['got']!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="write every figure as JSON to this file")
    args = parser.parse_args()
    if not BENCHMARK.is_dir() or not CORPUS.is_dir():
        print(f"error: the shared benchmark and corpus are not at {SHARED} (expected {BENCHMARK} and {CORPUS}); "
              "they sit beside the repository in CI and dev sessions", file=sys.stderr)
        return 2
    score = load_score_module()
    progress("article-extraction benchmark")
    bench = run_benchmark(score)
    print_benchmark(bench)
    progress("real corpus")
    corpus = run_corpus(score)
    print_corpus(corpus)
    progress("metadata")
    metadata = run_metadata(corpus_pages())
    print_metadata(metadata)
    if args.out:
        payload = {
            "versions": {"trafilatura": version("trafilatura"), "lxml": version("lxml"),
                         "python": sys.version.split()[0]},
            "benchmark": {**bench, "results": [vars(r) for r in bench["results"]]},
            "corpus": corpus,
            "metadata": metadata,
        }
        args.out.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
        progress(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
