"""The extraction job as it runs in a pool worker process (or, with ``EXTRACT_WORKERS=0``, in the crawl).

Why a module of its own: this is the only code that runs on both sides of the process boundary, so
what crosses it is spelled out here — an ``ExtractTask`` in (page text or its UTF-8 bytes, URL,
discovery hints, platform name: plain picklable data) and an ``ExtractOutcome`` out (the
``ExtractedIssue`` dataclass or a reason, plus the worker's memory figure). Both paths call
``run_extraction``, so the pool stores exactly what the in-process path stores.

A worker never raises for a page: an unreadable page or a bug in extraction comes back as an
outcome with a reason. Only the death of the process (a crash in C code, the OOM killer, the test
hook below) reaches the parent, as ``BrokenProcessPool``.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any

from tomtalks_scraper.items import DiscoveryHints

logger = logging.getLogger(__name__)

#: Test hook (environment variable): a worker asked to extract a URL containing this text exits at
#: once with ``os._exit`` on the page's first attempt, as a segfault would kill it.
EXIT_ONCE_ENV = "TOMTALKS_TEST_WORKER_EXIT_ON"
#: Test hook: the same on every attempt (a page that always kills its worker).
EXIT_ALWAYS_ENV = "TOMTALKS_TEST_WORKER_EXIT_ALWAYS_ON"

UNREADABLE, EXTRACTION_ERROR = "unreadable", "extraction_error"


@dataclass(frozen=True)
class ExtractTask:
    html: str | bytes  # the page text, or its exact UTF-8 (``IssuePage.html_utf8``: cheaper to send and parse)
    url: str
    hints: DiscoveryHints | None
    platform: str | None
    content_language: str | None
    attempt: int = 1  # 2 when a worker died while the page was in flight and it is tried again alone
    xml_safe: bool = False  # ``html`` holds no character XML forbids (the spider's page text)


@dataclass(frozen=True)
class ExtractOutcome:
    issue: object | None  # tomtalks_scraper.extraction.issue.ExtractedIssue when ``reason`` is None
    reason: str | None = None  # UNREADABLE or EXTRACTION_ERROR
    detail: str = ""
    trace: str = ""  # the traceback of an unexpected error, logged by the crawl process
    pid: int = 0
    peak_rss_kb: int = 0  # the process's peak resident set size so far (VmHWM)
    checks: object | None = None  # storage.page_checks.PageChecks for the issue (None: the store computes them)


_reset_every = 500
_pages = 0


def init_worker(reset_every: int, crawl_pid: int | None = None, niceness: int = 0) -> None:
    """Pool initializer: runs once per worker, so every page after the first pays no imports.

    Ctrl-C reaches the whole foreground process group: workers ignore it, since the crawl stops
    gracefully and still needs them for the pages in flight. They do not outlive the crawl process
    however it ends (``_exit_with``): a pool worker blocked on its task queue never sees the crawl
    die, because it holds a copy of that queue's write end itself. ``niceness``: see
    ``EXTRACT_WORKER_NICENESS`` in the settings.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if niceness > 0 and hasattr(os, "nice"):  # raising one's own niceness needs no privilege (not on Windows)
        os.nice(niceness)
    if crawl_pid:
        _exit_with(crawl_pid)
    from pipelines.memory import tune_malloc

    tune_malloc()
    configure(reset_every)
    from storage import page_checks  # noqa: F401 - the copy checks' page-only part (no SQLAlchemy)
    from tomtalks_scraper.extraction import issue  # noqa: F401 - trafilatura, lxml, the metadata chain
    from tomtalks_scraper.platforms import all_adapters

    all_adapters()


def _exit_with(pid: int, every: float = 1.0) -> None:
    """End this process when process ``pid`` is gone (checked every ``every`` seconds, in a daemon thread)."""
    born = _start_time(pid)

    def watch() -> None:
        while True:
            time.sleep(every)
            if not _alive(pid, born):
                os._exit(0)

    threading.Thread(target=watch, name="exit-with-crawl", daemon=True).start()


