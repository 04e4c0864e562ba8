"""Changes to a campaign that are not a whole INI upload: tag several campaigns at once,
merge parameter overrides into a stage, add or remove a stage, and find campaigns and
stages by id (what the original client's tag_campaigns, update_stage_param_overrides,
campaign_stage_edit and get_campaign_name use).

Each goes through the importer (app/campaigns/editing.py) and store.save_campaign, which
audits the campaign before and after and records its new version (the original
client's calls: source "api"); the caller checks the role and commits.
"""
from __future__ import annotations

import json

from app.campaigns import editing, store
from app.campaigns.spec import MAX_LENGTHS, InvalidCampaign, Problem
from app.extensions import db
from app.models import Campaign, CampaignStage, Experiment, Experimenter

Pairs = list[list[str]]


def campaign_by_id(experiment: Experiment, campaign_id: int) -> Campaign | None:
    row = db.session.get(Campaign, campaign_id)
    return row if row is not None and row.experiment_id == experiment.id else None


def stage_by_id(experiment: Experiment, stage_id: int) -> CampaignStage | None:
    row = db.session.get(CampaignStage, stage_id)
    return row if row is not None and row.campaign.experiment_id == experiment.id else None


def check_tag(tag: str) -> str:
    tag = tag.strip() if isinstance(tag, str) else ""
    limit = MAX_LENGTHS["tag"]
    if not tag or "," in tag or not tag.isprintable() or len(tag) > limit:
        raise InvalidCampaign([Problem("tag", "campaign", "tags",
                                       f"a tag is printable, without commas, 1 to {limit} "
                                       f"characters, not {tag!r}")])
    return tag


def tag_campaigns(campaigns: list[Campaign], tag: str, who: Experimenter) -> list[str]:
    """Add `tag` to each campaign (those that have it already are left as they are); the
    names of the campaigns it was added to."""
    tag = check_tag(tag)
    added = []
    for campaign in campaigns:
        spec = store.spec_from_campaign(campaign)
        if tag in spec.tags:
            continue
        spec = editing.set_campaign_field(spec, "tags", ", ".join([*spec.tags, tag]))
        store.save_campaign(campaign.experiment, spec, who, source="api")
        added.append(campaign.name)
    return added


def merge_pairs(current: Pairs, changes: Pairs) -> Pairs:
    """The original's update_stage_param_overrides rule: a [key, value] given replaces the
    value of that key (its first pair; later pairs of the key go), or is added at the end;
    a key given with an empty value is taken out. Other pairs stay, in their order."""
    merged = [list(pair) for pair in current]
    for key, value in changes:
        places = [i for i, pair in enumerate(merged) if pair[0] == key]
        if value in ("", None):
            merged = [pair for pair in merged if pair[0] != key]
        elif places:
            merged[places[0]][1] = value
            merged = [pair for i, pair in enumerate(merged) if i not in places[1:]]
        else:
            merged.append([key, value])
    return merged


def _pairs(value, key: str, stage: str) -> Pairs:
    if not isinstance(value, list) or not all(
        isinstance(p, list | tuple) and len(p) == 2 and isinstance(p[0], str)
        and (p[1] is None or isinstance(p[1], str)) for p in value
    ):
        raise InvalidCampaign([Problem(f"stage {stage}", f"campaign_stage {stage}", key,
                                       "give [[key, value], ...] pairs of text (an empty "
                                       "value takes the key out)")])
    return [[k, v] for k, v in value]


def merge_param_overrides(stage: CampaignStage, who: Experimenter, *,
                          param_overrides: Pairs | None = None,
                          test_param_overrides: Pairs | None = None) -> CampaignStage:
    """Merge changes into the stage's param_overrides and test_param_overrides (merge_pairs);
    a list not given is left as it is."""
    campaign = stage.campaign
    spec = store.spec_from_campaign(campaign)
    shared = store.shared_definitions(campaign.experiment)
    for key, changes in (("param_overrides", param_overrides),
                         ("test_param_overrides", test_param_overrides)):
        if changes is None:
            continue
        merged = merge_pairs(getattr(spec.stage(stage.name), key),
                             _pairs(changes, key, stage.name))
        spec = editing.set_stage_field(spec, stage.name, key,
                                       json.dumps(merged, ensure_ascii=False), *shared)
    store.save_campaign(campaign.experiment, spec, who, source="api")
    return stage


def add_stage(campaign: Campaign, name: str, fields: dict[str, str],
              depends: list[tuple[str, str]], who: Experimenter) -> CampaignStage:
    spec = store.spec_from_campaign(campaign)
    shared = store.shared_definitions(campaign.experiment)
    spec = editing.add_stage(spec, name, fields, depends, *shared)
    store.save_campaign(campaign.experiment, spec, who, source="api")
    return next(s for s in campaign.stages if s.name == name.strip())


def remove_stage(stage: CampaignStage, who: Experimenter) -> None:
    """store.CampaignInUse when it has launched; InvalidCampaign while a stage depends on
    it."""
    campaign = stage.campaign
    spec = editing.remove_stage(store.spec_from_campaign(campaign), stage.name)
    store.save_campaign(campaign.experiment, spec, who, source="api")
