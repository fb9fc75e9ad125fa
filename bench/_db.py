"""The benchmarks' databases: SQLite or PostgreSQL, built once per size and copied per run.

Every benchmark under bench/ takes the same options (``add_database_arguments``):

    --database sqlite|postgres   which database (default: DATABASE_URL's, else sqlite)
    --pg URL                      the PostgreSQL server (default postgres://postgres@127.0.0.1:5432)
    --fresh                       rebuild the base database

``open_database`` points Django at a base database named after the benchmark and its size,
builds it with ``build()`` when it does not exist yet, ANALYZEs it after that bulk load (as a
deployment would after a big import: PostgreSQL's planner otherwise works from empty-table
statistics and picks nested loops), and then — unless ``copy=False`` — gives the run a fresh
copy (SQLite: a file copy; PostgreSQL: CREATE DATABASE … TEMPLATE), so that every run starts
from the same data. Migrations added since the base was built are applied to the run's
database (then ANALYZEd again), so a new index or column is measured without a rebuild.
"""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432"


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    url = os.environ.get("DATABASE_URL", "")
    default = "postgres" if url.startswith(("postgres", "postgresql")) else "sqlite"
    server = DEFAULT_PG
    if default == "postgres":
        parts = urlsplit(url)
        server = f"{parts.scheme}://{parts.netloc}"
    parser.add_argument("--database", choices=["sqlite", "postgres"], default=default)
    parser.add_argument("--pg", default=server, help="the PostgreSQL server's URL (no database)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the base database")


def open_database(
    args: argparse.Namespace, *, name: str, build: Callable[[], None], copy: bool = True
) -> None:
    """Set Django up on the benchmark's database ``name`` (letters, digits, underscores: ours,
    never user input), building and ANALYZEing it first when needed."""
    if args.database == "postgres":
        _open_postgres(args, name=name, build=build, copy=copy)
    else:
        _open_sqlite(args, name=name, build=build, copy=copy)


def database_label(args: argparse.Namespace) -> str:
    """What the benchmark's output says it measured."""
    if args.database == "postgres":
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0].split()[0]
        return f"PostgreSQL {version}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


def load_average() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG keeps every query in memory
    import django

    django.setup()


def _migrate() -> None:
    """Apply the migrations added since the base was built (new columns and indexes are what
    is measured), quietly; a base built by older code is otherwise refused by its queries."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _open_sqlite(args, *, name: str, build: Callable[[], None], copy: bool) -> None:
    base = Path(f"/tmp/bench-{name}.base.sqlite3")  # noqa: S108 — the benchmarks' scratch files
    work = Path(f"/tmp/bench-{name}.sqlite3")  # noqa: S108
    if args.fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{base}{suffix}").unlink(missing_ok=True)
    built = base.exists()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    target = work if copy else base
    if built and copy:
        shutil.copy(base, work)
    os.environ["DATABASE_URL"] = f"sqlite:///{target}"
    _setup_django()
    if not built:
        from django.db import connection

        build()
        _analyze()
        if copy:
            connection.close()  # checkpoints the WAL into the file
            shutil.copy(work, base)
            connection.connect()
    else:
        _migrate()
        _analyze()


def _open_postgres(args, *, name: str, build: Callable[[], None], copy: bool) -> None:
    import psycopg

    base, work = f"bench_{name}_base", f"bench_{name}"

    def server(sql: str, params: tuple = ()) -> list:
        with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
            cursor = conn.execute(sql, params)  # type: ignore[call-overload]
            return cursor.fetchall() if cursor.description else []

    if args.fresh:
        server(f"DROP DATABASE IF EXISTS {base} WITH (FORCE)")
    built = bool(server("SELECT 1 FROM pg_database WHERE datname = %s", (base,)))
    if not built:
        server(f"CREATE DATABASE {base}")
    os.environ["DATABASE_URL"] = f"{args.pg}/{base}"
    _setup_django()
    from django.db import connection

    if not built:
        build()
        _analyze()
    if not copy:
        if built:
            _migrate()
            _analyze()
        return
    connection.close()
    server(f"DROP DATABASE IF EXISTS {work} WITH (FORCE)")
    server(f"CREATE DATABASE {work} TEMPLATE {base}")
    connection.settings_dict["NAME"] = work
    _migrate()
    _analyze()
