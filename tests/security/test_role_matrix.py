"""The role matrix: every route of the app's own table (app.url_map, pages and API) for each
of five people -- signed in with no membership, analysis, production-shifter, production,
superuser of mu2e -- in their own experiment (mu2e's things), in another (nova's), with
nova's ids under mu2e's name, and, for what is one person's own (uploaded files, credentials,
API tokens), with another person's in mu2e. A refusal is 401, 403 or 404 (or being sent to
sign in) and changes nothing; an allowed request gets an answer that is none of those.

RULES below says who may do what; a route missing from it fails the test, so a new route
arrives with its rule (and its role check), never without. tests/auth/test_access.py keeps
the finer cases this table does not (owners of analysis campaigns, acting as a lower role,
administrators named in POMS_ADMINS); this one walks the whole table.
"""
from __future__ import annotations

import io
import shutil
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db
from tests.api.support import bearer_token_file
from tests.auth.conftest import campaign_ini
from tests.fixtures.app import _app, csrf_token, database_kind, signed_in
from tests.fixtures.postgres import DatabasePool
from tests.security.routes import Route, path_for, routes
from tests.security.world import OTHER, OWN, PEOPLE, Place, build_world

RANK = {None: -1, "analysis": 0, "production-shifter": 1, "production": 2, "superuser": 3}


def at_least(minimum: str | None):
    def allowed(role: str | None) -> bool:
        return RANK[role] >= RANK[minimum]

    allowed.__name__ = f"at least {minimum}"
    return allowed


ANYONE = at_least(None)  # signed in, or not even that (public)
MEMBER = at_least("analysis")
SHIFTER = at_least("production-shifter")
PRODUCTION = at_least("production")
SUPERUSER = at_least("superuser")


def NOBODY(role):  # noqa: N802  (administrators named in config; UconDB writers)
    return False


@dataclass(frozen=True)
class Rule:
    who: object  # role in mu2e -> allowed
    scoped: bool = True  # acts on one experiment's things: refused in another's
    body: object = None  # (person, place) -> extra arguments of the request
    also_allowed: tuple = ()  # (status, words in the answer) an allowed request may get
    personal: bool = False  # one person's own thing: another person's is refused, whatever role


def form(**values):
    return lambda person, place, route: {"data": {
        k: (v(person, place) if callable(v) else v) for k, v in values.items()}}


def json_body(**values):
    return lambda person, place, route: {"json": {
        k: (v(person, place) if callable(v) else v) for k, v in values.items()}}


def ucondb_write(person, place, route):
    """Enough to reach the Digest check: the folder and object, in the URL or the query."""
    if "<path:rest>" in route.rule:
        return {"data": b"x", "query_string": {"tag": "t"}}
    return {"data": b"x", "query_string": {"folder": "f1", "object": "o1", "tag": "t",
                                           "version_id": "1"}}


def ini_upload(person, place, route):
    ini = campaign_ini(f"up_{person}", "production").encode()
    return {"data": {"ini_file": (io.BytesIO(ini), "c.ini")},
            "content_type": "multipart/form-data"}


def ini_body(person, place, route):
    return {"data": campaign_ini(f"api_{person}", "production"),
            "content_type": "text/plain"}


def file_upload(person, place, route):
    return {"data": {"files": (io.BytesIO(b"[global]\n"), f"up_{person}.cfg")},
            "content_type": "multipart/form-data"}


def credentials_upload(person, place, route):
    """A production token among the files: keeping it needs the role policy's say."""
    return {"data": {"files": (io.BytesIO(bearer_token_file(86400 * 30, person)), "tok")},
            "query_string": {"role": "production"}, "content_type": "multipart/form-data"}


def credential_body(person, place, route):
    return {"data": bearer_token_file(86400 * 30, person), "query_string": {"role": "production"},
            "content_type": "application/octet-stream"}


