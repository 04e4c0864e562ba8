"""Inline editing of one field, shared by the campaign, stage and definition pages; a field
of a campaign's spec through campaign_inline_edit.

GET shows the field (with ?edit=1, its form); POST saves it in one transaction and
shows the stored value, or the form again with the importer's reason.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import abort, render_template, request

from app.campaigns import permissions, store
from app.campaigns.spec import InvalidCampaign
from app.campaigns.store import CampaignInUse
from app.extensions import db


def inline_edit(
    key: str,
    *,
    read: Callable[[], str],
    save: Callable[[str], None],
    endpoint: str,
    may_edit: bool,
    refusal: str,
    origin: Callable[[], str] | None = None,
):
    """`origin`, when given, says where the stored value comes from (shown beside it)."""
    context = dict(key=key, value=read(), endpoint=endpoint, error=None, may_edit=may_edit,
                   origin=origin() if origin else None)
    if request.method == "GET":
        if request.args.get("edit") == "1" and may_edit:
            return render_template("campaigns/_field_edit.html", **context)
        return render_template("campaigns/_field.html", **context)
    if not may_edit:
        abort(403, refusal)
    raw = request.form.get("value", "")
    try:
        save(raw)
        db.session.commit()
    except InvalidCampaign as err:
        db.session.rollback()
        context.update(value=raw, error="; ".join(p.reason for p in err.problems))
        return render_template("campaigns/_field_edit.html", **context)
    except CampaignInUse as err:
        db.session.rollback()
        context.update(value=raw, error=str(err))
        return render_template("campaigns/_field_edit.html", **context)
    context.update(value=read(), origin=origin() if origin else None)
    return render_template("campaigns/_field.html", **context)


def campaign_inline_edit(access, campaign, key, *, read, apply, endpoint, origin=None):
    """A field of a campaign's spec (its own, or one of its stages'): `read` gives its text
    from the spec, `apply` a new spec with it changed; saved by storing the campaign again."""

    def save(raw: str) -> None:
        new_spec = apply(store.spec_from_campaign(campaign), raw)
        store.save_campaign(access.experiment, new_spec, access.user, source="page")

    return inline_edit(
        key,
        read=lambda: read(store.spec_from_campaign(campaign)),
        save=save,
        endpoint=endpoint,
        may_edit=permissions.may_edit(access, campaign),
        refusal=f"acting as {access.role}, you may not change campaign {campaign.name}",
        origin=(lambda: origin(store.spec_from_campaign(campaign))) if origin else None,
    )
