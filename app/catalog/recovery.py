"""Recovery file lists: which input files of a submission must run again, and why.

Pure functions over a catalogue (embedded or SAM), one per recovery type of the original
POMS (webservice/SAMSpecifics.py create_recovery_dataset), each building the same
dimensions the original builds and answering a Recovery: the dimensions, the files, and
for each file the reason it is included.

    facts = SubmissionFacts(project="poms_123", dataset="mydata", software_version="v1",
                            output_file_patterns="%.art", created=submission.created)
    rec = recover("proj_status", facts, catalog)
    rec.dims, rec.count, [(f.name, f.reason) for f in rec.files]

The launcher (issue 4) turns a non-empty Recovery into a definition named
poms_recover_<submission>_<position> (`create_recovery_definition`) and launches it with
the recovery's overrides; the next type in the job type's list is tried when one is empty.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from app.catalog.base import Catalog, Delivery
from app.catalog.dimensions import quote

RECOVERY_TYPES = (
    "consumed_status",
    "process_status",
    "proj_status",
    "added_files",
    "delivered_not_consumed",
    "pending_files",
)

# The statuses the original treats as "delivered but not consumed".
NOT_CONSUMED = "skipped,unknown,delivered,transferred,unconsumed,cancelled"


@dataclass(frozen=True)
class SubmissionFacts:
    """What a recovery needs to know of the submission it recovers."""

    project: str  # the catalogue project the submission's jobs consumed from
    dataset: str = ""  # the definition it launched on (added_files)
    output_file_patterns: str = ""  # the job type's, comma-separated ('%.art,%.log')
    software_version: str = ""  # the stage's
    created: datetime | None = None  # when the submission was made (pending_files)
    output_ancestor_depth: int = 1
    keywords: dict = field(default_factory=dict, hash=False)  # campaign keywords


@dataclass(frozen=True)
class RecoveryFile:
    name: str
    reason: str


@dataclass(frozen=True)
class Recovery:
    type: str
    dims: str  # '' when there is nothing to recover
    files: tuple[RecoveryFile, ...]

    @property
    def count(self) -> int:
        return len(self.files)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.files]

    def __bool__(self) -> bool:
        return bool(self.files)


def _with_keywords(dims: str, keywords: dict) -> str:
    """Campaign keywords %(name)s filled in, as the original's try_format_with_keywords
    (only those: SAM's own % wildcards stay as they are; unknown names stay unfilled)."""
    if not keywords:
        return dims
    return re.sub(
        r"%\((\w+)\)s", lambda m: str(keywords.get(m.group(1), m.group(0))), dims
    )


def _filled(facts: SubmissionFacts) -> SubmissionFacts:
    """The facts with campaign keywords filled into their text fields."""
    if not facts.keywords:
        return facts
    k = facts.keywords
    return replace(
        facts,
        project=_with_keywords(facts.project, k),
        dataset=_with_keywords(facts.dataset, k),
        output_file_patterns=_with_keywords(facts.output_file_patterns, k),
        software_version=_with_keywords(facts.software_version, k),
    )


def _patterns(facts: SubmissionFacts) -> list[str]:
    patterns = [p.strip() for p in (facts.output_file_patterns or "").split(",") if p.strip()]
    return patterns or ["%"]


def _pattern_dims(pattern: str) -> str:
    # A pattern with a space is a dimension fragment, not a file name pattern (original).
    return pattern if " " in pattern else f"file_name like {quote(pattern)}"


def _date(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S") if when else "1970-01-01T00:00:00"


# --- the dimensions of each type ---------------------------------------------------------


def consumed_status_dims(facts: SubmissionFacts, catalog: Catalog) -> str:
    p = facts.project
    return f"snapshot_for_project_name {p} minus (project_name {p} and consumed_status 'co%')"


def process_status_dims(facts: SubmissionFacts, catalog: Catalog) -> str:
    dims = catalog.recovery_dimensions(facts.project, useprocess=True)
    # the original's work-around for consumed/completed status changes
    return dims.replace("consumed_status consumed", "consumed_status 'co%'")


def added_files_dims(facts: SubmissionFacts, catalog: Catalog) -> str:
    if not facts.dataset:
        return ""
    return f"defname: {facts.dataset} minus snapshot_for_project_name {facts.project}"


def delivered_not_consumed_dims(facts: SubmissionFacts, catalog: Catalog) -> str:
    return f"project_name {facts.project} and consumed_status {NOT_CONSUMED}"


def pending_files_dims(facts: SubmissionFacts, catalog: Catalog) -> str:
    depth = max(int(facts.output_ancestor_depth or 1), 1)
    opening, closing = "isparentof:( " * depth, " )" * depth
    parts = []
    for pattern in _patterns(facts):
        terms = []
        if facts.software_version:
            terms.append(f"version {quote(facts.software_version)}")
        terms.append(_pattern_dims(pattern))
        terms.append(f"create_date > '{_date(facts.created)}'")
        parts.append(f"{opening}{' and '.join(terms)}{closing}")
    return f"snapshot_for_project_name {facts.project} minus ( {' and '.join(parts)} )"


DIMENSIONS = {
    "consumed_status": consumed_status_dims,
    "process_status": process_status_dims,
    "proj_status": process_status_dims,
    "added_files": added_files_dims,
    "delivered_not_consumed": delivered_not_consumed_dims,
    "pending_files": pending_files_dims,
}


# --- why each file is included -----------------------------------------------------------


_GENERIC = {  # when the catalogue cannot say per file (SAM)
    "consumed_status": "not marked consumed in project {p}",
    "process_status": "not consumed by a process of project {p} that completed",
    "proj_status": "not consumed by a process of project {p} that completed",
    "delivered_not_consumed": "delivered in project {p} but not consumed",
}


def _delivery_reason(d: Delivery | None, project: str, rtype: str) -> str:
    if d is None:
        return _GENERIC[rtype].format(p=project)
    if d.status == "not delivered":
        return f"never delivered in project {project}"
    if d.status == "consumed":
        return f"consumed by {d.process}, but that process ended {d.process_status}"
    return f"{d.status} in {d.process} (process {d.process_status}), never consumed"


def _reasons(rtype: str, facts: SubmissionFacts, catalog: Catalog, names: list[str]):
    if rtype == "added_files":
        return {
            n: f"added to {facts.dataset} after project {facts.project} took its snapshot"
            for n in names
        }
    if rtype == "pending_files":
        depth = max(int(facts.output_ancestor_depth or 1), 1)
        kin = "child" if depth == 1 else f"descendant {depth} generations down"
        version = f" of version {facts.software_version}" if facts.software_version else ""
        wanted = ", ".join(_patterns(facts))
        return {
            n: f"no {kin}{version} matching {wanted} declared since {_date(facts.created)}"
            for n in names
        }
    deliveries = catalog.deliveries(facts.project, names) if names else {}
    return {n: _delivery_reason(deliveries.get(n), facts.project, rtype) for n in names}


# --- entry points ------------------------------------------------------------------------


def recovery_dimensions(rtype: str, facts: SubmissionFacts, catalog: Catalog) -> str:
    """The dimensions of the files to recover ('' when the catalogue says none)."""
    if rtype not in DIMENSIONS:
        raise ValueError(
            f"unknown recovery type '{rtype}'; known types are {', '.join(RECOVERY_TYPES)}"
        )
    return _with_keywords(DIMENSIONS[rtype](facts, catalog), facts.keywords)


def recover(rtype: str, facts: SubmissionFacts, catalog: Catalog) -> Recovery:
    """The files of the submission to run again for this recovery type, each with why."""
    facts = _filled(facts)
    dims = recovery_dimensions(rtype, facts, catalog)
    names = catalog.list_files(dims) if dims else []
    if not names:
        return Recovery(rtype, "", ())
    reasons = _reasons(rtype, facts, catalog, names)
    return Recovery(rtype, dims, tuple(RecoveryFile(n, reasons[n]) for n in names))


def consumed_status(facts: SubmissionFacts, catalog: Catalog) -> Recovery:
    """The project's files not marked consumed."""
    return recover("consumed_status", facts, catalog)


def process_status(facts: SubmissionFacts, catalog: Catalog) -> Recovery:
    """Files of processes that failed, or that no process consumed."""
    return recover("process_status", facts, catalog)


proj_status = process_status


def added_files(facts: SubmissionFacts, catalog: Catalog) -> Recovery:
    """Files added to the input dataset since the submission's project took its snapshot."""
    return recover("added_files", facts, catalog)


def delivered_not_consumed(facts: SubmissionFacts, catalog: Catalog) -> Recovery:
    """Files delivered to a job that did not consume them."""
    return recover("delivered_not_consumed", facts, catalog)


def pending_files(facts: SubmissionFacts, catalog: Catalog) -> Recovery:
    """Inputs with no declared descendant at output_ancestor_depth matching the output
    patterns and the software version, made since the submission."""
    return recover("pending_files", facts, catalog)


def create_recovery_definition(catalog: Catalog, recovery: Recovery, submission_id: int,
                               position: int) -> str | None:
    """Save a non-empty recovery as poms_recover_<submission>_<position> (the original's
    name); None when there is nothing to recover."""
    if not recovery:
        return None
    name = f"poms_recover_{submission_id}_{position}"
    catalog.create_definition(name, recovery.dims)
    return name