SIGNATURE = dict(name=lambda p, _: f"sig_{p}", pattern="abc def", category="software")
NO_LOG = ((404, "no log"),)

RULES: dict[tuple[str, str], Rule] = {
    # --- signing in, the header switcher, one's own tokens ---------------------------------
    ("auth.index", "GET"): Rule(MEMBER, scoped=False),
    ("auth.login", "GET"): Rule(ANYONE, scoped=False),
    ("auth.login", "POST"): Rule(ANYONE, scoped=False, body=form(username=lambda p, _: p)),
    ("auth.logout", "POST"): Rule(ANYONE, scoped=False, also_allowed=((302, ""),)),
    ("auth.switch", "POST"): Rule(MEMBER, body=form(experiment=lambda _, pl: pl.experiment,
                                                    role="analysis")),
    ("tokens.index", "GET"): Rule(ANYONE, scoped=False),
    ("tokens.create", "POST"): Rule(ANYONE, scoped=False, body=form(name="t", days="5")),
    ("tokens.revoke", "POST"): Rule(ANYONE, personal=True),
    # --- administrators (POMS_ADMINS) and superusers ----------------------------------------
    ("admin.experiments", "GET"): Rule(NOBODY, scoped=False),
    ("admin.create_experiment", "POST"): Rule(NOBODY, scoped=False,
                                              body=form(name=lambda p, _: f"exp-{p}")),
    ("admin.set_active", "POST"): Rule(NOBODY, body=form(active="0")),
    ("admin.audit_all", "GET"): Rule(NOBODY, scoped=False),
    ("admin.audit", "GET"): Rule(SUPERUSER),
    ("admin.members_page", "GET"): Rule(SUPERUSER),
    ("admin.add_member", "POST"): Rule(SUPERUSER, body=form(
        principal=lambda p, _: f"new_{p}", role="analysis")),
    ("admin.change_role", "POST"): Rule(SUPERUSER, body=form(role="production-shifter")),
    ("admin.remove_member", "POST"): Rule(SUPERUSER),
    # --- campaigns (a production campaign) ---------------------------------------------------
    ("campaigns.index", "GET"): Rule(MEMBER),
    ("campaigns.upload_form", "GET"): Rule(MEMBER),
    # The preview is a dry run: its page says what the person may not do.
    ("campaigns.upload_preview", "POST"): Rule(MEMBER, body=ini_upload),
    ("campaigns.upload", "POST"): Rule(PRODUCTION, body=ini_upload),
    ("campaigns.show", "GET"): Rule(MEMBER),
    ("campaigns.export", "GET"): Rule(MEMBER),
    ("campaigns.clone", "POST"): Rule(PRODUCTION, body=form(new_name=lambda p, _: f"copy_{p}")),
    ("campaigns.delete", "POST"): Rule(PRODUCTION),
    ("campaigns.campaign_field", "GET"): Rule(MEMBER),
    ("campaigns.campaign_field", "POST"): Rule(PRODUCTION, body=form(value="Inactive")),
    ("campaigns.stage", "GET"): Rule(MEMBER),
    ("campaigns.stage_field", "GET"): Rule(MEMBER),
    ("campaigns.stage_field", "POST"): Rule(PRODUCTION, body=form(value="90")),
    ("campaigns.stage_test_split_type", "GET"): Rule(MEMBER),
    ("campaigns.stage_test_split_type", "POST"): Rule(PRODUCTION, body=form(value="draining")),
    ("campaigns.stage_splits", "GET"): Rule(MEMBER),
    ("campaigns.reset_stage_splits", "POST"): Rule(SHIFTER),
    # the campaign editor: only who may change the campaign opens it, previews, saves
    ("campaigns.editor", "GET"): Rule(PRODUCTION),
    ("campaigns.editor_change", "POST"): Rule(PRODUCTION, body=form(
        operations="[]", op="rename_stage", stage=lambda _, place: place.stage, name="renamed")),
    ("campaigns.editor_save", "POST"): Rule(PRODUCTION, body=form(
        operations=lambda _, place: f'[{{"op": "set_fields", "stage": "{place.stage}", '
                                    '"fields": {"completion_pct": "90"}}]')),
    # every version of a campaign: anyone of the experiment reads them; rolling back is an
    # edit (its preview shows the upload's Update button only to who may press it)
    ("campaigns.versions_page", "GET"): Rule(MEMBER),
    ("campaigns.version_diff", "GET"): Rule(MEMBER),
    ("campaigns.version_export", "GET"): Rule(MEMBER),
    ("campaigns.version_rollback", "GET"): Rule(PRODUCTION),
    # --- job types (made by the experiment's superuser) --------------------------------------
    ("definitions.index", "GET"): Rule(MEMBER),
    ("definitions.show", "GET"): Rule(MEMBER),
    ("definitions.field", "GET"): Rule(MEMBER),
    ("definitions.field", "POST"): Rule(PRODUCTION, body=form(value="%.art")),
    ("definitions.clone", "POST"): Rule(MEMBER, body=form(new_name=lambda p, _: f"copy_{p}")),
    ("definitions.create", "POST"): Rule(MEMBER, body=form(
        name=lambda p, _: f"new_{p}", launch_script="fife_launch")),
    ("definitions.remove", "POST"): Rule(PRODUCTION),  # in use: said on its page
    # --- uploaded files, credentials among them (one's own, in an experiment one is in) ------
    ("uploads.index", "GET"): Rule(MEMBER),
    ("uploads.credentials", "GET"): Rule(MEMBER),  # the old page's address: a 301 to uploads
    # A refused credential is said on the page (a redirect with its reason); the API's
    # upload_files below answers 403 for it, so the role policy is checked there.
    ("uploads.upload", "POST"): Rule(MEMBER, body=file_upload),
    ("uploads.download", "GET"): Rule(MEMBER, personal=True),
    ("uploads.remove", "POST"): Rule(MEMBER, personal=True),
    # --- failure signatures ------------------------------------------------------------------
    ("signatures.index", "GET"): Rule(MEMBER),
    ("signatures.add", "POST"): Rule(PRODUCTION, body=form(**SIGNATURE)),
    ("signatures.row", "GET"): Rule(MEMBER),
    ("signatures.save", "POST"): Rule(PRODUCTION, body=form(**SIGNATURE)),
    ("signatures.delete", "POST"): Rule(PRODUCTION),
    ("signatures.move", "POST"): Rule(PRODUCTION, body=form(direction="down")),
    ("signatures.trial", "POST"): Rule(PRODUCTION, body=form(pattern="abc")),
    ("signatures.relabel_offer", "GET"): Rule(PRODUCTION),
    ("signatures.relabel_preview", "POST"): Rule(PRODUCTION),
    ("signatures.relabel", "POST"): Rule(PRODUCTION, body=form(fingerprint="stale")),
    # --- launching, submissions, chaining ----------------------------------------------------
    ("submissions.dashboard", "GET"): Rule(MEMBER),
    ("submissions.dashboard_live", "GET"): Rule(MEMBER),
    ("submissions.stage_section", "GET"): Rule(MEMBER),
    ("submissions.launch_preview", "GET"): Rule(SHIFTER),
    ("submissions.launch", "POST"): Rule(SHIFTER, body=form(test="1")),
    ("submissions.stage_hold", "POST"): Rule(SHIFTER),
    ("submissions.stage_schedule", "POST"): Rule(SHIFTER, body=form(schedule="")),
    ("submissions.show", "GET"): Rule(MEMBER),
    ("submissions.summary", "GET"): Rule(MEMBER),
    ("submissions.jobs", "GET"): Rule(MEMBER),
    ("submissions.output", "GET"): Rule(MEMBER),
    ("submissions.history", "GET"): Rule(MEMBER),
    ("submissions.job_log", "GET"): Rule(MEMBER),
    ("submissions.retry_uploads", "POST"): Rule(SHIFTER),
    ("submissions.act", "POST"): Rule(SHIFTER),
    ("submissions.relaunch_preview", "GET"): Rule(SHIFTER),  # not LaunchFailed: 422 says so
    ("submissions.relaunch_submission", "POST"): Rule(SHIFTER),
    # --- the operator's view: overview, needs attention, bulk actions, the launch hold -------
    ("overview.campaign", "GET"): Rule(MEMBER),
    ("overview.campaign_live", "GET"): Rule(MEMBER),
    ("overview.campaign_graph", "GET"): Rule(MEMBER),
    ("overview.attention", "GET"): Rule(MEMBER),
    # The live pages' event stream: a member, for the experiment's own things (a foreign
    # topic is 404: tests/live/test_stream.py). Redis does not answer here: 503, not refused.
    ("live.events", "GET"): Rule(MEMBER, body=lambda person, place, route: {
        "query_string": {"topic": f"submission-{place.submission_id}"}}),
    ("overview.campaigns_glance", "GET"): Rule(MEMBER),
    ("overview.bulk_page", "GET"): Rule(MEMBER),
    # Each submission is checked on its own (tests/overview/test_bulk.py); none named here.
    ("overview.bulk_apply", "POST"): Rule(MEMBER, body=form(action="hold")),
    ("overview.launches", "POST"): Rule(PRODUCTION, body=form(reason="downtime")),
    # --- watches (one's own), deliveries, a stage's circuit breaker ---------------------------
    ("watching.watch_form", "GET"): Rule(MEMBER, body=lambda person, place, route: {
        "query_string": {"stage_id": place.stage_id}}),
    ("watching.watch", "POST"): Rule(MEMBER, body=form(
        stage_id=lambda _, place: place.stage_id, target=lambda p, _: f"{p}@example.org")),
    ("watching.unwatch", "POST"): Rule(MEMBER, personal=True),
    ("watching.index", "GET"): Rule(MEMBER),
    ("watching.deliveries", "GET"): Rule(MEMBER),
    ("watching.banner", "GET"): Rule(MEMBER),
    ("watching.release", "POST"): Rule(SHIFTER),  # not tripped: 409 for those allowed
    ("watching.set_policy", "POST"): Rule(PRODUCTION, body=form(
        scope="experiment", window="20", percent="50", enabled="on")),
    # --- provenance: a file's page, a job's files, a campaign's data flow ---------------------
    ("provenance.file", "GET"): Rule(MEMBER),
    ("provenance.job_files", "GET"): Rule(MEMBER),
    ("provenance.data_flow", "GET"): Rule(MEMBER),
    ("chaining.ledger", "GET"): Rule(MEMBER),
    ("chaining.recovery", "GET"): Rule(MEMBER),
    ("chaining.force_located", "POST"): Rule(SHIFTER),
    ("chaining.recover", "POST"): Rule(SHIFTER),
    ("chaining.reprocess", "POST"): Rule(SHIFTER, body=form(files="f.art", reason="r")),
    # --- results ---------------------------------------------------------------------------
    **{(f"results.{name}", "GET"): Rule(MEMBER) for name in (
        "calendar", "campaign", "stage", "stage_files", "stage_export", "submission", "files",
        "files_export", "job_log", "jobs", "jobs_export", "submission_plot", "summary",
        "summary_export")},
    ("results.job_log_search", "GET"): Rule(
        MEMBER, body=lambda person, place, route: {"query_string": {"q": "error"}}),
    ("results.memory_policy", "POST"): Rule(PRODUCTION, body=form(factor="1.5", cap_mb="4000")),
    # --- the embedded UconDB: reads for anyone, writes for its Digest writers only ------------
    **{(f"ucondb.{name}", "GET"): Rule(ANYONE, scoped=False) for name in (
        "index", "version", "probe", "folders", "objects", "tags", "versions", "get_blob",
        "data", "get", "ui.index_page", "ui.folder_page", "ui.object_page",
        "ui.version_page")},
    ("ucondb.lookup_versions", "POST"): Rule(ANYONE, scoped=False, body=json_body(ids=[1])),
    **{(f"ucondb.{name}", method): Rule(NOBODY, scoped=False, body=ucondb_write)
       for name, method in (("create_folder", "GET"), ("create_folder", "POST"),
                            ("data", "POST"), ("data", "PUT"), ("put", "POST"), ("put", "PUT"),
                            ("tag", "GET"), ("tag", "POST"))},
    # --- the API (the same rules, through /api/v1) --------------------------------------------
    ("api.openapi_document", "GET"): Rule(ANYONE, scoped=False),
    ("api.me", "GET"): Rule(ANYONE, scoped=False),
    ("api.experiments", "GET"): Rule(ANYONE, scoped=False),
    ("api.ucondb_location", "GET"): Rule(ANYONE, scoped=False),
    ("api.list_tokens", "GET"): Rule(ANYONE, scoped=False),
    ("api.create_token", "POST"): Rule(ANYONE, scoped=False, body=json_body(name="t")),
    ("api.revoke_token", "DELETE"): Rule(ANYONE, personal=True),
    **{(f"api.{name}", "GET"): Rule(MEMBER) for name in (
        "list_campaigns", "show_campaign", "export_campaign", "show_stage", "preview_split",
        "campaign_status", "list_credentials", "list_uploads", "list_job_types", "show_job_type",
        "list_login_setups", "show_login_setup", "list_signatures", "list_submissions",
        "show_submission", "list_jobs", "submission_history", "submission_files",
        "submission_output")},
    ("api.job_log", "GET"): Rule(MEMBER, also_allowed=NO_LOG),
    ("api.upload_campaign", "POST"): Rule(PRODUCTION, body=ini_body),
    ("api.clone_campaign", "POST"): Rule(PRODUCTION,
                                         body=json_body(new_name=lambda p, _: f"copy_{p}")),
    ("api.delete_campaign", "DELETE"): Rule(PRODUCTION),
    ("api.edit_campaign", "PATCH"): Rule(PRODUCTION,
                                         body=json_body(fields={"state": "Inactive"})),
    ("api.edit_stage", "PATCH"): Rule(PRODUCTION,
                                      body=json_body(fields={"completion_pct": "90"})),
    ("api.launch_stage", "POST"): Rule(SHIFTER, body=json_body(dry_run=True, test=True)),
    ("api.hold_stage", "POST"): Rule(SHIFTER),
    ("api.launches", "GET"): Rule(MEMBER),
    ("api.hold_launches", "POST"): Rule(PRODUCTION, body=json_body(reason="downtime")),
    ("api.release_launches", "POST"): Rule(PRODUCTION),
    ("api.release_stage", "POST"): Rule(SHIFTER),
    ("api.schedule_stage", "PUT"): Rule(SHIFTER, body=json_body(schedule="")),
    **{(f"api.{action}_submission", "POST"): Rule(SHIFTER) for action in (
        "kill", "hold", "release", "approve", "refuse")},
    ("api.submission_actions", "GET"): Rule(MEMBER),
    ("api.recover_submission", "POST"): Rule(SHIFTER, body=json_body(dry_run=True)),
    ("api.update_submission", "POST"): Rule(SHIFTER,
                                            body=json_body(jobsub_job_id="9.0@jobsub01")),
    # the original client's calls (poms_client.compat) over the API
    **{(f"api.{name}", "GET"): Rule(MEMBER) for name in (
        "campaign_by_id", "stage_by_id", "job_type_by_id", "login_setup_by_id")},
    ("api.create_job_type", "POST"): Rule(MEMBER, body=json_body(
        name=lambda p, _: f"jt_{p}", fields={"launch_script": "fife_launch"})),
    ("api.edit_job_type", "PATCH"): Rule(PRODUCTION, body=json_body(
        fields={"output_file_patterns": "%.art"})),
    ("api.delete_job_type", "DELETE"): Rule(PRODUCTION),  # in use: 409 for those allowed
    ("api.merge_job_type_recoveries", "POST"): Rule(PRODUCTION, body=json_body(
        recoveries=[["added_files", []]])),
    ("api.create_login_setup", "POST"): Rule(MEMBER, body=json_body(
        name=lambda p, _: f"ls_{p}", fields={"host": "gpvm01", "account": "someone"})),
    ("api.edit_login_setup", "PATCH"): Rule(PRODUCTION, body=json_body(
        fields={"setup": "echo ready"})),
    ("api.delete_login_setup", "DELETE"): Rule(PRODUCTION),
    ("api.add_stage", "POST"): Rule(PRODUCTION, body=json_body(name=lambda p, _: f"st_{p}")),
    ("api.delete_stage", "DELETE"): Rule(PRODUCTION),  # launched: 409 for those allowed
    ("api.list_versions", "GET"): Rule(MEMBER),
    ("api.diff_versions", "GET"): Rule(MEMBER, body=lambda person, place, route: {
        "query_string": {"from": 1, "to": 1}}),
    ("api.export_version", "GET"): Rule(MEMBER),
    ("api.rollback_version", "POST"): Rule(PRODUCTION),
    ("api.edit_campaign_graph", "POST"): Rule(PRODUCTION, body=json_body(
        operations=lambda _, place: [{"op": "set_fields", "stage": place.stage,
                                      "fields": {"completion_pct": "90"}}])),
    ("api.merge_stage_param_overrides", "POST"): Rule(PRODUCTION, body=json_body(
        param_overrides=[["-Oa=", "1"]])),
    ("api.tag_campaigns", "POST"): Rule(PRODUCTION, body=json_body(
        campaigns=lambda _, place: [place.campaign])),
    ("api.register_external_submission", "POST"): Rule(SHIFTER, body=json_body(command="x")),
    ("api.upload_credential", "POST"): Rule(SHIFTER, body=credential_body),
    ("api.delete_credential_", "DELETE"): Rule(MEMBER, personal=True),
    ("api.upload_files", "POST"): Rule(SHIFTER, body=credentials_upload),
    ("api.download_file", "GET"): Rule(MEMBER, personal=True),
    ("api.remove_file", "DELETE"): Rule(MEMBER, personal=True),
    ("api.list_watches", "GET"): Rule(MEMBER),
    ("api.add_watch", "POST"): Rule(MEMBER, body=json_body(
        campaign=lambda _, place: place.campaign, stage=lambda _, place: place.stage,
        target=lambda p, _: f"{p}@example.org")),
    ("api.remove_watch", "POST"): Rule(MEMBER, body=json_body(
        campaign=lambda _, place: place.campaign)),
    ("api.list_deliveries", "GET"): Rule(MEMBER),
    ("api.file_provenance", "GET"): Rule(MEMBER),
    ("api.campaign_data_flow", "GET"): Rule(MEMBER),
    ("api.stage_breaker", "GET"): Rule(MEMBER),
    ("api.resume_stage", "POST"): Rule(SHIFTER),  # not tripped: 409 for those allowed
    ("api.add_signature", "POST"): Rule(PRODUCTION, body=json_body(**SIGNATURE)),
    ("api.edit_signature", "PATCH"): Rule(PRODUCTION, body=json_body(action="look")),
    ("api.delete_signature", "DELETE"): Rule(PRODUCTION),
}


