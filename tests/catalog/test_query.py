"""Dimension queries answered by the embedded catalogue on a real database."""
import pytest

from app.catalog.dimensions import DimensionError


@pytest.fixture
def lineage(catalog, raw_files):
    """reco_NNN.art children of raw_NNN (even ones only), and a log for each reco file;
    reco version v2, one of them with a location."""
    for i in range(0, 20, 2):
        catalog.declare_file(f"reco_{i:03d}.art", parents=[raw_files[i]],
                             metadata={"version": "v2", "data_tier": "reco"})
        catalog.declare_file(f"reco_{i:03d}.log", parents=[f"reco_{i:03d}.art"],
                             metadata={"version": "v2"})
    catalog.add_location("reco_000.art", "dcache:/pnfs/x")
    return catalog


def names(catalog, dims):
    return catalog.list_files(dims)


def test_file_name_like_uses_sam_wildcards(catalog, raw_files):
    catalog.declare_file("raw_x_y.art")
    assert names(catalog, "file_name like 'raw_00%'") == raw_files[:10]
    assert names(catalog, "file_name like raw_01?.art") == raw_files[10:20]
    # '_' is a plain character in SAM, not SQL's one-character wildcard
    assert names(catalog, "file_name like 'raw%_y.art'") == ["raw_x_y.art"]
    assert names(catalog, "file_name 'raw_000.art', raw_019.art") == [raw_files[0], raw_files[19]]
    assert catalog.count_files("file_name not like 'raw_0%'") == 1


def test_version_run_tier_and_metadata(catalog, raw_files):
    assert catalog.count_files("version v1") == 20
    assert catalog.count_files("version v2") == 0
    assert names(catalog, "run_number 2") == raw_files[5:10]
    assert names(catalog, "run_number 2-3") == raw_files[5:15]
    assert names(catalog, "run_number 1,4") == raw_files[:5] + raw_files[15:]
    assert names(catalog, "run_number 4.0001") == raw_files[15:]
    assert names(catalog, "run_number > 3") == raw_files[15:]
    assert catalog.count_files("data_tier raw and file_format art") == 20
    assert catalog.count_files("file_format root") == 0
    assert names(catalog, "file_size >= 118") == raw_files[18:]


def test_create_date(catalog, raw_files):
    assert names(catalog, "create_date > '2026-01-18'") == raw_files[18:]
    assert names(catalog, "create_date >= '2026-01-18T00:00:00+0000'") == raw_files[17:]
    assert names(catalog, "create_date < 2026-01-02") == raw_files[:1]
    with pytest.raises(DimensionError, match="is not a date"):
        catalog.count_files("create_date > 'yesterday'")


def test_set_operations(catalog, raw_files):
    assert names(catalog, "run_number 1 or run_number 2") == raw_files[:10]
    assert names(catalog, "defname: raw minus run_number 1-3") == raw_files[15:]
    assert names(catalog, "run_number 1-2 and file_name like %1.art") == [raw_files[1]]
    assert names(catalog, "defname: raw minus (run_number 1 or run_number 2) minus run_number 3"
                 ) == raw_files[15:]
    assert names(catalog, "not run_number 1-3") == raw_files[15:]


def test_with_limit_offset_stride(catalog, raw_files):
    assert names(catalog, "defname: raw with limit 3") == raw_files[:3]
    assert names(catalog, "defname: raw with limit 3 offset 3") == raw_files[3:6]
    assert names(catalog, "defname: raw with stride 5 offset 2") == raw_files[2::5]
    assert catalog.count_files("defname: raw with limit 3 offset 18") == 2
    # a limited group inside a larger query
    assert names(catalog, "(defname: raw with limit 2) or run_number 4") == (
        raw_files[:2] + raw_files[15:])
    assert names(catalog, "defname: raw minus (defname: raw with limit 18)") == raw_files[18:]


