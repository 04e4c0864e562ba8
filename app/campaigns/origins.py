"""Where each value of a stage comes from: the stage's own section, the campaign's
[campaign_defaults], or POMS's built-in default; what the stage page shows beside each
value. Read from the campaign as the exporter writes it, so it says what a file would."""
from __future__ import annotations

import configparser

from app.campaigns.ini import export_ini
from app.campaigns.spec import STAGE_KEYS, CampaignSpec

STAGE = "stage"
DEFAULTS = "campaign defaults"
BUILT_IN = "built-in default"


def stage_origins(spec: CampaignSpec, stage: str) -> dict[str, str]:
    """{key: STAGE | DEFAULTS | BUILT_IN} for every stage key."""
    parser = configparser.RawConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read_string(export_ini(spec))
    section = f"campaign_stage {stage}"
    origins = {}
    for key in STAGE_KEYS:
        if parser.has_option(section, key):
            origins[key] = STAGE
        elif parser.has_option("campaign_defaults", key):
            origins[key] = DEFAULTS
        else:
            origins[key] = BUILT_IN
    return origins
