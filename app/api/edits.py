"""Edits of campaigns, stages, job types and login setups as INI text, each checked by the
importer (app/campaigns/editing.py) as the pages do, and stored in one transaction.
"""
from __future__ import annotations

import json
from collections.abc import Callable

from app.api.answers import invalid, problem_json
from app.api.core import ApiError, json_body, reason_arg, refuse
from app.api.schemas import STRING, array, obj
from app.auth.session import Access
from app.campaigns import permissions, store
from app.campaigns.spec import InvalidCampaign
from app.extensions import db
from app.models import Campaign


def require_edit(acc: Access, campaign: Campaign) -> None:
    try:
        permissions.require_edit(acc, campaign)
    except permissions.Refused as err:
        raise refuse(str(err)) from None


def ini_text(key: str, value) -> str:
    """A JSON value as the INI would say it; the importer decides whether it is right."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | dict):
        return json.dumps(value)
    raise ApiError(422, f"{key}: give the value as INI text", key)


def edit_body(allowed: tuple[str, ...]) -> dict[str, str]:
    body = json_body()
    fields = body.get("fields", body)
    if not isinstance(fields, dict) or not fields:
        raise ApiError(400, "give the fields to change: {\"fields\": {key: INI text}}")
    for key in fields:
        if key not in allowed:
            raise ApiError(422, f"{key!r} is not an editable field; these are: "
                           f"{', '.join(allowed)}", key)
    return {key: ini_text(key, value) for key, value in fields.items()}


def refused_field(key: str, err: InvalidCampaign) -> ApiError:
    return ApiError(422, f"{key}: " + "; ".join(p.reason for p in err.problems), key,
                    problems=[problem_json(p) for p in err.problems])


def save_edits(acc: Access, campaign: Campaign, edits: dict, apply, then=None) -> None:
    """Apply each edit through the importer (and `then`, a last change of the whole
    spec), then store the campaign: one transaction."""
    spec = store.spec_from_campaign(campaign)
    for key, raw in edits.items():
        try:
            spec = apply(spec, key, raw)
        except InvalidCampaign as err:
            raise refused_field(key, err) from None
    if then is not None:
        spec = then(spec)
    commit_save(lambda: store.save_campaign(acc.experiment, spec, acc.user, source="api",
                                            reason=reason_arg()))


def commit_save(save: Callable[[], Campaign]) -> Campaign:
    """Run a save of a campaign (store.save_campaign: a new version) and commit it: the
    importer's refusal answers 422, a launched stage it would remove 409."""
    try:
        campaign = save()
        db.session.commit()
    except InvalidCampaign as err:
        raise invalid(err) from None
    except store.CampaignInUse as err:
        raise ApiError(409, str(err)) from None
    return campaign


def depends_body(body: dict) -> list[tuple[str, str]]:
    """depends_on: [{"stage": parent, "file_pattern": pattern}, ...] (its order gives N)."""
    depends = body.get("depends_on", [])
    if not isinstance(depends, list) or not all(
        isinstance(d, dict) and isinstance(d.get("stage"), str)
        and isinstance(d.get("file_pattern"), str) for d in depends
    ):
        raise ApiError(422, "depends_on: a list of {\"stage\": parent stage, "
                       "\"file_pattern\": pattern}", "depends_on")
    return [(d["stage"], d["file_pattern"]) for d in depends]


DEPENDS_SCHEMA = array(obj({"stage": STRING, "file_pattern": STRING}, ["stage", "file_pattern"]))