def test_lineage(lineage, raw_files):
    c = lineage
    assert names(c, "ischildof:( file_name raw_002.art )") == ["reco_002.art"]
    assert names(c, "isparentof:( file_name reco_002.art )") == [raw_files[2]]
    assert c.count_files("isparentof:( isparentof:( file_name like %.log ) )") == 10
    # inputs with no reco child yet: the odd ones
    assert names(c, "defname: raw minus isparentof:( version v2 and file_name like %.art )"
                 ) == raw_files[1::2]
    assert names(c, "ischildof:( run_number 1 ) and version v2 with availability anylocation"
                 ) == ["reco_000.art"]


def test_projects_and_statuses(catalog, raw_files):
    catalog.create_definition("run1", "run_number 1")
    catalog.start_project("P", "run1")
    catalog.deliver("P", "j1", raw_files[0])
    catalog.deliver("P", "j1", raw_files[1])
    catalog.set_file_status("P", "j1", raw_files[0], "consumed")
    catalog.set_file_status("P", "j1", raw_files[1], "skipped")
    assert names(catalog, "snapshot_for_project_name P") == raw_files[:5]
    assert names(catalog, "project_name P") == raw_files[:2]
    assert names(catalog, "project_name P and consumed_status 'co%'") == raw_files[:1]
    assert names(catalog, "project_name P and consumed_status skipped,failed") == raw_files[1:2]
    assert names(catalog, "snapshot_for_project_name P minus "
                          "(project_name P and consumed_status co%)") == raw_files[1:5]
    assert names(catalog, "ischildof:( snapshot_for_project_name P )") == []


def test_definitions_nest_and_cycles_are_caught(catalog, raw_files):
    catalog.create_definition("r12", "defname: raw and run_number 1-2")
    catalog.create_definition("r2", "defname: r12 minus run_number 1")
    assert names(catalog, "defname: r2") == raw_files[5:10]
    catalog.create_definition("loop_a", "defname: loop_b")
    catalog.create_definition("loop_b", "defname: loop_a")
    with pytest.raises(DimensionError, match="refers to itself"):
        catalog.count_files("defname: loop_a")
    with pytest.raises(DimensionError, match="no definition named 'ghost' in samdev"):
        catalog.count_files("defname: ghost")


def test_values_are_bound_parameters_not_sql(catalog, raw_files):
    evil = "x' OR '1'='1"
    assert catalog.count_files(f'file_name "{evil}"') == 0
    assert catalog.count_files(f'Mu2e.description "{evil}"') == 0
    assert catalog.count_files("version v1") == 20  # nothing was harmed


def test_experiments_do_not_mix(catalog, raw_files, app):
    from app.catalog.embedded import EmbeddedCatalog
    from app.extensions import db

    other = EmbeddedCatalog(db.session, "dune")
    other.declare_file("raw_000.art", metadata={"data_tier": "raw"})
    assert catalog.count_files("data_tier raw") == 20
    assert other.count_files("data_tier raw") == 1
    with pytest.raises(DimensionError, match="no definition named 'raw' in dune"):
        other.count_files("defname: raw")


# --- SAM wildcards, checked against a reference on random names and patterns ---
import re  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_NAME = st.text(alphabet="aAb_.\\[]-", min_size=1, max_size=6)


def _reference(pattern: str, name: str) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, name, flags=re.S) is not None


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(_NAME, min_size=1, max_size=8, unique=True),
       pattern=st.text(alphabet="aAb_.%?\\[]", min_size=1, max_size=6))
def test_file_name_like_matches_sam_wildcards(app, names, pattern):
    from app.catalog.dimensions import quote
    from app.catalog.embedded import EmbeddedCatalog
    from app.extensions import db

    catalog = EmbeddedCatalog(db.session, f"w{abs(hash((tuple(names), pattern)))}")
    catalog.declare_files([{"name": n} for n in names])
    if "'" in pattern:
        return
    got = set(catalog.list_files(f"file_name like {quote(pattern)}"))
    assert got == {n for n in names if _reference(pattern, n)}
    db.session.rollback()
