"""The proof on POMS's own sample campaigns (../shared/examples/poms-samples/).

Both are imported as is. Their `generic` job type runs `fife_launch -c
$FIFE_UTILS_DIR/cfg/generic.cfg`, which exists only on Fermilab's login hosts, so the one
change, made through the store, is that job type's launch_script: the demo's stand-in
`fife_launch -c examples/samples/generic.cfg` (same fife_launch, the local engine, a demo
job script). Stages, dependencies, patterns, login setup and overrides stay as written.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.catalog.embedded import EmbeddedCatalog
from app.chaining.ledger import stage_ledger
from app.extensions import db
from app.models.chaining import ChainStep
from tests.e2e.support import (
    SAMPLES_CFG,
    change_through_store,
    drive,
    import_shared,
    launch_stage,
)
from tests.e2e.support import submissions as subs_of

pytestmark = pytest.mark.e2e


def stand_in_job_type(spec):
    assert spec.job_types["generic"].launch_script == \
        "fife_launch -c $FIFE_UTILS_DIR/cfg/generic.cfg"
    spec.job_types["generic"].launch_script = f"fife_launch -c {SAMPLES_CFG}"


def _all_settled(campaign):
    def check():
        db.session.expire_all()
        settled = set(db.session.scalars(select(ChainStep.parent_submission_id).where(
            ChainStep.kind == "settled")))
        every = [subs_of(campaign, s.name) for s in campaign.stages]
        return all(every) and all(
            sub.state == "Located" and sub.id in settled for subs in every for sub in subs)
    return check


def test_sample_mc_five_stage_chain(launch_app):
    app = launch_app
    campaign = import_shared("poms-samples/sample_mc.ini")
    change_through_store(campaign, stand_in_job_type)
    first = launch_stage(app, campaign, "sample_gen")
    drive(app, _all_settled(campaign), timeout=75, what="the five stages to complete")

    chain = ["sample_gen", "sample_g4", "sample_detsim", "sample_reco", "sample_anatree"]
    catalog = EmbeddedCatalog(db.session, "sample")
    parent = first
    for name in chain:
        (sub,) = subs_of(campaign, name)  # each stage launched exactly once
        if name != "sample_gen":
            assert sub.origin == f"parent {parent.id}"
            # no poms_role in the file: an analysis campaign, named for its owner
            assert sub.dataset == f"poms_alice_depends_{parent.id}_1"
            assert "-Oglobal.sam_dataset=" + sub.dataset in sub.command
            assert len(sub.input_files) == 2
        assert sub.jobs_done == 2 and sub.jobs_failed == 0
        ledger = stage_ledger(sub.stage)
        assert ledger.adds_up and ledger.processed == ledger.input
        parent = sub
    # Every generated file went down the whole chain exactly once.
    gens = catalog.list_files(f"poms_task_id '{first.id}'")
    assert len(gens) == 2 and all(g.startswith("gen_") for g in gens)
    for gen in gens:
        name = gen
        for step in ("g4", "detsim", "reco", "anatree"):
            (child,) = catalog.children(name)
            assert child == f"{step}_{gen[len('gen_'):]}"
            name = child


def test_sample_split_merge_one_parent_six_children_by_pattern(launch_app, tmp_path):
    app = launch_app
    campaign = import_shared("poms-samples/sample_split_merge.ini")
    change_through_store(campaign, stand_in_job_type)
    # The split stage's input dataset, in the embedded catalogue.
    catalog = EmbeddedCatalog(db.session, "sample")
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    raws = [f"raw_{i}.root" for i in range(1, 4)]
    for name in raws:
        (raw_dir / name).write_text(f"raw data {name}\n")
        catalog.declare_file(name, size=10, metadata={"data_tier": "raw"})
        catalog.add_location(name, str(raw_dir))
    catalog.create_definition("draining_production_raw_v1_0", "data_tier raw")
    db.session.commit()

    split = launch_stage(app, campaign, "sample_split")
    drive(app, _all_settled(campaign), timeout=75, what="split and its six merges")

    (split,) = subs_of(campaign, "sample_split")
    assert sorted(split.input_files) == raws and split.jobs_done == 3
    datasets = set()
    for trig in "abcdef":
        (merge,) = subs_of(campaign, f"sample_merge_trig{trig}")  # launched once
        assert merge.origin == f"parent {split.id}"
        datasets.add(merge.dataset)
        wanted = sorted(f"raw_{i}_trig{trig}.root" for i in range(1, 4))
        assert sorted(merge.input_files) == wanted
        assert merge.jobs_total == 1 and merge.jobs_done == 1
        (merged,) = catalog.list_files(f"poms_task_id '{merge.id}'")
        assert sorted(catalog.parents(merged)) == wanted
        ledger = stage_ledger(merge.stage)
        assert (ledger.input, ledger.processed) == (3, 3) and ledger.adds_up
    # each child its own definition, named after the parent submission
    assert datasets == {f"poms_alice_depends_{split.id}_{n}" for n in range(1, 7)}
