"""Which dataset and input files a launch gets.

This is the one place a launch asks for its input: a dataset given for the launch (a
dependency's outputs, a recovery's files), else the next slice of the stage's dataset by
its split type (app/catalog/splits.py, position kept per stage), else the stage's
dataset as it is named. A test launch splits by the stage's test_split_type when it is set,
as the original's get_dataset_for, from a position of its own (the original shares one
position between both, which mixes the counters of two different split types).

At launch, `prepare_inputs` starts a catalogue project `poms_<submission>` over exactly
the launch's input files (its snapshot is the submission's input) and writes
`poms_inputs.json` in the launch directory with each file's location, for fife_launch and
the job wrapper (app/batch/job_files.py).

The campaign keywords are filled into the stage's dataset before it is split, so a split
makes its definitions from the name the launch will use (the original fills them only
into the name handed to the command, after splitting on the unfilled one).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from app.audit import audit
from app.batch.job_files import INPUT_LIST, write_json_atomic
from app.catalog.base import CatalogError
from app.catalog.cache import catalog_for, make_catalog
from app.catalog.dimensions import DimensionError
from app.catalog.outputs import project_name
from app.catalog.split_state import preview_stage, reset_stage, stage_input
from app.catalog.splits import Done, parse_split_type
from app.extensions import db
from app.launching.command import LAUNCH_NAMES, LaunchError
from app.launching.placeholders import PlaceholderError, expand_if_placeholders
from app.models import Submission
from app.models.base import utcnow
from app.models.catalog import CatalogFile, CatalogLocation, CatalogProject

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
    reset_stage(db.session, stage.id)


# --- at launch: the jobs' input list ----------------------------------------


def prepare_inputs(submission: Submission, dataset: str, files: list[str] | None,
                   workdir: Path, config) -> list[str] | None:
    """Start the submission's project over its input and write the jobs' input list.

    Returns the input files (None when the catalogue was not asked). Works in the caller's
    transaction; never raises for a dataset the catalogue does not know (the launch then
    runs without an input list, as before).
    """
    if not dataset and not files:
        return files
    catalog = catalog_for(submission, config)
    if catalog.kind != "embedded":
        return files
    try:
        if files is None:
            # A dataset (a dependency's 100,000 outputs): its files and where each is, read
            # once, in one query.
            defname = dataset
            where = catalog.list_files_located(f"defname: {dataset}")
            files = list(where)
        else:
            defname = f"poms_input_{submission.id}" if files else None
            where = None
        if not files:
            return files
        if where is None:
            catalog.create_list_definition(defname, files)
            where = first_locations(catalog.experiment, files)
        project = project_name(submission.id)
        known = db.session.scalar(select(CatalogProject.id).where(
            CatalogProject.experiment == catalog.experiment, CatalogProject.name == project))
        if known is None:
            catalog.start_project(project, defname)
        entries = [{"name": name, "location": where.get(name) or ""} for name in files]
    except (CatalogError, DimensionError, ValueError) as err:
        log.warning("submission %s: no input list: %s", submission.id, err)
        return files
    workdir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(workdir / INPUT_LIST, {
        "submission": submission.id, "project": project, "dataset": defname, "files": entries,
    })
    return files


def first_locations(experiment: str, names: list[str]) -> dict[str, str]:
    """Each located file's first location, in one query per 500 names (a big dataset's
    input list must not cost a query per file)."""
    out: dict[str, str] = {}
    for start in range(0, len(names), 500):
        rows = db.session.execute(
            select(CatalogFile.name, CatalogLocation.location)
            .join(CatalogLocation, CatalogLocation.file_id == CatalogFile.id)
            .where(CatalogFile.experiment == experiment,
                   CatalogFile.name.in_(names[start:start + 500]))
            .order_by(CatalogLocation.id))
        for name, where in rows:
            out.setdefault(name, where)
    return out
