"""Helpers shared by the access tests: a small campaign INI and a populated experiment."""
from __future__ import annotations

import io

from app.campaigns import store
from app.campaigns.ini import parse_ini
from app.extensions import db
from tests.fixtures.app import csrf_token


def campaign_ini(name: str, poms_role: str = "analysis") -> str:
    return f"""[campaign]
poms_role = {poms_role}
name = {name}
campaign_stage_list = gen, reco

[campaign_defaults]
vo_role = Analysis
software_version = v1
completion_type = complete
completion_pct = 95
login_setup = {poms_role}_login
job_type = {poms_role}_job

[login_setup {poms_role}_login]
host = localhost
account = poms
setup = true

[job_type {poms_role}_job]
launch_script = fife_launch
parameters = [["-c ", "x.cfg"]]
output_file_patterns = %.art

[campaign_stage gen]

[campaign_stage reco]

[dependencies reco]
campaign_stage_1 = gen
file_pattern_1 = %.art
"""


def save_campaign(experiment, owner, name: str, poms_role: str = "analysis"):
    spec, _warnings = parse_ini(campaign_ini(name, poms_role), f"{name}.ini")
    spec.experiment = experiment.name
    campaign = store.save_campaign(experiment, spec, owner)
    db.session.commit()
    return campaign


def upload(client, experiment: str, text: str):
    token = csrf_token(client, f"/e/{experiment}/campaigns/upload")
    return client.post(
        f"/e/{experiment}/campaigns/upload",
        data={"csrf_token": token, "ini_file": (io.BytesIO(text.encode()), "c.ini")},
        content_type="multipart/form-data",
    )
