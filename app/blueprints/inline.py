"""Inline editing of one field, shared by the campaign, stage and definition pages.

GET shows the field (with ?edit=1, its form); POST saves it in one transaction and
shows the stored value, or the form again with the importer's reason.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import abort, render_template, request

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
):
    context = dict(key=key, value=read(), endpoint=endpoint, error=None, may_edit=may_edit)
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
    context["value"] = read()
    return render_template("campaigns/_field.html", **context)
