"""A submission's files, from the catalogue (embedded or SAM, through app/catalog):

    submission_files(submission, catalog, limit) -> SubmissionFiles

  input          what the launch gave its jobs (the project's snapshot, else the recorded
                 input list)
  consumed       inputs the project says were consumed
  not processed  inputs not consumed: never delivered, delivered but not finished, failed
                 or skipped (with what became of each)
  produced       files declared with poms_task_id = the submission, with their locations

Lists are cut at `limit` names each (the counts are whole); exports ask for more.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from app.catalog.base import Catalog, CatalogError
from app.catalog.dimensions import DimensionError, quote
from app.catalog.outputs import project_name


@dataclass
class FileRow:
    name: str
    status: str = ""
    process: str = ""
    locations: list[str] = field(default_factory=list)


@dataclass
class SubmissionFiles:
    input: int = 0
    consumed: list[FileRow] = field(default_factory=list)
    not_processed: list[FileRow] = field(default_factory=list)
    produced: list[FileRow] = field(default_factory=list)
    consumed_count: int = 0
    not_processed_count: int = 0
    produced_count: int = 0
    problem: str = ""

    def as_dict(self) -> dict:
        def rows(items):
            return [{"name": r.name, "status": r.status, "process": r.process,
                     "locations": r.locations} for r in items]

        return {"input": self.input, "consumed_count": self.consumed_count,
                "not_processed_count": self.not_processed_count,
                "produced_count": self.produced_count, "consumed": rows(self.consumed),
                "not_processed": rows(self.not_processed), "produced": rows(self.produced),
                "problem": self.problem}


def input_names(submission, catalog: Catalog) -> list[str]:
    try:
        names = catalog.list_files(
            f"snapshot_for_project_name {quote(project_name(submission.id))}")
    except (CatalogError, DimensionError):
        names = []
    return names or [str(n) for n in (submission.input_files or [])]


def submission_files(submission, catalog: Catalog, limit: int = 500) -> SubmissionFiles:
    out = SubmissionFiles()
    try:
        names = input_names(submission, catalog)
        out.input = len(names)
        deliveries = catalog.deliveries(project_name(submission.id), names) if names else {}
        for name in names:
            found = deliveries.get(name)
            status = found.status if found else "not delivered"
            row = FileRow(name, status, found.process if found else "")
            if status == "consumed":
                out.consumed_count += 1
                if len(out.consumed) < limit:
                    out.consumed.append(row)
            else:
                out.not_processed_count += 1
                if len(out.not_processed) < limit:
                    out.not_processed.append(row)
        produced = catalog.list_files(f"poms_task_id {quote(str(submission.id))}")
        out.produced_count = len(produced)
        for name in produced[:limit]:
            out.produced.append(FileRow(name, "declared", locations=catalog.locate(name)))
    except (CatalogError, DimensionError) as err:
        out.problem = str(err)
    return out
