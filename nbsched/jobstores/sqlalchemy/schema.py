"""Table names, ``Table`` objects and schema migration of the SQL job store.

The schema is created and upgraded by the Alembic migrations in ``migrations/`` when a store opens its
database, inside one write transaction (SQLite ``BEGIN IMMEDIATE``; PostgreSQL under an advisory lock), so
processes opening a new database at the same moment create it once. Opening a database at the current revision
costs one small query; a database migrated by a newer nbsched is refused with :class:`SchemaVersionError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import attrs
from sqlalchemy import Connection, MetaData, Table
from sqlalchemy.schema import SchemaConst

from nbsched.jobstores.sqlalchemy.database import Database
from nbsched.jobstores.sqlalchemy.errors import SchemaVersionError
from nbsched.jobstores.sqlalchemy.models import Base, JobRow, RunRow, SchedulerRow

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "HEAD",
    "MIGRATIONS",
    "REVISIONS",
    "TableNames",
    "alembic_config",
    "current_revision",
    "migrate",
    "scheduler_table",
    "tables",
]

#: the folder of the Alembic environment and its ``versions/``
MIGRATIONS = Path(__file__).parent / "migrations"
#: every revision in ``migrations/versions``, oldest first (a test checks them against Alembic's)
REVISIONS = ("0001", "0002", "0003", "0004", "0005")
#: the newest revision
HEAD = REVISIONS[-1]


@attrs.frozen(kw_only=True)
class TableNames:
    """Names of the store's tables.

    :ivar jobs: the jobs table (``tablename``)
    :ivar runs: the runs table: ``runs`` next to ``jobs``, else ``<tablename>_runs``
    :ivar version: Alembic's version table: ``schema_version``, else ``<tablename>_schema_version``
    :ivar schema: the database schema holding them (``None``: the default one)
    :ivar schedulers: the liveness rows of the schedulers over the store: ``schedulers`` next to ``jobs``, else
        ``<tablename>_schedulers``
    """

    jobs: str
    runs: str
    version: str
    schema: str | None
    schedulers: str

    @classmethod
    def for_table(cls, tablename: str, schema: str | None = None) -> TableNames:
        """The names used by a store whose jobs table is ``tablename``."""
        if tablename == "jobs":
            return cls(jobs="jobs", runs="runs", version="schema_version", schema=schema, schedulers="schedulers")
        return cls(
            jobs=tablename,
            runs=f"{tablename}_runs",
            version=f"{tablename}_schema_version",
            schema=schema,
            schedulers=f"{tablename}_schedulers",
        )

    def identifiers(self) -> list[str]:
        """Every name the migrations create for these tables (tables, indexes, constraints), longest first."""
        names = [
            self.jobs,
            self.runs,
            self.version,
            self.schedulers,
            f"{self.version}_pkc",  # Alembic's primary key of its version table
            f"ix_{self.jobs}_next_run_time",
            f"uq_{self.runs}_job_id_scheduled_at",
            f"ix_{self.runs}_scheduled_at",
        ]
        return sorted(names, key=lambda name: len(name.encode()), reverse=True)

    def as_attributes(self) -> dict[str, str | None]:
        """The names as the migrations read them from ``config.attributes["nbsched_names"]``."""
        return {
            "jobs": self.jobs,
            "runs": self.runs,
            "version": self.version,
            "schema": self.schema,
            "schedulers": self.schedulers,
        }


def tables(names: TableNames, metadata: MetaData | None = None) -> tuple[Table, Table]:
    """The jobs and runs ``Table`` objects under these names, in ``metadata`` (a new one by default)."""
    metadata = metadata if metadata is not None else MetaData()
    schema: str | Literal[SchemaConst.RETAIN_SCHEMA] = SchemaConst.RETAIN_SCHEMA  # the models have none
    if names.schema is not None:
        schema = names.schema
    jobs = Base.metadata.tables[JobRow.__tablename__].to_metadata(metadata, schema=schema, name=names.jobs)
    runs = Base.metadata.tables[RunRow.__tablename__].to_metadata(metadata, schema=schema, name=names.runs)
    return jobs, runs


def scheduler_table(names: TableNames, metadata: MetaData) -> Table:
    """The ``schedulers`` ``Table`` object (liveness rows) under these names, in ``metadata``."""
    schema: str | Literal[SchemaConst.RETAIN_SCHEMA] = SchemaConst.RETAIN_SCHEMA
    if names.schema is not None:
        schema = names.schema
    table = Base.metadata.tables[SchedulerRow.__tablename__]
    return table.to_metadata(metadata, schema=schema, name=names.schedulers)


def current_revision(conn: Connection, names: TableNames) -> str | None:
    """The revision recorded in the version table (``None``: an empty database)."""
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(
        conn, opts={"version_table": names.version, "version_table_schema": names.schema}
    )
    heads = context.get_current_heads()
    return max(heads) if heads else None


def alembic_config() -> Config:
    """An Alembic configuration of the store's migrations (no ``alembic.ini``)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    return config


def migrate(db: Database, names: TableNames, revision: str = HEAD) -> None:
    """Bring the database to ``revision`` (default: the newest this nbsched knows).

    :raises SchemaVersionError: when the database is at a revision this nbsched does not know (a newer one)
    """

    found = db.read(lambda conn: current_revision(conn, names))
    if found == revision:
        return  # the usual case: one read, no write lock (a read-only database opens too)
    if found is not None and found not in REVISIONS:
        raise SchemaVersionError(db.display, found, HEAD)

    def work(conn: Connection) -> None:
        if db.dialect == "postgresql":
            # Serialise concurrent first opens; released with the transaction.
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock(hashtext('nbsched:{names.version}'))")
        current = current_revision(conn, names)  # again: another process may have migrated meanwhile
        if current == revision:
            return
        if current is not None and current not in REVISIONS:
            raise SchemaVersionError(db.display, current, HEAD)
        from alembic import command

        config = alembic_config()
        config.attributes["connection"] = conn
        config.attributes["nbsched_names"] = names.as_attributes()
        command.upgrade(config, revision)

    db.write(work)