def url_values(place: Place, person: str, experiment: str | None = None,
               whose: str | None = None) -> dict:
    """What each argument of a rule is, for this person at this place (with `whose`: that
    person's things where things are one person's own)."""
    whose = whose or person
    return {
        "experiment": experiment or place.experiment, "campaign_id": place.campaign_id,
        "campaign": place.campaign, "stage_id": place.stage_id, "stage": place.stage,
        "submission_id": place.submission_id, "job_id": place.job_id,
        "signature_id": place.signature_id, "job_type_id": place.job_type_id,
        "login_setup_id": place.login_setup_id, "tag": "t1",
        "item_id": place.job_type_id, "kind": "job_type", "membership_id": place.membership_id,
        "experiment_id": place.experiment_id,
        # one's own credential, file and token here; someone else's where one has none
        "credential_id": place.credential_of.get(whose) or next(iter(
            place.credential_of.values())),
        "upload": place.upload_of.get(whose) or next(iter(place.upload_of.values())),
        "token_id": place.token_of.get(whose) or next(iter(place.token_of.values())),
        "watch_id": place.watch_of.get(whose) or next(iter(place.watch_of.values())),
        "file_name": place.file_name,
        "database": "poms", "rest": "f1/o1", "folder_name": "f1", "filename": "x",
        "fmt": "json", "action": "hold", "number": 1,
    }