def _start_time(pid: int) -> str | None:
    """The process's start time (Linux), so that a recycled PID is not taken for the crawl."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[19]
    except (OSError, IndexError):
        return None


def _alive(pid: int, born: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return born is None  # no /proc (not Linux): the signal check is all there is
    return fields[0] != "Z" and (born is None or fields[19] == born)


def configure(reset_every: int) -> None:
    """How many pages between trafilatura cache resets, in this process."""
    global _reset_every
    _reset_every = max(int(reset_every), 1)


def run_extraction(task: ExtractTask) -> ExtractOutcome:
    """Extract one page; the outcome says why when there is no issue. Used in workers and in-process."""
    global _pages
    from tomtalks_scraper.extraction.issue import ExtractionError, extract_issue

    readings: list[Any] = []
    try:
        html, utf8 = (task.html.decode("utf-8"), task.html) if isinstance(task.html, bytes) else (task.html, None)
        issue = extract_issue(html, task.url, hints=task.hints, platform=task.platform,
                              content_language=task.content_language, xml_safe=task.xml_safe, html_utf8=utf8,
                              read_raw_page=lambda *page: readings.append(_read_page(html, task.url, *page)))
        outcome = ExtractOutcome(issue, checks=_page_checks(html, task.url, issue, readings[0] if readings else None))
    except ExtractionError as error:
        outcome = ExtractOutcome(None, UNREADABLE, str(error))
    except Exception as error:  # noqa: BLE001 - one bad page must be recorded, never lost or fatal
        outcome = ExtractOutcome(None, EXTRACTION_ERROR, f"{type(error).__name__}: {error}", traceback.format_exc())
    finally:
        _pages += 1
        if _pages % _reset_every == 0:
            _reset_caches()
    return _with_memory(outcome)


def _read_page(html: str, url: str, tree: Any, platform: str, canonical_url: str | None, names: Any) -> object | None:
    """The copy checks' reading of the raw page, from the tree extraction parsed (before pre-cleaning)."""
    from storage.page_checks import read_page

    try:
        return read_page(html, tree, url, canonical_url=canonical_url, platform=platform, names=names)
    except Exception:  # noqa: BLE001 - an optimisation only: page_checks parses the page itself
        logger.debug("Raw page not read for the copy checks of %s", url, exc_info=True)
        return None


def _page_checks(html: str, url: str, issue: Any, reading: object | None) -> object | None:
    """The page-only part of the store's copy checks, here where the page is already in memory: it costs
    ~3 ms of CPU a page, which would otherwise run in the crawl process next to the reactor. On any error
    the store computes them itself (and records what goes wrong there, as it always did)."""
    from storage.page_checks import page_checks

    try:
        return page_checks(html, url, canonical_url=issue.canonical_url, platform=issue.platform,
                           author=issue.author, body_text=issue.body_text, links=[link.url for link in issue.links],
                           reading=reading)
    except Exception:  # noqa: BLE001 - an optimisation only: the store has the page and computes them
        logger.debug("Copy checks not precomputed for %s", url, exc_info=True)
        return None


def extract_in_worker(task: ExtractTask) -> ExtractOutcome:
    """The pool's job function: ``run_extraction`` behind the crash test hooks."""
    if _hook_matches(EXIT_ALWAYS_ENV, task.url) or (task.attempt == 1 and _hook_matches(EXIT_ONCE_ENV, task.url)):
        os._exit(70)
    return run_extraction(task)


def _hook_matches(variable: str, url: str) -> bool:
    needle = os.environ.get(variable)
    return bool(needle) and needle in url


def _reset_caches() -> None:
    """trafilatura keeps LRU caches (and courlan/htmldate theirs) that grow with every distinct page."""
    from trafilatura.meta import reset_caches

    reset_caches()


def _with_memory(outcome: ExtractOutcome) -> ExtractOutcome:
    from pipelines.memory import self_peak_rss_bytes

    return ExtractOutcome(outcome.issue, outcome.reason, outcome.detail, outcome.trace, os.getpid(),
                          self_peak_rss_bytes() // 1024, outcome.checks)
