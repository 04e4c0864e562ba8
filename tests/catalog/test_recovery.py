"""Recovery file lists on a small designed catalogue, each file with the reason it is in.

The catalogue: input files in_0 .. in_7 (definition `inputs`), a submission made at T1 whose
project P got them all as a snapshot; jobs j0 (completed), j1 (bad), j2 (completed):

  in_0  consumed by j0, outputs in_0.art + in_0.log (version v1, after T1)   -> done
  in_1  consumed by j0, output in_1.art only (no log)                         -> pending
  in_2  consumed by j1, which then failed; outputs in_2.art + in_2.log        -> process_status
  in_3  delivered to j1, never consumed                                       -> most types
  in_4  skipped by j2                                                         -> most types
  in_5  failed in j2                                                          -> not consumed
  in_6  never delivered                                                       -> not consumed
  in_7  consumed by j2, outputs in_7.art + in_7.log but version v0            -> pending
  in_8  added to `inputs` after the project took its snapshot                 -> added_files
"""
from datetime import datetime, timedelta

import pytest

from app.catalog.recovery import (
    RECOVERY_TYPES,
    SubmissionFacts,
    added_files,
    consumed_status,
    create_recovery_definition,
    delivered_not_consumed,
    pending_files,
    process_status,
    proj_status,
    recover,
)

T1 = datetime(2026, 2, 1, 12, 0, 0)


@pytest.fixture
def facts(catalog):
    c = catalog
    c.declare_files([{"name": f"in_{i}", "metadata": {"data_tier": "fcl"},
                      "create_date": T1 - timedelta(days=1)} for i in range(8)])
    c.create_definition("inputs", "data_tier fcl")
    c.start_project("P", "inputs")
    c.declare_file("in_8", metadata={"data_tier": "fcl"})
    plan = {
        "j0": [("in_0", "consumed"), ("in_1", "consumed")],
        "j1": [("in_2", "consumed"), ("in_3", None)],
        "j2": [("in_4", "skipped"), ("in_5", "failed"), ("in_7", "consumed")],
    }
    for job, files in plan.items():
        for name, status in files:
            c.deliver("P", job, name)
            if status:
                c.set_file_status("P", job, name, status)
    c.end_process("P", "j0", "completed")
    c.end_process("P", "j1", "bad")
    c.end_process("P", "j2", "completed")
    after = T1 + timedelta(hours=1)
    outputs = [("in_0", ".art", "v1"), ("in_0", ".log", "v1"), ("in_1", ".art", "v1"),
               ("in_2", ".art", "v1"), ("in_2", ".log", "v1"),
               ("in_7", ".art", "v0"), ("in_7", ".log", "v0")]
    for parent, ext, version in outputs:
        c.declare_file(parent + ext, parents=[parent], create_date=after,
                       metadata={"version": version})
    return SubmissionFacts(project="P", dataset="inputs", software_version="v1",
                           output_file_patterns="%.art,%.log", created=T1)


def reasons(recovery):
    return {f.name: f.reason for f in recovery.files}


def test_consumed_status(catalog, facts):
    rec = consumed_status(facts, catalog)
    assert rec.names == ["in_3", "in_4", "in_5", "in_6"]
    why = reasons(rec)
    assert why["in_3"] == "delivered in j1 (process bad), never consumed"
    assert why["in_4"] == "skipped in j2 (process completed), never consumed"
    assert why["in_5"] == "failed in j2 (process completed), never consumed"
    assert why["in_6"] == "never delivered in project P"


def test_process_status_and_its_old_name(catalog, facts):
    rec = process_status(facts, catalog)
    assert rec.names == ["in_2", "in_3", "in_4", "in_5", "in_6"]
    assert reasons(rec)["in_2"] == "consumed by j1, but that process ended bad"
    assert proj_status(facts, catalog).names == rec.names
    assert recover("proj_status", facts, catalog).dims == rec.dims


def test_added_files(catalog, facts):
    rec = added_files(facts, catalog)
    assert rec.names == ["in_8"]
    assert reasons(rec)["in_8"] == "added to inputs after project P took its snapshot"
    assert rec.dims == "defname: inputs minus snapshot_for_project_name P"


def test_delivered_not_consumed(catalog, facts):
    rec = delivered_not_consumed(facts, catalog)
    assert rec.names == ["in_3", "in_4"]


def test_pending_files(catalog, facts):
    rec = pending_files(facts, catalog)
    # in_1 lacks a log, in_7's outputs are the wrong version, 3..6 have no outputs
    assert rec.names == ["in_1", "in_3", "in_4", "in_5", "in_6", "in_7"]
    assert reasons(rec)["in_1"] == (
        "no child of version v1 matching %.art, %.log declared since 2026-02-01T12:00:00")
    # outputs declared before the submission do not count
    later = SubmissionFacts(**{**facts.__dict__, "created": T1 + timedelta(days=1)})
    assert len(pending_files(later, catalog).names) == 8


def test_pending_files_at_depth_two(catalog, facts):
    catalog.declare_file("in_0.hist", parents=["in_0.art"], create_date=T1 + timedelta(hours=2),
                         metadata={"version": "v1"})
    deep = SubmissionFacts(project="P", software_version="v1", output_file_patterns="%.hist",
                           created=T1, output_ancestor_depth=2)
    rec = pending_files(deep, catalog)
    assert "in_0" not in rec.names and len(rec.names) == 7
    assert "descendant 2 generations down" in rec.files[0].reason


def test_nothing_to_recover_is_empty(catalog, facts):
    catalog.create_definition("one", "file_name in_0")
    catalog.start_project("Q", "one")
    catalog.deliver("Q", "j", "in_0")
    catalog.set_file_status("Q", "j", "in_0", "consumed")
    catalog.end_process("Q", "j", "completed")
    done = SubmissionFacts(project="Q", dataset="one")
    for rtype in ("consumed_status", "process_status", "added_files",
                  "delivered_not_consumed"):
        rec = recover(rtype, done, catalog)
        assert not rec and rec.count == 0 and rec.dims == "", rtype
    assert create_recovery_definition(catalog, recover("consumed_status", done, catalog),
                                      12, 1) is None


def test_a_recovery_becomes_a_definition(catalog, facts):
    rec = consumed_status(facts, catalog)
    name = create_recovery_definition(catalog, rec, 12, 1)
    assert name == "poms_recover_12_1"
    assert catalog.list_files("defname: poms_recover_12_1") == rec.names


def test_campaign_keywords_are_filled_in(catalog, facts):
    facts = SubmissionFacts(project="%(proj)s", dataset="inputs", keywords={"proj": "P"})
    assert consumed_status(facts, catalog).names == ["in_3", "in_4", "in_5", "in_6"]


def test_unknown_type(catalog, facts):
    with pytest.raises(ValueError, match="unknown recovery type 'redo'; known types are"):
        recover("redo", facts, catalog)
    assert "pending_files" in RECOVERY_TYPES