# Arguments that name a thing of the experiment (the others pick a form or a page).
THINGS = {"campaign_id", "campaign", "stage_id", "stage", "submission_id", "job_id",
          "signature_id", "job_type_id", "login_setup_id", "item_id", "membership_id",
          "credential_id", "name", "watch_id", "file_name"}


def names_a_thing(route: Route) -> bool:
    return any(f":{arg}>" in route.rule or f"<{arg}>" in route.rule for arg in THINGS)


def key_for(route: Route) -> str:
    if route.endpoint == "campaigns.campaign_field":
        return "state"
    if route.endpoint == "campaigns.stage_field":
        return "completion_pct"
    return "output_file_patterns"  # definitions.field of a job type


# --- the world, built once and copied for each case ---------------------------------------


@pytest.fixture(scope="session")
def world_template(request, tmp_path_factory):
    """(the world's database URL, the world, its uploads folder, and on PostgreSQL a
    DatabasePool of copies of it made ahead in the background)."""
    uploads = tmp_path_factory.mktemp("world-uploads")
    pool = None
    if database_kind() == "postgresql":
        server = request.getfixturevalue("postgres_server")
        template = request.getfixturevalue("postgres_template")
        server.drop_database("poms_world")
        server.create_database("poms_world", template=template)
        url = server.url("poms_world")
    else:
        path = tmp_path_factory.mktemp("world") / "world.db"
        shutil.copy(request.getfixturevalue("migrated_template"), path)
        url = f"sqlite:///{path}"
    app = _app(url, POMS_UPLOADS_DIR=str(uploads))
    with app.app_context():
        world = build_world(str(uploads))
        db.session.remove()
        db.engine.dispose()  # a template database wants no one connected
    if database_kind() == "postgresql":
        # Each case takes a copy made while the one before ran, and its copy is dropped in
        # the background after: nine hundred cases wait for no CREATE or DROP DATABASE.
        pool = DatabasePool(server, "poms_world", prefix="world_")
    yield url, world, str(uploads), pool
    if pool is not None:
        pool.close()


