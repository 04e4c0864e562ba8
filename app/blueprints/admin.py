"""Admin pages: experiments (administrators), members (superusers), the audit log.

HTMX inline: each form posts and gets back the table it changed, with a line saying what
happened (or why not); without JavaScript the same forms post and redirect.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app import audit as audit_log
from app.auth import members, policy
from app.auth.members import MemberError
from app.auth.session import Access, is_admin, managing_access
from app.blueprints.views import is_htmx
from app.extensions import db
from app.ids import page_number
from app.models import Experiment, Membership

bp = Blueprint("admin", __name__)


def _answer(fragment: str, page_endpoint: str, message: str, ok: bool, **context):
    """The changed table for htmx; otherwise a flash and back to the page."""
    if is_htmx():
        return render_template(fragment, message=message, ok=ok, **context)
    flash(message, "ok" if ok else "error")
    return redirect(url_for(page_endpoint, **context.get("url_args", {})))


def _page() -> int:
    return page_number(request.args.get("page"))


# --- experiments (administrators) -----------------------------------------------------


def _require_admin() -> None:
    if not policy.may_manage_experiments(is_admin=is_admin()):
        abort(403, "only POMS administrators manage experiments")


def _experiments_context() -> dict:
    rows = db.session.scalars(select(Experiment).order_by(Experiment.name)).all()
    return {"experiments": rows}


@bp.get("/admin/experiments")
@login_required
def experiments():
    _require_admin()
    return render_template("admin/experiments.html", **_experiments_context())


@bp.post("/admin/experiments")
@login_required
def create_experiment():
    _require_admin()
    form = request.form
    first = form.get("superuser", "").strip()
    try:
        realms = current_app.config["POMS_REALMS"]
        username = members.username_from(first, realms) if first else None
        experiment = members.create_experiment(
            form.get("name", ""), form.get("description", ""), _me(), first_superuser=username
        )
        db.session.commit()
    except MemberError as err:
        db.session.rollback()
        return _answer("admin/_experiments.html", "admin.experiments", f"Not created: {err}.",
                       False, **_experiments_context())
    message = f"Created experiment {experiment.name}" + (
        f" with {username} as superuser." if username else "."
    )
    return _answer("admin/_experiments.html", "admin.experiments", message, True,
                   **_experiments_context())


@bp.post("/admin/experiments/<int:experiment_id>/active")
@login_required
def set_active(experiment_id: int):
    _require_admin()
    experiment = db.session.get(Experiment, experiment_id)
    if experiment is None:
        abort(404, "no such experiment")
    active = request.form.get("active") == "1"
    members.set_experiment_active(experiment, active, _me())
    db.session.commit()
    message = f"{experiment.name} is {'active' if active else 'deactivated'}."
    return _answer("admin/_experiments.html", "admin.experiments", message, True,
                   **_experiments_context())


def _me():
    return current_user._get_current_object()


# --- members (superusers of the experiment, administrators) ---------------------------


def _members_access(experiment: str) -> Access:
    access = managing_access(experiment)
    if not policy.may_manage_members(access.role, is_admin=access.is_admin):
        abort(403, f"acting as {access.role or 'a non-member'}, you may not manage the "
                   f"members of {experiment}")
    return access


def _members_context(access: Access) -> dict:
    return {
        "access": access,
        "members": members.members(access.experiment),
        "roles": policy.ROLES,
        "url_args": {"experiment": access.experiment.name},
    }


def _membership(access: Access, membership_id: int) -> Membership:
    row = db.session.get(Membership, membership_id)
    if row is None or row.experiment_id != access.experiment.id:
        abort(404, "no such member of this experiment")
    return row


@bp.get("/e/<experiment>/members")
@login_required
def members_page(experiment):
    access = _members_access(experiment)
    return render_template("admin/members.html", **_members_context(access))


def _member_change(access: Access, change) -> object:
    try:
        message = change()
        db.session.commit()
        ok = True
    except MemberError as err:
        db.session.rollback()
        message, ok = f"Not done: {err}.", False
    return _answer("admin/_members.html", "admin.members_page", message, ok,
                   **_members_context(access))


@bp.post("/e/<experiment>/members")
@login_required
def add_member(experiment):
    access = _members_access(experiment)

    def change() -> str:
        username = members.username_from(
            request.form.get("principal", ""), current_app.config["POMS_REALMS"]
        )
        role = request.form.get("role", "")
        members.add_member(access.experiment, username, role, access.user)
        return f"Added {username} as {role}."

    return _member_change(access, change)


@bp.post("/e/<experiment>/members/<int:membership_id>/role")
@login_required
def change_role(experiment, membership_id: int):
    access = _members_access(experiment)
    row = _membership(access, membership_id)

    def change() -> str:
        role = request.form.get("role", "")
        if not members.change_role(row, role, access.user):
            return f"{row.experimenter.username} is already {role}."
        return f"{row.experimenter.username} is now {role}."

    return _member_change(access, change)


@bp.post("/e/<experiment>/members/<int:membership_id>/remove")
@login_required
def remove_member(experiment, membership_id: int):
    access = _members_access(experiment)
    row = _membership(access, membership_id)

    def change() -> str:
        username = row.experimenter.username
        members.remove_member(row, access.user)
        return f"Removed {username} from {access.experiment.name}."

    return _member_change(access, change)


# --- the audit log ---------------------------------------------------------------------


def _audit_filter() -> audit_log.AuditFilter:
    args = request.args
    return audit_log.AuditFilter(
        action=args.get("action", "").strip(),
        person=args.get("person", "").strip(),
        subject=args.get("subject", "").strip(),
        since=audit_log.parse_day(args.get("since", "")),
        until=audit_log.parse_day(args.get("until", "")),
    )


def _audit_page(experiment: Experiment | None, endpoint: str, url_args: dict, access=None):
    wanted = _audit_filter()
    page = _page()
    size = current_app.config["POMS_PAGE_SIZE"]
    entries, total = audit_log.search(experiment, wanted, page=page, size=size)
    context = dict(
        access=access, experiment=experiment, entries=entries, total=total, page=page,
        pages=max(1, -(-total // size)), wanted=wanted, actions=audit_log.actions(experiment),
        endpoint=endpoint, url_args=url_args,
        changes={e.id: audit_log.field_changes(e.before, e.after) for e in entries},
        people=audit_log.people(experiment),
    )
    if is_htmx() and request.headers.get("HX-Target") == "audit-table":
        return render_template("admin/_audit.html", **context)
    return render_template("admin/audit.html", **context)


@bp.get("/e/<experiment>/audit")
@login_required
def audit(experiment):
    access = managing_access(experiment)
    if not policy.may_read_audit(access.role, is_admin=access.is_admin):
        abort(403, f"acting as {access.role or 'a non-member'}, you may not read the audit "
                   f"log of {experiment}")
    return _audit_page(access.experiment, "admin.audit", {"experiment": experiment}, access)


@bp.get("/admin/audit")
@login_required
def audit_all():
    _require_admin()
    return _audit_page(None, "admin.audit_all", {})
