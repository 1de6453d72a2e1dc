"""Run a crawl from Python (CLI commands, tests, benchmarks) exactly as ``scrapy crawl`` runs it.

Each crawl is its own process: Twisted's reactor cannot be restarted inside one process, and a crawl
that crashes must not take the caller with it. ``run_crawl`` starts ``python -m scrapy crawl``;
``start_crawl`` (what ``tomtalks crawl`` uses) forks the caller instead, which saves an interpreter
start and the imports the caller already made.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Mapping
from typing import NoReturn

SETTINGS_MODULE = "tomtalks_scraper.settings"
ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

#: For sites on this machine only (demo, tests, benchmarks): no politeness delays.
LOOPBACK_SETTINGS: Mapping[str, str] = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
}


class CrawlFailed(RuntimeError):
    """The crawl process exited with an error; the message holds the end of its log."""


def crawl_command(
    urls: list[str],
    database_url: str,
    *,
    spider: str = "newsletter",
    settings: Mapping[str, str] | None = None,
    spider_args: Mapping[str, str] | None = None,
) -> list[str]:
    """The ``scrapy crawl`` command line for these start URLs and this database."""
    command = [sys.executable, "-m", "scrapy", "crawl", spider]
    if urls:
        command += ["-a", "url=" + ",".join(urls)]
    for name, value in (spider_args or {}).items():
        command += ["-a", f"{name}={value}"]
    for name, value in {"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING", **(settings or {})}.items():
        command += ["-s", f"{name}={value}"]
    return command


def run_crawl(
    urls: list[str],
    database_url: str,
    *,
    spider: str = "newsletter",
    settings: Mapping[str, str] | None = None,
    spider_args: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Crawl ``urls`` into ``database_url``; raise ``CrawlFailed`` when the crawl process fails."""
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": SETTINGS_MODULE}
    command = crawl_command(urls, database_url, spider=spider, settings=settings, spider_args=spider_args)
    # errors="replace": the crawl and its extraction workers share one stderr, and two writes that interleave
    # can split a character (a 2,000-page benchmark under a profiler died on it in the decoding).
    result = subprocess.run(command, env=env, capture_output=True, text=True, errors="replace", timeout=timeout,
                            check=False)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-15:])
        raise CrawlFailed(f"the crawl of {', '.join(urls)} failed (exit code {result.returncode}):\n{tail}")
    return result


def crawl_here(spider: str, spider_args: Mapping[str, str], settings: Mapping[str, str]) -> int:
    """Run one crawl in this process as ``scrapy crawl SPIDER -a … -s …`` would; its exit code (0, or 1 when the
    crawl could not start). Same settings priorities, same crawler process class, Scrapy's own SIGINT/SIGTERM
    handling (the first stops after the items in flight, a second forces). Once per process: Twisted's reactor
    cannot be restarted."""
    os.environ["SCRAPY_SETTINGS_MODULE"] = SETTINGS_MODULE
    from scrapy.crawler import AsyncCrawlerProcess, CrawlerProcess
    from scrapy.utils.project import get_project_settings

    project = get_project_settings()
    project.setdict(dict(settings), priority="cmdline")
    use_async = (project["TWISTED_REACTOR"] == ASYNCIO_REACTOR and not project.getbool("FORCE_CRAWLER_PROCESS")
                 ) or not project.getbool("TWISTED_REACTOR_ENABLED")
    process = (AsyncCrawlerProcess if use_async else CrawlerProcess)(project)
    process.crawl(spider, **spider_args)
    process.start()
    return 1 if process.bootstrap_failed else 0


