"""Split types: which files each successive launch of a stage gets, and when they run out."""
import json
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.catalog.embedded import EmbeddedCatalog
from app.catalog.splits import Done, Slice, SplitState, next_slice, preview, reset

NOW = datetime(2026, 3, 1, 12, 0, 0)
T0 = datetime(2026, 1, 1)


@pytest.fixture
def catalog(app):
    from app.extensions import db

    return EmbeddedCatalog(db.session, "samdev")


def declare(catalog, n, runs_of=lambda i: 1 + i // 5, start=0, when=None):
    catalog.declare_files([
        {"name": f"f{start + i:04d}.art", "create_date": when or T0 + timedelta(hours=i),
         "metadata": {"runs": [[runs_of(i), 0, "physics"]], "data_tier": "raw"}}
        for i in range(n)
    ])
    return [f"f{start + i:04d}.art" for i in range(n)]


@pytest.fixture
def files(catalog):
    names = declare(catalog, 23)
    catalog.create_definition("ds", "data_tier raw")
    return names


def run(split, dataset, catalog, limit=50, now=NOW, state=None):
    """Launch after launch until Done: [(dataset, files)], the Done."""
    state = state or SplitState()
    got = []
    for _ in range(limit):
        result = next_slice(split, dataset, state, catalog, now)
        if isinstance(result, Done):
            return got, result
        files = catalog.list_files(f"defname: {result.dataset}") if result.dims else None
        got.append((result.dataset, files))
        state = result.state
    raise AssertionError("the splits never ran out")


def test_none_and_draining_give_the_dataset_every_time(catalog, files):
    for split in ("none", "", "draining"):
        first = next_slice(split, "ds", None, catalog, NOW)
        again = next_slice(split, "ds", first.state, catalog, NOW)
        assert first.dataset == again.dataset == "ds"


def test_list_one_dataset_per_launch(catalog):
    got, done = run("list", "a, b,c", catalog)
    assert [d for d, _ in got] == ["a", "b", "c"]
    assert "all 3 datasets" in done.reason and done.final


def test_multiparam_every_combination_first_list_fastest(catalog):
    got, done = run("multiparam", json.dumps([["a", "b"], ["x", "y", "z"]]), catalog)
    assert [d for d, _ in got] == ["a_x", "b_x", "a_y", "b_y", "a_z", "b_z"]
    # an empty list makes no combination: the original's len() is 0, it stops at once
    empty = next_slice("multiparam", json.dumps([["a"], []]), None, catalog, NOW)
    assert isinstance(empty, Done) and "no combination" in empty.reason
    with pytest.raises(ValueError, match="JSON list of lists"):
        next_slice("multiparam", "not json", None, catalog, NOW)


def test_nfiles_consecutive_slices_until_used_up(catalog, files):
    got, done = run("nfiles(10)", "ds", catalog)
    assert [d for d, _ in got] == ["ds_slice0_files10", "ds_slice1_files10",
                                   "ds_slice2_files10"]
    assert [f for _, f in got] == [files[:10], files[10:20], files[20:]]
    # each launched slice is frozen: it keeps its files whatever the dataset does later
    assert catalog.definition_dimensions("ds_slice1_files10").startswith("snapshot_id ")
    assert "all handed out" in done.reason


def test_mod_stride_slices(catalog, files):
    got, done = run("mod(4)", "ds", catalog)
    assert [f for _, f in got] == [files[k::4] for k in range(4)]
    assert got[1][0] == "ds_slice1_of_4"


def test_limitn_the_same_limited_dataset(catalog, files):
    first = next_slice("limitn(7)", "ds", None, catalog, NOW)
    assert first.dataset == "ds_limit7"
    assert catalog.list_files("defname: ds_limit7") == files[:7]
    assert next_slice("limitn(7)", "ds", first.state, catalog, NOW).dataset == "ds_limit7"
    catalog.create_definition("empty", "data_tier nothing")
    assert isinstance(next_slice("limitn(7)", "empty", None, catalog, NOW), Done)


def test_byrun_one_run_per_launch_stopping_before_high(catalog, files):
    """As the original's split_types/byrun.py: peek stops when the run reaches high, so
    byrun(low=2,high=4) launches runs 2 and 3; low defaults to 1, high to 999999."""
    got, done = run("byrun(low=2,high=4)", "ds", catalog)
    assert [d for d, _ in got] == ["ds_run_2", "ds_run_3"]
    assert [f for _, f in got] == [files[5:10], files[10:15]]
    assert "runs 2 to 3 were all launched (byrun stops before high=4" in done.reason
    first = next_slice("byrun(high=3)", "ds", None, catalog, NOW)
    assert first.dataset == "ds_run_1"


def test_byrun_with_nothing_between_low_and_high_is_accepted_and_launches_nothing(catalog):
    """The original accepts byrun(low=4,high=4) (and low above high) and launches nothing."""
    for split in ("byrun(low=4,high=4)", "byrun(low=9,high=2)"):
        done = next_slice(split, "ds", None, catalog, NOW)
        assert isinstance(done, Done) and "has no run to launch" in done.reason


def test_byexistingruns_follows_the_runs_present(catalog):
    # runs 7, 3, 7, 9 in declaration order: the first unprocessed file picks the run
    runs = [7, 3, 7, 9]
    names = declare(catalog, 4, runs_of=lambda i: runs[i])
    catalog.create_definition("ds", "data_tier raw")
    got, done = run("byexistingruns", "ds", catalog)
    assert [f for _, f in got] == [[names[0], names[2]], [names[1]], [names[3]]]
    # As the original's split_types/byexistingruns.py: named and selected by run.subrun
    assert got[0][0] == "ds_slice_0_run_7.0000"
    assert got[1][0].endswith("_run_3.0000")
    assert not done.final  # files of new runs may still come
    # a new file of a new run is the next slice
    state = SplitState()
    for _ in range(3):
        state = next_slice("byexistingruns", "ds", state, catalog, NOW).state
    declare(catalog, 1, runs_of=lambda i: 11, start=100)
    nxt = next_slice("byexistingruns", "ds", state, catalog, NOW)
    assert catalog.list_files(f"defname: {nxt.dataset}") == ["f0100.art"]


def test_drainingn_never_gives_a_file_twice_as_the_dataset_grows(catalog, files):
    state = SplitState()
    seen = []
    first = next_slice("drainingn(10)", "ds", state, catalog, NOW)
    seen += catalog.list_files(f"defname: {first.dataset}")
    declare(catalog, 5, start=500)  # the dataset grows between launches
    state = first.state
    while True:
        got = next_slice("drainingn(10)", "ds", state, catalog, NOW)
        if isinstance(got, Done):
            break
        seen += catalog.list_files(f"defname: {got.dataset}")
        state = got.state
    assert sorted(seen) == sorted(files + [f"f{500 + i:04d}.art" for i in range(5)])
    assert len(seen) == len(set(seen))
    assert len(state.snapshots) == 3
    # the state's snapshot holds everything handed out
    assert catalog.count_files(f"snapshot_id {state.position}") == 28
    assert not got.final


def test_stagedfiles_hands_out_what_a_staging_project_consumed(catalog, files):
    catalog.start_project("stage_proj", "ds")
    for name in files[:6]:
        catalog.deliver("stage_proj", "stager", name)
    for name in files[:5]:
        catalog.set_file_status("stage_proj", "stager", name, "consumed")
    first = next_slice("stagedfiles(3)", "stage_proj", None, catalog, NOW)
    second = next_slice("stagedfiles(3)", "stage_proj", first.state, catalog, NOW)
    assert catalog.list_files(f"defname: {first.dataset}") == files[:3]
    assert catalog.list_files(f"defname: {second.dataset}") == files[3:5]
    third = next_slice("stagedfiles(3)", "stage_proj", second.state, catalog, NOW)
    assert isinstance(third, Done) and not third.final
    catalog.set_file_status("stage_proj", "stager", files[5], "consumed")
    fourth = next_slice("stagedfiles(3)", "stage_proj", second.state, catalog, NOW)
    assert catalog.list_files(f"defname: {fourth.dataset}") == [files[5]]


def test_new_time_windows(catalog):
    # one file per hour from 2026-01-01T00:00 for 48 hours
    names = declare(catalog, 48)
    catalog.create_definition("ds", "data_tier raw")
    start = int(T0.timestamp())
    split = f"new(window=1d,fts=0,firsttime={start})"
    now = T0 + timedelta(days=2, hours=1)
    got, done = run(split, "ds", catalog, now=now)
    # files created in (start, start+1d], then (start+1d, start+2d]
    assert [f for _, f in got] == [names[1:25], names[25:48]]
    assert got[0][0] == f"ds_time_{start}__{start + 86400}"
    assert not done.final  # the next window is not complete yet
    # first launch without firsttime: the last complete window before now - fts
    latest = next_slice("new(window=6h,fts=1h)", "ds", None, catalog, now)
    assert "2026-01-02T18:00:00" in latest.dims and "2026-01-03T00:00:00" in latest.dims


def test_new_windows_by_end_time_when_files_have_one(catalog):
    """As the original's split_types/new.py: the window is over the files' end_time (here a
    file declared without one counts at its create_date)."""
    catalog.declare_files([
        {"name": "late.raw", "create_date": T0 + timedelta(hours=30),
         "metadata": {"data_tier": "raw", "end_time": "2026-01-01T05:00:00+00:00"}},
        {"name": "early.raw", "create_date": T0 + timedelta(hours=1),
         "metadata": {"data_tier": "raw", "end_time": "2026-01-02T06:00:00+00:00"}},
    ])
    catalog.create_definition("ds", "data_tier raw")
    start = int(T0.timestamp())
    got, _ = run(f"new(window=1d,fts=0,firsttime={start})", "ds", catalog,
                 now=T0 + timedelta(days=2, hours=1))
    assert [f for _, f in got] == [["late.raw"], ["early.raw"]]
    assert "end_time > '2026-01-01T00:00:00'" in catalog.definition_dimensions(got[0][0])


def test_new_local_ignores_its_arguments_as_the_original(catalog):
    """The original's new.py reads arguments only after `new(` and local time only for a
    bare `new_local`: new_local(window=1h) is new with its defaults (one week, in GMT)."""
    declare(catalog, 4)
    catalog.create_definition("ds", "data_tier raw")
    now = T0 + timedelta(days=30)
    with_args = next_slice("new_local(window=1h,fts=0)", "ds", None, catalog, now)
    plain = next_slice("new", "ds", None, catalog, now)
    assert with_args.dims == plain.dims  # a week ending half an hour before now, GMT
    start, stop = (int(x) for x in with_args.dataset.split("_time_")[1].split("__"))
    assert stop - start == 604800
    assert "ignores its arguments" in with_args.description


def test_new_with_lasttime_ends(catalog):
    declare(catalog, 4)
    catalog.create_definition("ds", "data_tier raw")
    start = int(T0.timestamp())
    split = f"new(window=1h,fts=0,firsttime={start},lasttime={start + 7200})"
    got, done = run(split, "ds", catalog, now=NOW)
    assert len(got) == 2 and done.final and "lasttime" in done.reason


def test_preview_writes_nothing_and_matches_the_launches(catalog, files):
    for split in ("nfiles(6)", "mod(3)", "drainingn(6)", "byrun(low=1,high=5)",
                  "byexistingruns"):
        before = catalog.definitions()
        shown = preview(split, "ds", None, catalog, NOW, n=10)
        assert catalog.definitions() == before, split
        launched, done = run(split, "ds", catalog)
        slices = [s for s in shown if isinstance(s, Slice)]
        assert [catalog.list_files(s.dims) for s in slices][: len(launched)] == [
            f for _, f in launched][: len(slices)], split
    shown = preview("list", "a,b,c", None, catalog, NOW, n=2)
    assert [s.dataset for s in shown] == ["a", "b"]
    assert isinstance(preview("list", "a", None, catalog, NOW, n=5)[-1], Done)


def test_reset_starts_again(catalog, files):
    first = next_slice("nfiles(10)", "ds", reset(), catalog, NOW)
    assert first.dataset == "ds_slice0_files10"
    assert SplitState.from_json(first.state.to_json()) == first.state


def test_a_split_needs_a_dataset(catalog):
    with pytest.raises(ValueError, match="needs a dataset"):
        next_slice("nfiles(3)", "", None, catalog, NOW)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(total=st.integers(0, 40), n=st.integers(1, 12), grow=st.integers(0, 5))
def test_nfiles_never_loses_or_repeats_a_file(app, total, n, grow):
    from app.extensions import db

    experiment = f"h{total}_{n}_{grow}_{id(object())}"
    catalog = EmbeddedCatalog(db.session, experiment)
    names = declare(catalog, total)
    catalog.create_definition("ds", "data_tier raw")
    state, handed = SplitState(), []
    for k in range(100):
        got = next_slice(f"nfiles({n})", "ds", state, catalog, NOW)
        if isinstance(got, Done):
            break
        handed += catalog.list_files(f"defname: {got.dataset}")
        state = got.state
        if k == 0 and grow:  # files arriving while the stage runs are appended
            names += declare(catalog, grow, start=1000)
    assert handed == names
    db.session.rollback()