@pytest.fixture
def world_app(world_template, new_database, tmp_path, request):
    """An app on a fresh copy of the world (new_database keeps it on the PostgreSQL run)."""
    url, world, uploads, pool = world_template
    name = None
    if pool is not None:
        name = pool.take()
        url = request.getfixturevalue("postgres_server").url(name)
    else:
        copy = tmp_path / "world.db"
        shutil.copy(url.removeprefix("sqlite:///"), copy)
        url = f"sqlite:///{copy}"
    uploads_copy = tmp_path / "uploads"
    shutil.copytree(uploads, uploads_copy)
    app = _app(url, POMS_UPLOADS_DIR=str(uploads_copy),
               POMS_REDIS_URL="redis://127.0.0.1:1/0",
               POMS_JOB_LOG_DIR=str(tmp_path / "logs"),
               POMS_BATCH_DIR=str(tmp_path / "batch"))
    with app.app_context():
        yield app, world
        db.session.remove()
        db.engine.dispose()
    if name:
        pool.release(name)


# --- the matrix --------------------------------------------------------------------------

_TABLE = routes(create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x",
                            "POMS_AUTH": "dev"}))
CASES = [pytest.param(route, person, id=f"{person}: {route.id}")
         for route in _TABLE for person in PEOPLE]


def test_every_route_has_a_rule():
    missing = [r.id for r in _TABLE if (r.endpoint, r.method) not in RULES]
    assert not missing, ("routes without a rule in the role matrix (add each, with the role "
                         f"check its view makes): {missing}")
    stale = set(RULES) - {(r.endpoint, r.method) for r in _TABLE}
    assert not stale, f"rules for routes that no longer exist: {sorted(stale)}"


