"""The change preview an upload shows before anything is saved, shared by the upload page
and a rollback to an earlier version (which is an upload of that version's INI text): the
file read against the experiment, what it changes, whether the person may save it, and
what saving does to the campaign's launches (app/launching/impact.py).
"""
from __future__ import annotations

from flask import current_app

from app.auth.session import Access
from app.campaigns import permissions, store
from app.campaigns.spec import InvalidCampaign, Problem
from app.launching import impact


def preview_context(access: Access, filename: str, text: str) -> dict:
    """What campaigns/_preview.html shows for the file: a dry run, nothing is written."""
    context = dict(access=access, spec=None, problems=[], warnings=[], changes=[],
                   existing=None, impact=None, filename=filename, ini_text=text)
    try:
        if not text.strip():
            raise InvalidCampaign([Problem(filename, None, None, "is empty: pick an .ini file")])
        spec, warnings = store.read_ini(access.experiment, text, filename,
                                        current_app.config["POMS_MAX_STAGES"])
        permissions.check_experiment(spec, filename, access)
        existing, changes = store.upload_plan(access.experiment, spec)
        context.update(spec=spec, warnings=warnings, changes=changes, existing=existing)
        permissions.authorise_upload(access, spec, existing)
    except permissions.Refused as err:
        context.update(refused=str(err))
    except InvalidCampaign as err:
        context.update(problems=err.problems, warnings=err.warnings)
    else:
        context["impact"] = impact.impact(
            existing, lambda: store.save_campaign(access.experiment, spec, access.user),
            access.user, current_app.config, changes)
    return context
