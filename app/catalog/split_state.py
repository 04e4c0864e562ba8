"""Where each stage's splitter stands, kept in stage_split_state (one row per stage).

The launcher (issue 4) calls `advance` inside the transaction that records the launch:
it reads the stage's state (locking the row on PostgreSQL, so two launches at once cannot
take the same slice), computes the next slice, and stores the state after it. A changed
split type starts again from the beginning. A stage keeps two positions: its launches'
(purpose "launch", by cs_split_type) and its test launches' (purpose "test", by
test_split_type when that is set), so test launches never move or restart the other.
`preview_stage` and `reset_stage` serve the stage page.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.catalog.splits import (
    Done,
    Slice,
    SplitState,
    next_slice,
    parse_split_type,
    preview,
)
from app.models.base import utcnow
from app.models.catalog import StageSplitState

LAUNCH, TEST = "launch", "test"


def _row(session, stage_id: int, lock: bool = False,
         purpose: str = LAUNCH) -> StageSplitState | None:
    query = select(StageSplitState).where(StageSplitState.stage_id == stage_id,
                                          StageSplitState.purpose == purpose)
    if lock:
        query = query.with_for_update()
    return session.scalar(query)


def load_state(session, stage_id: int, split_type: str, lock: bool = False,
               purpose: str = LAUNCH) -> SplitState:
    row = _row(session, stage_id, lock, purpose)
    canonical = str(parse_split_type(split_type))
    if row is None or row.split_type != canonical:
        return SplitState()
    return SplitState.from_json({"position": row.position, "snapshots": row.snapshot_ids})


def save_state(session, stage_id: int, split_type: str, state: SplitState,
               purpose: str = LAUNCH) -> None:
    row = _row(session, stage_id, purpose=purpose)
    if row is None:
        row = StageSplitState(stage_id=stage_id, purpose=purpose)
        session.add(row)
    row.split_type = str(parse_split_type(split_type))
    row.position = state.position
    row.snapshot_ids = list(state.snapshots)
    row.updated = utcnow()
    session.flush()


def advance(session, stage_id: int, split_type: str, dataset: str, catalog,
            now: datetime, purpose: str = LAUNCH) -> Slice | Done:
    """The stage's next slice, its state stored (the caller commits with the launch)."""
    state = load_state(session, stage_id, split_type, lock=True, purpose=purpose)
    got = next_slice(split_type, dataset, state, catalog, now)
    if isinstance(got, Slice):
        save_state(session, stage_id, split_type, got.state, purpose)
    return got


def preview_stage(session, stage_id: int, split_type: str, dataset: str, catalog,
                  now: datetime, n: int = 5) -> list[Slice | Done]:
    return preview(split_type, dataset, load_state(session, stage_id, split_type), catalog,
                   now, n)


def reset_stage(session, stage_id: int) -> None:
    """Both positions start again."""
    for purpose in (LAUNCH, TEST):
        row = _row(session, stage_id, purpose=purpose)
        if row is not None:
            session.delete(row)
    session.flush()


@dataclass
class StageInput:
    """What the next launch of a stage reads (the shape issue 4's choose_input returns)."""

    dataset: str  # what %(dataset)s becomes ('' when the stage reads none, or when done)
    files: list[str] | None  # the slice's files; None when the catalogue was not asked
    note: str  # in words, for the dry run and the launch record
    done: Done | None = None  # the splits ran out: launch nothing


def _no_dataset(dataset: str | None) -> bool:
    return not dataset or dataset.strip().lower() == "none"


def stage_input(session, stage_id: int, split_type: str, dataset: str, catalog,
                now: datetime, *, preview_only: bool = False,
                purpose: str = LAUNCH) -> StageInput:
    """The next launch's input of a stage through its split type; preview_only changes
    nothing (dry run), otherwise the splitter advances (commit with the launch)."""
    split = parse_split_type(split_type)
    if split.is_none and _no_dataset(dataset):
        return StageInput("", None, "this stage reads no dataset")
    if preview_only:
        state = load_state(session, stage_id, split_type, purpose=purpose)
        got = next_slice(split, dataset, state, catalog, now, commit=False)
    else:
        got = advance(session, stage_id, split_type, dataset, catalog, now, purpose)
    if isinstance(got, Done):
        return StageInput("", None, f"{split}: {got.reason}", got)
    files = None
    if got.dims:
        files = catalog.list_files(got.dims if preview_only else f"defname: {got.dataset}")
    note = f"{split} of {dataset.strip()}: {got.description}" if not split.is_none else (
        f"the stage's dataset {got.dataset}")
    return StageInput(got.dataset, files, note)