def audit_count() -> int:
    return db.session.scalar(text("SELECT count(*) FROM audit_entry"))


def send(client, route: Route, rule: Rule, person: str, place: Place, url: str):
    extra = rule.body(person, place, route) if rule.body else {}
    headers = {}
    if route.is_api:
        headers["X-POMS-User"] = person
    elif route.method != "GET":
        headers["X-CSRFToken"] = client.csrf
    return client.open(url, method=route.method, headers=headers, **extra)


def refused(response) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    return response.status_code in (302, 303) and "/login" in response.headers.get(
        "Location", "")


@pytest.mark.parametrize(("route", "person"), CASES)
def test_role_matrix(world_app, route, person):
    app, world = world_app
    rule = RULES.get((route.endpoint, route.method))
    if rule is None:
        pytest.fail(f"{route.id} has no rule in the role matrix")
    role = PEOPLE[person]
    client = app.test_client()
    signed_in(client, person)
    client.csrf = csrf_token(client, "/tokens")
    own, other = world[OWN], world[OTHER]

    def url(place: Place, experiment: str | None = None, whose: str | None = None) -> str:
        values = url_values(place, person, experiment, whose)
        values["key"] = key_for(route)
        if "/uploads/" in route.rule:
            values["name"] = values["upload"]
        elif route.is_api:
            values["name"] = (place.login_setup if "/login_setups/" in route.rule
                              else place.job_type)
        return path_for(route.rule, values)

    # Another experiment's things, by its name and by ours; another person's own thing in
    # ours (the boss's: a superuser's, even). Each refused, and nothing changes.
    elsewhere = []
    if rule.scoped:
        elsewhere.append(("in nova", other, url(other)))
        if "<experiment>" in route.rule and names_a_thing(route):
            elsewhere.append(("nova's ids under mu2e", other, url(other, OWN)))
    if rule.personal:
        elsewhere.append(("another person's", own, url(own, whose="boss")))
    for where, place, target in elsewhere:
        before = audit_count()
        response = send(client, route, rule, person, place, target)
        assert refused(response), (
            f"{person} ({role}) reached {where}: {route.method} {target} -> "
            f"{response.status_code} {response.get_data(as_text=True)[:300]}")
        db.session.expire_all()
        assert audit_count() == before, f"{where}: refused, but something was audited"

    # Our own experiment's things.
    target = url(own)
    before = audit_count()
    response = send(client, route, rule, person, own, target)
    body = response.get_data(as_text=True)
    if rule.who(role):
        extra_ok = any(response.status_code == status and words in body
                       for status, words in rule.also_allowed)
        assert extra_ok or not refused(response), (
            f"{person} ({role}) should be allowed {route.method} {target}: "
            f"{response.status_code} {body[:300]}")
        assert response.status_code != 500, f"{route.method} {target}: {body[:500]}"
    else:
        assert refused(response), (
            f"{person} ({role}) should be refused {route.method} {target}: "
            f"{response.status_code} {body[:300]}")
        db.session.expire_all()
        assert audit_count() == before, "refused, but something was audited"

