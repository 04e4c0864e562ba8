"""Which dataset and input files a launch gets.

This is the one place a launch asks for its input: a dataset given for the launch (a
dependency's outputs, a recovery's files), else the next slice of the stage's dataset by
its split type (app/catalog/splits.py, position kept per stage), else the stage's
dataset as it is named. A test launch splits by the stage's test_split_type when it is set,
as the original's get_dataset_for, from a position of its own (the original shares one
position between both, which mixes the counters of two different split types).

The campaign keywords are filled into the stage's dataset before it is split, so a split
makes its definitions from the name the launch will use (the original fills them only
into the name handed to the command, after splitting on the unfilled one).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from app.audit import audit
from app.catalog.splits import parse_split_type
from app.launching.command import LAUNCH_NAMES, LaunchError
from app.launching.placeholders import PlaceholderError, expand_if_placeholders

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


def split_for(stage, test: bool) -> tuple[str, str]:
    """(split type, whose position) of the next launch: a test launch's test_split_type
    when the stage has one, else cs_split_type."""
    if test and not _none(stage.test_split_type):
        return stage.test_split_type.strip(), "test"
    return (stage.cs_split_type or "").strip(), "launch"


def set_test_split_type(stage, text: str, user) -> None:
    """Set what the stage's test launches split by ("" or None: as its launches), checked
    and audited; ValueError says what is wrong (caller commits). It is no INI field: the
    original neither imports nor exports it."""
    text = (text or "").strip()
    value = "" if _none(text) else str(parse_split_type(text))
    before = stage.test_split_type
    if value != before:
        stage.test_split_type = value
        audit(stage.campaign.experiment, user, "test split type changed",
              f"{stage.campaign.name} / {stage.name}", {"test_split_type": before},
              {"test_split_type": value})


def stage_dataset(stage) -> str:
    """The stage's dataset field with the campaign keywords filled in (only those, and
    only when it holds a placeholder, as the original fills a dataset)."""
    keywords = {str(k): str(v) for k, v in (stage.campaign.keywords or {}).items()}
    try:
        return expand_if_placeholders(
            stage.dataset_or_split_data or "", keywords,
            f"stage {stage.name}: dataset_or_split_data", not_here=LAUNCH_NAMES,
            not_here_why="only the campaign keywords are filled in a dataset, as in the "
                         "original")
    except PlaceholderError as err:
        raise LaunchError(str(err)) from None


def choose_input(stage, *, dataset_override: str | None = None, preview: bool = False,
                 config=None, test: bool = False) -> LaunchInput:
    """The input of the next launch of `stage`. preview=True must change nothing (dry run);
    otherwise the stage's splitter moves on, in the caller's transaction."""
    if dataset_override:
        return LaunchInput(dataset=dataset_override, note="dataset given for this launch")
    dataset = stage_dataset(stage)
    split, purpose = split_for(stage, test)
    if config is not None and not _none(split):
        return _next_slice(stage, split, purpose, dataset, preview, config)
    if _none(dataset):
        return LaunchInput(dataset="", note="this stage reads no dataset")
    return LaunchInput(dataset=dataset.strip(), note=f"the stage's dataset {dataset.strip()}")


def _next_slice(stage, split: str, purpose: str, dataset: str, preview: bool,
                config) -> LaunchInput:
    from app.catalog.base import CatalogError
    from app.catalog.cache import make_catalog
    from app.catalog.dimensions import DimensionError
    from app.catalog.split_state import stage_input
    from app.extensions import db
    from app.models.base import utcnow

    catalog = make_catalog(config, stage.campaign.experiment.name, db.session)
    try:
        got = stage_input(db.session, stage.id, split, dataset, catalog, utcnow(),
                          preview_only=preview, purpose=purpose)
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
    from app.catalog.splits import Done
    from app.extensions import db
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
