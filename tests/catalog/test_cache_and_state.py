"""The per-request catalogue cache, the catalogue factory, and stored splitter positions."""
from datetime import datetime

import pytest

from app.catalog.cache import CachedCatalog, make_catalog
from app.catalog.samweb import SamwebCatalog
from app.catalog.split_state import (
    advance,
    load_state,
    preview_stage,
    reset_stage,
    stage_input,
)
from app.catalog.splits import Done

NOW = datetime(2026, 3, 1)


def test_reads_are_answered_once_until_a_write(catalog, raw_files):
    cached = CachedCatalog(catalog)
    assert cached.count_files("run_number 1") == 5
    assert cached.count_files("run_number 1") == 5
    assert (cached.hits, cached.misses) == (1, 1)
    listed = cached.list_files("run_number 1")
    listed.append("mine")  # the caller's copy, not the cache's
    assert cached.list_files("run_number 1") == raw_files[:5]
    cached.declare_file("raw_new.art", metadata={"runs": [[1, 9, "physics"]]})
    assert cached.count_files("run_number 1") == 6  # the write emptied the cache
    assert cached.deliveries is not None and cached.experiment == "samdev"


def test_make_catalog_from_settings(app):
    from app.extensions import db

    assert make_catalog({}, "mu2e", db.session).kind == "embedded"
    sam = make_catalog({"POMS_CATALOG": "samweb", "POMS_SAMWEB_URL": "https://sam.example:8483"},
                       "mu2e")
    assert isinstance(sam, SamwebCatalog)
    assert sam.url("files/count") == "https://sam.example:8483/sam/mu2e/api/files/count"
    with pytest.raises(ValueError, match="POMS_CATALOG='metacat' is not embedded or samweb"):
        make_catalog({"POMS_CATALOG": "metacat"}, "mu2e")


@pytest.fixture
def stage(app):
    from app.extensions import db
    from app.models import Campaign, CampaignStage, Experiment, Experimenter, JobType, LoginSetup

    exp = Experiment(name="samdev")
    user = Experimenter(username="alice")
    db.session.add_all([exp, user])
    db.session.flush()
    jt = JobType(experiment_id=exp.id, name="jt")
    ls = LoginSetup(experiment_id=exp.id, name="ls")
    camp = Campaign(experiment_id=exp.id, name="c", owner_id=user.id)
    db.session.add_all([jt, ls, camp])
    db.session.flush()
    st = CampaignStage(campaign_id=camp.id, name="s", job_type_id=jt.id, login_setup_id=ls.id,
                       dataset_or_split_data="raw", cs_split_type="nfiles(8)")
    db.session.add(st)
    db.session.commit()
    return st


def test_the_stage_position_is_kept_and_reset(app, catalog, raw_files, stage):
    from app.extensions import db

    first = advance(db.session, stage.id, "nfiles(8)", "raw", catalog, NOW)
    db.session.commit()
    assert first.dataset == "raw_slice0_files8"
    shown = preview_stage(db.session, stage.id, "nfiles( 8 )", "raw", catalog, NOW)
    assert [s.dataset for s in shown[:2]] == ["raw_slice1_files8", "raw_slice2_files8"]
    assert isinstance(shown[-1], Done)
    second = advance(db.session, stage.id, "nfiles(8)", "raw", catalog, NOW)
    assert second.dataset == "raw_slice1_files8"
    assert catalog.list_files(f"defname: {second.dataset}") == raw_files[8:16]
    # another split type starts again
    assert load_state(db.session, stage.id, "nfiles(5)").position is None
    reset_stage(db.session, stage.id)
    assert advance(db.session, stage.id, "nfiles(8)", "raw", catalog, NOW).dataset == (
        "raw_slice0_files8")


def test_stage_input_for_the_launcher(app, catalog, raw_files, stage):
    from app.extensions import db

    none = stage_input(db.session, stage.id, "", "none", catalog, NOW)
    assert (none.dataset, none.files, none.note) == ("", None, "this stage reads no dataset")
    whole = stage_input(db.session, stage.id, "none", "raw", catalog, NOW)
    assert whole.dataset == "raw" and whole.files is None
    dry = stage_input(db.session, stage.id, "nfiles(8)", "raw", catalog, NOW, preview_only=True)
    assert dry.dataset == "raw_slice0_files8" and dry.files == raw_files[:8]
    assert "nfiles(8) of raw: files 1 to 8" == dry.note
    assert catalog.definitions() == [("raw", "data_tier raw")]  # the dry run wrote nothing
    for k in range(3):
        got = stage_input(db.session, stage.id, "nfiles(8)", "raw", catalog, NOW)
        assert got.dataset == f"raw_slice{k}_files8"
    assert got.files == raw_files[16:]
    done = stage_input(db.session, stage.id, "nfiles(8)", "raw", catalog, NOW)
    assert done.done is not None and done.dataset == ""
    assert "all handed out" in done.note
