"""Throw-away database and cache servers for tests: PostgreSQL and Redis on 127.0.0.1, private to the run.

Each server is started from the Debian binaries on a free loopback port in a temporary directory, with
durability off (fsync, snapshots: a test server's data dies with it), and stopped and deleted at the end.
``$TOMTALKS_TEST_POSTGRES_URL`` / ``$TOMTALKS_TEST_REDIS_URL`` name existing servers instead. When neither
is possible the fixtures in ``tests/conftest.py`` skip with the reason these classes raise.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_ENV = "TOMTALKS_TEST_POSTGRES_URL"
REDIS_ENV = "TOMTALKS_TEST_REDIS_URL"
START_TIMEOUT = 60.0


class Unavailable(RuntimeError):
    """The server cannot be had here; the message says why (and becomes the skip reason)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Unavailable(f"{what} exited with code {process.returncode}: {_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise Unavailable(f"{what} did not listen on 127.0.0.1:{port} within {START_TIMEOUT:.0f} s: {_tail(log)}")


def _tail(log: Path) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-5:])
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen | None, folder: Path | None) -> None:
    """Stop a server we started (SIGTERM, then SIGKILL after 30 s) and delete its directory."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise Unavailable("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; "
                          "apt-get install postgresql, or set $TOMTALKS_TEST_POSTGRES_URL)")
    return Path(found[-1]).parent


class PostgresServer:
    """A private PostgreSQL cluster, or the one ``$TOMTALKS_TEST_POSTGRES_URL`` names; hands out fresh
    databases (``new_database``), each dropped by ``drop_database`` or with the cluster."""

    def __init__(self) -> None:
        self._names = itertools.count(1)
        self._process: subprocess.Popen | None = None
        self._dir: Path | None = None
        given = os.environ.get(POSTGRES_ENV)
        self.url = given or self._start()
        self.private = not given
        self._admin = create_engine(self.url, isolation_level="AUTOCOMMIT", pool_size=1)
        try:
            with self._admin.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:
            self.stop()
            raise Unavailable(f"cannot connect to PostgreSQL at {make_url(self.url)!r}: {error}") from error

    def _start(self) -> str:
        binaries = _postgres_bin()
        as_user: list[str] = []
        self._dir = Path(tempfile.mkdtemp(prefix="tomtalks-pg-"))
        if os.geteuid() == 0:  # initdb refuses to run as root: the cluster belongs to the postgres user
            try:
                user = pwd.getpwnam("postgres")
            except KeyError as error:
                raise Unavailable("running as root and there is no 'postgres' user to own the cluster") from error
            os.chown(self._dir, user.pw_uid, user.pw_gid)
            as_user = ["runuser", "-u", "postgres", "--"]
        data, log = self._dir / "data", self._dir / "server.log"
        try:
            initdb = subprocess.run(
                [*as_user, str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                 "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
                capture_output=True, text=True, timeout=120,
            )
        except (OSError, subprocess.TimeoutExpired) as error:  # e.g. no runuser to drop root with
            raise Unavailable(f"cannot run initdb: {error}") from error
        if initdb.returncode:
            raise Unavailable(f"initdb failed: {initdb.stderr.strip()[-400:]}")
        port = free_port()
        settings = {"listen_addresses": "127.0.0.1", "port": port, "unix_socket_directories": self._dir,
                    "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": 200}
        options = [f"--{name.replace('_', '-')}={value}" for name, value in settings.items()]
        with open(log, "wb") as out:
            if as_user:
                os.chown(log, pwd.getpwnam("postgres").pw_uid, -1)
            self._process = subprocess.Popen(
                [*as_user, str(binaries / "postgres"), "-D", str(data), *options],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        _wait_for_port(port, self._process, "postgres", log)
        # Accepting TCP is not yet accepting logins; wait for the startup to finish.
        deadline = time.monotonic() + START_TIMEOUT
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        while True:
            try:
                engine = create_engine(url)
                with engine.connect():
                    engine.dispose()
                    return url
            except Exception:
                engine.dispose()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def new_database(self) -> str:
        """A new empty database on the server; its URL."""
        name = f"tomtalks_test_{os.getpid()}_{next(self._names)}"
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def stop(self) -> None:
        if getattr(self, "_admin", None) is not None:
            self._admin.dispose()
        _stop(self._process, self._dir)


class RedisServer:
    """A private ``redis-server`` (no persistence) on a free loopback port, or ``$TOMTALKS_TEST_REDIS_URL``."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._dir: Path | None = None
        self.url = os.environ.get(REDIS_ENV) or self._start()

    def _start(self) -> str:
        binary = shutil.which("redis-server")
        if binary is None:
            raise Unavailable("redis-server is not installed (apt-get install redis-server, "
                              "or set $TOMTALKS_TEST_REDIS_URL)")
        self._dir = Path(tempfile.mkdtemp(prefix="tomtalks-redis-"))
        port, log = free_port(), self._dir / "server.log"
        with open(log, "wb") as out:
            self._process = subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--daemonize", "no", "--dir", str(self._dir)],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        _wait_for_port(port, self._process, "redis-server", log)
        return f"redis://127.0.0.1:{port}/0"

    def flush(self) -> None:
        """Empty every database of the server (``FLUSHALL``), speaking RESP directly: no client library needed."""
        parts = urlsplit(self.url)
        commands = [[b"AUTH", parts.password.encode()]] if parts.password else []
        commands.append([b"FLUSHALL"])
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=10) as connection:
            for command in commands:
                words = b"".join(b"$%d\r\n%s\r\n" % (len(word), word) for word in command)
                connection.sendall(b"*%d\r\n" % len(command) + words)
                answer = connection.recv(256)
                if not answer.startswith(b"+OK"):
                    raise Unavailable(f"{command[0].decode()} on {self.url} answered {answer!r}")

    def stop(self) -> None:
        _stop(self._process, self._dir)
