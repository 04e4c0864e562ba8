"""Job outputs in the catalogue, and the dimensions that find them again.

What the launching/tracking side (issue 4) calls when a job ends and when a stage's
submission completes; plain functions over a catalogue, so they work on the embedded
catalogue and on SAM alike:

  declare_outputs(catalog, outputs, inputs, patterns, version)   a job's outputs that match
      the job type's output_file_patterns, declared with the job's inputs as parents
  output_dimensions(project, version, created, pattern, depth, located)
      the original's dependency dimensions: the submission's outputs matching a pattern
      (`ischildof:( snapshot_for_project_name P ) and version V and create_date > 'D' and
      file_name like 'pat'`), optionally only those with a location (completion 'located')
  dependency_definition_name(submission_id, position, analysis_user)
      poms_depends_<submission>_<N>, or poms_<user>_depends_... for analysis campaigns
  project_name(submission_id)   poms_<submission>: the project its jobs read their input in
"""
from __future__ import annotations

import re
from datetime import datetime

from app.catalog.base import Catalog
from app.catalog.dimensions import quote


def project_name(submission_id: int) -> str:
    """The catalogue project of a submission's jobs."""
    return f"poms_{submission_id}"


def _regex(pattern: str) -> re.Pattern:
    return re.compile(
        "".join(".*" if c in "%*" else "." if c == "?" else re.escape(c) for c in pattern),
        re.S,
    )


def matches(name: str, pattern: str) -> bool:
    """Does a file name match a SAM pattern (% any run of characters, ? one)?"""
    return _regex(pattern.strip()).fullmatch(name) is not None


def split_patterns(patterns: str | list[str] | None) -> list[str]:
    if isinstance(patterns, list | tuple):
        return [p.strip() for p in patterns if p and p.strip()]
    return [p.strip() for p in (patterns or "").split(",") if p.strip()]


def declare_outputs(
    catalog: Catalog,
    outputs: list[dict],
    inputs: list[str],
    patterns: str | list[str] | None,
    version: str = "",
    metadata: dict | None = None,
) -> list[str]:
    """Declare the outputs whose names match the job type's patterns (all when there are
    none), each with the job's inputs as parents and the stage's software version.

    outputs: dicts with name and optional size, checksum, metadata, location.
    Returns the names declared; a pattern that is a dimension fragment (has a space) cannot
    be matched by name and matches nothing here.
    """
    wanted = [p for p in split_patterns(patterns) if " " not in p]
    chosen = [
        o for o in outputs
        if not split_patterns(patterns) or any(matches(o["name"], p) for p in wanted)
    ]
    declared = []
    for out in chosen:
        md = {**(metadata or {}), **(out.get("metadata") or {})}
        if version and "version" not in md:
            md["version"] = version
        catalog.declare_file(
            out["name"], size=out.get("size", 0), checksum=out.get("checksum", ""),
            metadata=md, parents=list(inputs),
        )
        if out.get("location"):
            catalog.add_location(out["name"], out["location"])
        declared.append(out["name"])
    return declared


def output_dimensions(
    project: str,
    version: str,
    created: datetime | None,
    pattern: str = "%",
    depth: int = 1,
    located: bool = False,
) -> str:
    """The outputs of a submission (its project's files' descendants at `depth`) of the
    stage's version, made since the submission, matching a pattern or a dimension
    fragment; with located, only those that have a location."""
    depth = max(int(depth or 1), 1)
    opening, closing = "ischildof:( " * depth, " )" * depth
    terms = [f"{opening}snapshot_for_project_name {project}{closing}"]
    if version:
        terms.append(f"version {quote(version)}")
    if created is not None:
        terms.append(f"create_date > '{created.strftime('%Y-%m-%dT%H:%M:%S')}'")
    pattern = (pattern or "%").strip()
    terms.append(pattern if " " in pattern else f"file_name like {quote(pattern)}")
    dims = " and ".join(terms)
    return f"{dims} with availability anylocation" if located else dims


def dependency_definition_name(submission_id: int, position: int,
                               analysis_user: str | None = None) -> str:
    if analysis_user:
        return f"poms_{analysis_user}_depends_{submission_id}_{position}"
    return f"poms_depends_{submission_id}_{position}"
