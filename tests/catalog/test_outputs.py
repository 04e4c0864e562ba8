"""Job outputs declared with their parents, and found again for the next stage."""
from datetime import datetime, timedelta

from app.catalog.outputs import (
    declare_outputs,
    dependency_definition_name,
    matches,
    output_dimensions,
)

T1 = datetime(2026, 2, 1)


def test_sam_patterns():
    assert matches("a.fcl", "%.fcl") and not matches("a.fcl.log", "%.fcl")
    assert matches("reco_1.art", "reco_?.art") and not matches("reco_12.art", "reco_?.art")
    assert matches("x_y", "x_y") and not matches("xzy", "x_y")  # '_' is plain


def test_outputs_declared_found_and_chained(catalog):
    catalog.declare_files([{"name": "in_0.fcl"}, {"name": "in_1.fcl"}])
    catalog.create_definition("fcls", "file_name like '%.fcl'")
    catalog.start_project("P", "fcls")
    declared = declare_outputs(
        catalog,
        [{"name": "out_0.art", "size": 5, "location": "dcache:/pnfs/out"},
         {"name": "out_0.log"}, {"name": "core.123"}],
        inputs=["in_0.fcl"], patterns="%.art,%.log", version="v1",
        metadata={"data_tier": "reco"},
    )
    assert declared == ["out_0.art", "out_0.log"]
    assert catalog.parents("out_0.art") == ["in_0.fcl"]
    assert catalog.get_metadata("out_0.log")["version"] == "v1"
    assert catalog.locate("out_0.art") == ["dcache:/pnfs/out"]

    arts = output_dimensions("P", "v1", T1, "%.art")
    assert arts == ("ischildof:( snapshot_for_project_name P ) and version 'v1' and "
                    "create_date > '2026-02-01T00:00:00' and file_name like '%.art'")
    assert catalog.list_files(arts) == ["out_0.art"]
    assert catalog.list_files(output_dimensions("P", "v1", T1, "%.log", located=True)) == []
    assert catalog.count_files(output_dimensions("P", "v1", T1, located=True)) == 1
    assert catalog.count_files(output_dimensions("P", "v2", T1)) == 0
    assert catalog.count_files(output_dimensions("P", "v1", T1 + timedelta(days=400))) == 0
    assert catalog.count_files(output_dimensions("P", "v1", None, "data_tier reco")) == 2
    name = dependency_definition_name(12, 1)
    catalog.create_definition(name, arts)
    assert catalog.list_files(f"defname: {name}") == ["out_0.art"]
    assert dependency_definition_name(12, 2, "alice") == "poms_alice_depends_12_2"


def test_no_patterns_declares_everything(catalog):
    catalog.declare_file("in.fcl")
    assert declare_outputs(catalog, [{"name": "a"}, {"name": "b"}], ["in.fcl"], "") == ["a", "b"]
