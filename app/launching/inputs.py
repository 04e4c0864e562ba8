"""Which dataset and input files a launch gets.

This is the one place a launch asks for its input: a dataset given for the launch (a
dependency's outputs, a recovery's files), else the next slice of the stage's dataset by
its split type (app/launching/splits.py, position kept per stage), else the stage's
dataset as it is named.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from app.launching.command import LaunchError

log = logging.getLogger(__name__)


class SplitsExhausted(LaunchError):
    """The stage's split type has no slice left: nothing to launch."""


@dataclass
class LaunchInput:
    dataset: str = ""  # what %(dataset)s becomes
    files: list[str] | None = None  # None: the catalogue was not asked
    note: str = ""  # for the dry run: where the input comes from, in words


def _none(value: str | None) -> bool:
    return not value or value.strip().lower() == "none"


def choose_input(stage, *, dataset_override: str | None = None, preview: bool = False,
                 config=None) -> LaunchInput:
    """The input of the next launch of `stage`. preview=True must change nothing (dry run);
    otherwise the stage's splitter moves on, in the caller's transaction."""
    if dataset_override:
        return LaunchInput(dataset=dataset_override, note="dataset given for this launch")
    dataset = stage.dataset_or_split_data
    if config is not None and not _none(stage.cs_split_type):
        return _next_slice(stage, dataset or "", preview, config)
    if _none(dataset):
        return LaunchInput(dataset="", note="this stage reads no dataset")
    return LaunchInput(dataset=dataset.strip(), note=f"the stage's dataset {dataset.strip()}")


def _next_slice(stage, dataset: str, preview: bool, config) -> LaunchInput:
    from app.catalog.base import CatalogError
    from app.catalog.cache import make_catalog
    from app.catalog.dimensions import DimensionError
    from app.catalog.split_state import stage_input
    from app.extensions import db
    from app.models.base import utcnow

    split = stage.cs_split_type.strip()
    catalog = make_catalog(config, stage.campaign.experiment.name, db.session)
    try:
        got = stage_input(db.session, stage.id, split, dataset, catalog, utcnow(),
                          preview_only=preview)
    except (CatalogError, DimensionError, ValueError) as err:
        raise LaunchError(f"stage {stage.name}: {split} over {dataset!r}: {err}") from None
    if got.done is not None:
        raise SplitsExhausted(f"stage {stage.name}: {got.note}")
    return LaunchInput(dataset=got.dataset, files=got.files, note=got.note)


@dataclass
class SlicePreview:
    slices: list  # the next Slice objects, in launch order
    done: str | None  # why the splits end there, if they do


def preview_slices(stage, config, n: int = 5) -> SlicePreview:
    """The stage's next `n` slices, as the next launches would take them; writes nothing
    (CatalogError and ValueError reach the caller)."""
    from app.catalog.cache import make_catalog
    from app.catalog.split_state import preview_stage
    from app.extensions import db
    from app.launching.splits import Done
    from app.models.base import utcnow

    try:
        catalog = make_catalog(config, stage.campaign.experiment.name, db.session)
        got = preview_stage(db.session, stage.id, stage.cs_split_type or "none",
                            stage.dataset_or_split_data or "", catalog, utcnow(), n)
    finally:
        db.session.rollback()  # a preview writes nothing
    return SlicePreview(
        slices=[s for s in got if not isinstance(s, Done)],
        done=next((s.reason for s in got if isinstance(s, Done)), None),
    )


def reset_splits(stage) -> None:
    """Start the stage's split type again from its first slice (caller commits)."""
    from app.catalog.split_state import reset_stage
    from app.extensions import db

    reset_stage(db.session, stage.id)