class ForkedCrawl:
    """A ``scrapy crawl`` in a forked copy of the calling process: Popen's ``poll``/``wait``/``send_signal``/
    ``communicate``, the same exit codes, its own process.

    Why a fork and not ``python -m scrapy crawl``: the copy starts with what the caller already imported and set
    up (the interpreter, SQLAlchemy, the models, the config), so a cron run that finds nothing to do costs one
    interpreter start instead of two (docs/benchmarks.md, "Recrawl"). It stays a separate process, so a crash
    in one crawl still cannot take the caller or the next crawl down, and its memory goes back when it ends.
    The caller must not have started Twisted's reactor or any thread (the ``tomtalks`` command has neither), and
    must hold no open SQLite connection (close its engines' pools first: SQLite's lock bookkeeping does not
    survive a fork, see ``cli/crawl.py``);
    the child resets the caller's signal handlers, writes nothing to the caller's stdout, and its stderr is
    kept for ``communicate``. It inherits open files, the crawl lock among them: a crawl whose parent was
    killed still holds the lock until it ends, so a new run cannot overlap it.
    """

    def __init__(self, spider: str, spider_args: Mapping[str, str], settings: Mapping[str, str], *,
                 own_process_group: bool = False) -> None:
        self.returncode: int | None = None
        self._own_process_group = own_process_group
        self._stderr = tempfile.TemporaryFile()  # a file, not a pipe: a chatty child can never block on it
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # else the child would write the caller's buffered output a second time
        self.pid = os.fork()
        if self.pid == 0:
            self._child(spider, spider_args, settings)
        if own_process_group:  # set on both sides of the fork, so neither can run before it holds
            with contextlib.suppress(OSError):
                os.setpgid(self.pid, self.pid)

    def _child(self, spider: str, spider_args: Mapping[str, str], settings: Mapping[str, str]) -> NoReturn:
        code = 1
        try:
            if self._own_process_group:
                os.setpgid(0, 0)
            signal.signal(signal.SIGINT, signal.default_int_handler)  # Scrapy replaces only the default one
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            os.dup2(self._stderr.fileno(), 2)
            code = crawl_here(spider, spider_args, settings)
        except SystemExit as error:
            code = error.code if isinstance(error.code, int) else 1
        except BaseException:  # noqa: BLE001 - reported on stderr, as `scrapy crawl` would
            traceback.print_exc()
        finally:
            try:
                logging.shutdown()
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)  # never back into the caller's code (its `finally`s, its lock release)

    def _reap(self, flags: int) -> int | None:
        """``waitpid`` once; a signal handler calling ``poll`` may reap the child while ``wait`` waits on it."""
        try:
            pid, status = os.waitpid(self.pid, flags)  # retried by Python after a signal handler runs (PEP 475)
        except ChildProcessError:
            return self.returncode if self.returncode is not None else 1
        if pid and self.returncode is None:
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def poll(self) -> int | None:
        return self.returncode if self.returncode is not None else self._reap(os.WNOHANG)

    def wait(self) -> int:
        while self.returncode is None:
            self.returncode = self._reap(0)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:  # an exited child not yet reaped is a zombie: the signal is harmless
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def communicate(self) -> tuple[None, str]:
        """Wait for the end; (None, the end of its stderr) like ``Popen(stderr=PIPE).communicate()``."""
        self.wait()
        size = self._stderr.seek(0, os.SEEK_END)
        self._stderr.seek(max(size - 65536, 0))
        return None, self._stderr.read().decode(errors="replace")

    def __enter__(self) -> ForkedCrawl:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.wait()
        self._stderr.close()


#: What every crawl imports before its first request: Scrapy's core and HTTP handler, the spider, our pipelines
#: and components. None of them installs a reactor or starts a thread.
CRAWL_MODULES = (
    "scrapy.crawler", "scrapy.utils.project", "scrapy.core.engine", "scrapy.core.downloader.handlers.http11",
    "tomtalks_scraper.spiders.newsletter", "pipelines.extract", "pipelines.validate", "pipelines.store",
    "tomtalks_scraper.report", "tomtalks_scraper.middlewares", "tomtalks_scraper.downloader",
)


def preload_crawl_modules() -> None:
    """Import what each crawl needs once, in the caller, before forking one crawl per newsletter: every fork then
    starts with them instead of importing them again (~0.4 s of CPU a newsletter)."""
    for name in CRAWL_MODULES:
        importlib.import_module(name)


def can_fork() -> bool:
    """Whether a ``ForkedCrawl`` is safe here: the platform forks, no other thread runs (a lock it holds would
    stay locked in the copy), and no Twisted reactor was installed (the copy must install its own)."""
    return hasattr(os, "fork") and threading.active_count() == 1 and "twisted.internet.reactor" not in sys.modules


def start_crawl(urls: list[str], database_url: str, *, spider: str = "newsletter",
                settings: Mapping[str, str] | None = None,
                spider_args: Mapping[str, str] | None = None,
                own_process_group: bool = False) -> ForkedCrawl | subprocess.Popen[str]:
    """Start crawling ``urls`` into ``database_url``: a ``ForkedCrawl`` where ``can_fork()``, else a
    ``scrapy crawl`` subprocess (stdout discarded, stderr piped). Use it as a context manager.

    ``own_process_group`` keeps the crawl out of the caller's process group, for a caller that forwards
    signals itself: a terminal's Ctrl-C goes to the whole foreground group, and a crawl that got it from the
    terminal *and* from its caller would take the second signal as "stop now, without storing what is in
    flight" (Scrapy's rule for a second Ctrl-C)."""
    all_settings = {"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING", **(settings or {})}
    if can_fork():
        return ForkedCrawl(spider, {**({"url": ",".join(urls)} if urls else {}), **(spider_args or {})},
                           all_settings, own_process_group=own_process_group)
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": SETTINGS_MODULE}
    command = crawl_command(urls, database_url, spider=spider, settings=all_settings, spider_args=spider_args)
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            errors="replace", process_group=0 if own_process_group else None)
