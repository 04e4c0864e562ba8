"""POMS: the Production Operations Management Service.

create_app is the one place that knows every layer (docs/architecture.md): it binds the
extensions, registers the pages, the API and the operator commands, and the workers'
queues as the work queue (app/work.py) the domain asks. Nothing below imports it.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import click
from flask import Flask, g, render_template, request
from markupsafe import escape
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from app import (
    models,  # noqa: F401  (register the tables with the metadata)
    work,
)
from app.api import register_api
from app.auth.session import init_auth
from app.blueprints import register_blueprints
from app.cli import register_cli
from app.config import ConfigError, is_loopback, load_config
from app.extensions import csrf, db, login_manager, migrate
from app.ids import RowIdConverter
from app.launching.isolation import check_config as check_launch_isolation
from app.live import changes as live_changes  # noqa: F401  (publishes what commits change)
from workers.queues import RQWork

log = logging.getLogger(__name__)


@event.listens_for(Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection, _record):
    # SQLite ignores foreign keys unless asked, per connection; the other databases
    # enforce them always.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    # Before any blueprint adds a rule: every `<int:...>` id is bounded (app/ids.py).
    app.url_map.converters["int"] = RowIdConverter
    _private(Path(app.instance_path), directory=True)
    app.config.update(load_config(Path(app.instance_path)))
    if config:
        app.config.update(config)
        if "POMS_AUTH" in config and "SESSION_COOKIE_SECURE" not in config:
            # The sign-in mode decides it, whichever way the mode was given.
            app.config["SESSION_COOKIE_SECURE"] = config["POMS_AUTH"] != "dev"
    app.config["MAX_CONTENT_LENGTH"] = app.config["POMS_MAX_UPLOAD_BYTES"]
    _refuse_open_dev_mode(app)
    # Launches never run as this service outside dev mode (app/launching/isolation.py).
    check_launch_isolation(app.config, Path(app.instance_path))
    _private_sqlite(app)
    _pool(app)

    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    # Work the domain queues (launches, tracking, uploads, batch actions) goes to RQ.
    work.register(RQWork())

    init_auth(app)
    register_blueprints(app)
    register_api(app)
    register_cli(app)
    _register_errors(app)
    return app


def _private(path: Path, directory: bool = False) -> None:
    """instance/ and the SQLite file: readable by this service's account only (0700, 0600):
    they hold the database, the secret key and every credential."""
    if directory:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    elif not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
    if path.stat().st_uid == os.geteuid():
        os.chmod(path, 0o700 if directory else 0o600)


def _private_sqlite(app: Flask) -> None:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:") \
            or url.database.startswith("file:"):
        return
    # A relative SQLite path is under instance/, as Flask-SQLAlchemy places it.
    _private(Path(app.instance_path) / url.database)


def _pool(app: Flask) -> None:
    """The database connections each process keeps and may add (app/config: POMS_DB_POOL_*).
    A gthread worker answers up to 256 requests at once, but only the ones running a query
    hold a connection: an open live page holds none (app/blueprints/live.py)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and (
            url.database in (None, "", ":memory:") or "mode=memory" in str(url)):
        return  # one in-memory database per connection: SQLAlchemy's own pool for it
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "pool_size": app.config["POMS_DB_POOL_SIZE"],
        "max_overflow": app.config["POMS_DB_MAX_OVERFLOW"],
        "pool_timeout": app.config["POMS_DB_POOL_TIMEOUT"],
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
    }


# A page waits this long for a lock (SQLite's write lock, a PostgreSQL row or table; the
# workers wait longer: app/extensions.py), then says the database is busy: a person is
# better told "try again" than left waiting.
WEB_BUSY_TIMEOUT_MS = 3000


def _is_busy(err: DBAPIError | PoolTimeout) -> bool:
    if isinstance(err, PoolTimeout):  # every connection of the pool in use
        return True
    said = str(err.orig).lower()
    return "database is locked" in said or "lock timeout" in said or "deadlock" in said


