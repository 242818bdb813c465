"""A throwaway PostgreSQL server for tests: ``initdb`` + ``pg_ctl`` in a temporary directory.

Use the pytest fixtures (import them into a test module)::

    from postgres import postgres_server, postgres_url  # noqa: F401

``postgres_server`` (session scope) starts one server for the whole test session, shared by
every module that imports it, and yields a :class:`PostgresServer`; ``server.new_database()``
gives the URL of a fresh, empty database (cheap: one ``CREATE DATABASE``). ``postgres_url`` is
one such database for the session. Outside pytest, ``with running_postgres() as server:``.

PostgreSQL refuses to run as root, and the tests run as root (here and in CI): the server then
runs as ``nobody`` (through ``runuser`` or ``setpriv``) in a directory owned by that user. It
listens on 127.0.0.1 only, on a free port, with ``fsync=off``. When the binaries are missing,
the fixtures skip with the reason.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path

import pytest
import sqlalchemy as sa

SEARCH_DIRS = ("/usr/local/bin", "/usr/lib/postgresql/15/bin")
SERVER_USER = "nobody"
START_TIMEOUT_S = 30


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL binaries (or a way to run them unprivileged) are not here."""


def find_binary(name: str) -> str:
    """Path of a PostgreSQL program, from PATH or the usual install directories."""
    found = shutil.which(name)
    if found:
        return found
    for directory in SEARCH_DIRS:
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise PostgresUnavailable(f"PostgreSQL program {name!r} not found on PATH or in {SEARCH_DIRS}")


def _as_server_user() -> tuple[list[str], pwd.struct_passwd | None]:
    """Command prefix running a program unprivileged, and that user (None: as ourselves)."""
    if os.geteuid() != 0:
        return [], None
    user = pwd.getpwnam(SERVER_USER)
    if shutil.which("runuser"):
        return ["runuser", "-u", SERVER_USER, "--"], user
    if shutil.which("setpriv"):
        return [
            "setpriv",
            f"--reuid={user.pw_uid}",
            f"--regid={user.pw_gid}",
            "--clear-groups",
        ], user
    raise PostgresUnavailable("running as root and neither runuser nor setpriv is available")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    """One running cluster; ``stop()`` shuts it down and removes its directory."""

    def __init__(self) -> None:
        self._initdb = find_binary("initdb")
        self._pg_ctl = find_binary("pg_ctl")
        self._prefix, user = _as_server_user()
        self._root = Path(tempfile.mkdtemp(prefix="caseloom-pg-"))
        if user is not None:
            os.chown(self._root, user.pw_uid, user.pw_gid)
        self._data = self._root / "data"
        self._log = self._root / "server.log"
        self.port = free_port()
        self._names = count(1)
        self._admin: sa.Engine | None = None

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*self._prefix, *args],
            cwd=self._root,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            check=False,
        )
        if result.returncode != 0:
            log = self._log.read_text() if self._log.exists() else ""
            raise RuntimeError(
                f"{' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}{log}"
            )

    def start(self) -> None:
        """initdb, then start the server and wait until it accepts connections."""
        self._run(
            self._initdb,
            "--pgdata",
            str(self._data),
            "--username=postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self._root}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=50",
                "-c timezone=Europe/Brussels",
            ]
        )
        self._run(
            self._pg_ctl, "start", "--wait", "-D", str(self._data), "-l", str(self._log),
            "-o", options,
        )  # fmt: skip
        self._admin = sa.create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")

    def url(self, database: str) -> str:
        """SQLAlchemy URL of a database on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self, options: str = "") -> str:
        """Create an empty database (``options`` are added to CREATE DATABASE); its URL."""
        if self._admin is None:
            raise RuntimeError("the server is not started")
        name = f"test_{next(self._names)}"
        with self._admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}" {options}')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (fast, no checkpoint) and delete every file of it."""
        try:
            if self._admin is not None:
                self._admin.dispose()
            if (self._data / "postmaster.pid").exists():
                self._run(self._pg_ctl, "stop", "--wait", "-D", str(self._data), "-m", "immediate")
        finally:
            shutil.rmtree(self._root, ignore_errors=True)


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A started server for the duration of the block."""
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _started() -> PostgresServer:
    server = PostgresServer()
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server


# One server per test session, whichever modules import the fixtures: pytest makes a separate
# session fixture per importing module, so the server itself is shared by reference count.
_shared: list[PostgresServer] = []
_users = [0]


@contextmanager
def _shared_server() -> Iterator[PostgresServer]:
    if not _shared:
        _shared.append(_started())
    _users[0] += 1
    try:
        yield _shared[0]
    finally:
        _users[0] -= 1
        if _users[0] == 0:
            _shared.pop().stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (skips when PostgreSQL is not installed)."""
    try:
        find_binary("initdb")
        find_binary("pg_ctl")
        _as_server_user()
    except (PostgresUnavailable, KeyError) as missing:
        pytest.skip(f"PostgreSQL tests need the server binaries: {missing}")
    with _shared_server() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """URL of an empty database created for the session."""
    return postgres_server.new_database()
