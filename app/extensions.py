"""The Flask extensions, created once and bound to an app in create_app."""
import os
import sqlite3
from functools import wraps

from flask import g, has_request_context, request
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import ARRAY, MetaData, any_, bindparam, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

# Named constraints so Alembic can alter them on SQLite (batch mode) and PostgreSQL alike.
naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# How long a worker (or command) waits for SQLite's write lock before its write fails
# (pages wait less: app/__init__.py WEB_BUSY_TIMEOUT_MS). Read here, not from the app's
# config: the listener below serves every engine, made by an app or not.
SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("POMS_SQLITE_BUSY_TIMEOUT_MS") or 30000)

db = SQLAlchemy(metadata=MetaData(naming_convention=naming_convention))
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


@event.listens_for(Engine, "connect")
def _sqlite_shared_by_processes(dbapi_connection, _record) -> None:
    """The embedded SQLite is shared by the web server, the workers and their schedulers.
    In WAL mode pages keep reading while a tracking pass writes 100,000 job rows, and a
    writer that finds the database busy waits its turn instead of failing at once."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()


def any_of(column, values: list):
    """`column IN (values)` for a list of hundreds, as the database in use plans it well.
    PostgreSQL gets `column = ANY(array)`, one parameter: psycopg prepares a statement run
    a few times, and the generic plan for 500 `IN ($2, ...)` parameters read every row of
    a 100,000-row table or submission for each (seconds per look-up), where `= ANY($2)`
    probes the column's index."""
    if db.engine.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))


def once_per_request(context_processor):
    """A context processor worked out once per GET: a live fragment often renders several
    templates, and each render asks every context processor again (a write may change what
    they say, so other requests ask each time)."""
    key = f"_context_{context_processor.__module__}.{context_processor.__qualname__}"

    @wraps(context_processor)
    def once():
        if not has_request_context() or request.method not in ("GET", "HEAD"):
            return context_processor()
        if key not in g:
            setattr(g, key, context_processor())
        return getattr(g, key)

    return once


def reads_only(view):
    """Marks a view that only reads: the live fragments, fetched by every open page on each
    change. On PostgreSQL its request runs without a transaction (app/__init__.py), and in
    any database a write in it fails instead of being done."""
    view.poms_reads_only = True
    return view


def reading_request() -> bool:
    return has_request_context() and g.get("poms_reads_only", False)


@event.listens_for(Session, "before_flush")
def _no_writes_while_reading(session, _context, _instances) -> None:
    if reading_request():
        raise RuntimeError("a page marked as only reading (reads_only) tried to write: "
                           f"{[*session.new, *session.dirty, *session.deleted][:3]}")