def _register_database_errors(app: Flask) -> None:
    backend = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    wait = {"sqlite": f"PRAGMA busy_timeout = {WEB_BUSY_TIMEOUT_MS}",
            "postgresql": f"SET lock_timeout = {WEB_BUSY_TIMEOUT_MS}"}.get(backend)

    @app.before_request
    def _request_connection():
        """The request's connection: the page's short lock wait set on it once, and no
        transaction for a page that only reads."""
        if request.endpoint == "static":
            return
        view = app.view_functions.get(request.endpoint)
        g.poms_reads_only = request.method == "GET" and getattr(view, "poms_reads_only", False)
        # A reading page on PostgreSQL needs no transaction: at READ COMMITTED each query
        # reads what is committed when it starts, in a transaction or not, and the BEGIN
        # and ROLLBACK round trips of every live fetch are spared. (A session already in a
        # transaction, a test's sharing its app context, keeps it.)
        connection = db.session.connection(execution_options=(
            {"isolation_level": "AUTOCOMMIT"}
            if g.poms_reads_only and backend == "postgresql"
            and not db.session().in_transaction() else None))
        said = connection.info  # the pooled connection's, kept from request to request
        if wait and not said.get("poms_web_wait"):
            connection.execute(text(wait))
            if backend == "postgresql":
                # A SET is undone by a rollback, which ends most requests: committed now, it
                # stays with the connection, and no later request needs to say it again.
                db.session.commit()
            said["poms_web_wait"] = True

    @app.errorhandler(PoolTimeout)
    def no_connection(err: PoolTimeout):
        log.warning("no database connection free within POMS_DB_POOL_TIMEOUT: %s", err)
        return database_error(err)

    @app.errorhandler(OperationalError)
    def database_error(err: OperationalError | PoolTimeout):
        # The session holds a failed transaction: give it back, so nothing half-done stays.
        try:
            db.session.rollback()
        except Exception:  # the database may not answer the rollback either
            log.exception("rollback after a database error")
        if _is_busy(err):
            code, said = 503, ("The database is busy (another change holds it): nothing was "
                               "changed. Try again in a moment.")
        else:
            log.error("database not answering: %s", err.orig)
            code, said = 503, ("The database is not answering: nothing was changed. Try "
                               "again once it is back.")
        if request.path.startswith("/api/"):
            return {"error": said}, code, {"Retry-After": "5"}
        if request.headers.get("HX-Request") == "true":
            return f'<p class="error" role="alert">{escape(said)}</p>', code
        # A page of its own, rendered without the context processors: they (and the usual
        # layout) read the signed-in person from the database.
        page = app.jinja_env.get_template("database_error.html").render(
            code=code, description=said, path=request.path)
        return page, code, {"Retry-After": "5"}


def _register_errors(app: Flask) -> None:
    _register_database_errors(app)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        if request.headers.get("HX-Request") == "true":
            # A fragment answer: a short sentence where the swap would have gone.
            return f'<p class="error" role="alert">{escape(err.description)}</p>', err.code
        return render_template(
            "error.html", code=err.code, name=err.name, description=err.description
        ), err.code


def _refuse_open_dev_mode(app: Flask) -> None:
    """Sign-in by typed name is for one person's laptop: loopback only.

    `flask run` loads the app inside its click context, so the host it is about to bind
    is known here; any other server is caught per request in app/auth/session.py.
    """
    if app.config["POMS_AUTH"] != "dev":
        return
    hosts = [app.config["POMS_HOST"]]
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.info_name == "run" and "host" in ctx.params:
        hosts.append(ctx.params["host"])
    for host in hosts:
        if not is_loopback(host):
            raise ConfigError(
                f"POMS_AUTH=dev signs people in by typed name and must not listen on {host}; "
                "bind to 127.0.0.1 or set POMS_AUTH=kerberos"
            )
