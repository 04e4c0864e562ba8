import pytest

from app.catalog.embedded import EmbeddedCatalog
from app.extensions import db

SPLIT_FILES = [f"raw.{i:03d}.art" for i in range(5)]


@pytest.fixture
def app(launch_app):
    """Page tests here need Redis and the local engine: the app is launch_app."""
    return launch_app


@pytest.fixture
def split_stage(launch_app, tutorial):
    """The tutorial's reco_fcl stage over five files, split nfiles(2)."""
    catalog = EmbeddedCatalog(db.session, "mu2e")
    catalog.declare_files([{"name": name, "size": 10} for name in SPLIT_FILES])
    catalog.create_list_definition("raw_files", SPLIT_FILES)
    stage = next(s for s in tutorial.stages if s.name == "reco_fcl")
    stage.dataset_or_split_data = "raw_files"
    stage.cs_split_type = "nfiles(2)"
    db.session.commit()
    return stage
