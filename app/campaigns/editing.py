"""Editing one field of a campaign, stage, job type or login setup from a page.

A field edit is checked by the importer itself: the campaign is written out as INI, the
one value is replaced as the user typed it, and the text is read back by parse_ini. So a
page can never store what an upload would refuse, and the error says the same thing; what
an upload would only warn about in that value is refused too (the person is there to fix
it, while an uploaded file written for the original POMS must import as it is).
"""
from __future__ import annotations

import configparser
import io

from app.campaigns.ini import export_ini, parse_ini
from app.campaigns.spec import (
    DEFAULT_MAX_STAGES,
    CampaignSpec,
    InvalidCampaign,
    JobTypeSpec,
    LoginSetupSpec,
    StageSpec,
)

CAMPAIGN_FIELDS = ("state", "tags", "campaign_keywords")
JOB_TYPE_FIELDS = ("launch_script", "parameters", "output_file_patterns", "recoveries")
LOGIN_SETUP_FIELDS = ("host", "account", "setup")


def _parser(text: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read_string(text)
    return parser


def _edited(spec: CampaignSpec, section: str, key: str, raw: str, source: str) -> CampaignSpec:
    parser = _parser(export_ini(spec))
    if not parser.has_section(section):
        parser.add_section(section)
    # A browser's textarea sends CRLF line ends; the importer reads LF.
    parser.set(section, key, raw.replace("\r\n", "\n").strip())
    out = io.StringIO()
    parser.write(out)
    # A field edit cannot add stages: the campaign's own count is never over the limit.
    limit = max(DEFAULT_MAX_STAGES, len(spec.stages))
    new_spec, warnings = parse_ini(out.getvalue(), source, max_stages=limit)
    # An upload keeps what the original would store with a warning (files written for it
    # must import); the person typing this one value is here to fix it, so it is refused.
    said = [w for w in warnings if w.section == section and w.key == key]
    if said:
        raise InvalidCampaign(said, [w for w in warnings if w not in said])
    return new_spec


def _read(spec: CampaignSpec, sections: tuple[str, ...], key: str) -> str:
    parser = _parser(export_ini(spec))
    for section in sections:
        if parser.has_option(section, key):
            return parser.get(section, key)
    return ""


def campaign_field_text(spec: CampaignSpec, key: str) -> str:
    return _read(spec, ("campaign",), key)


def set_campaign_field(spec: CampaignSpec, key: str, raw: str) -> CampaignSpec:
    return _edited(spec, "campaign", key, raw, f"campaign {spec.name}")


def stage_field_text(spec: CampaignSpec, stage: str, key: str) -> str:
    """The stage's value as the INI would say it (its own, else the campaign default)."""
    text = _read(spec, (f"campaign_stage {stage}", "campaign_defaults"), key)
    if text:
        return text
    # Neither the stage nor the defaults say it: show the built-in default.
    return _read(_alone(spec, stage), (f"campaign_stage {stage}",), key)


def _alone(spec: CampaignSpec, stage: str) -> CampaignSpec:
    """The stage written with no defaults, so every non-empty field is spelt out."""
    only = spec.stage(stage)
    copy = CampaignSpec(
        name=spec.name, stages=[only], job_types=spec.job_types, login_setups=spec.login_setups
    )
    return copy


def set_stage_field(
    spec: CampaignSpec,
    stage: str,
    key: str,
    raw: str,
    shared_job_types: dict[str, JobTypeSpec] | None = None,
    shared_login_setups: dict[str, LoginSetupSpec] | None = None,
) -> CampaignSpec:
    """The campaign with one stage field changed; the experiment's shared job types and
    login setups may be named even if the campaign does not use them yet."""
    with_shared = CampaignSpec(**{**spec.__dict__})
    with_shared.job_types = {**(shared_job_types or {}), **spec.job_types}
    with_shared.login_setups = {**(shared_login_setups or {}), **spec.login_setups}
    new_spec = _edited(with_shared, f"campaign_stage {stage}", key, raw, f"campaign {spec.name}")
    used_jt = {s.job_type for s in new_spec.stages}
    used_ls = {s.login_setup for s in new_spec.stages}
    new_spec.job_types = {n: jt for n, jt in new_spec.job_types.items() if n in used_jt}
    new_spec.login_setups = {n: ls for n, ls in new_spec.login_setups.items() if n in used_ls}
    return new_spec


def _holder(job_type: JobTypeSpec | None, login_setup: LoginSetupSpec | None) -> CampaignSpec:
    """A one-stage campaign around a shared definition, so the importer can check it."""
    job_type = job_type or JobTypeSpec(name="check")
    login_setup = login_setup or LoginSetupSpec(name="check")
    return CampaignSpec(
        name="check",
        stages=[StageSpec(name="check", job_type=job_type.name, login_setup=login_setup.name)],
        job_types={job_type.name: job_type},
        login_setups={login_setup.name: login_setup},
    )


def job_type_field_text(job_type: JobTypeSpec, key: str) -> str:
    return _read(_holder(job_type, None), (f"job_type {job_type.name}",), key)


def set_job_type_field(job_type: JobTypeSpec, key: str, raw: str) -> JobTypeSpec:
    spec = _edited(_holder(job_type, None), f"job_type {job_type.name}", key, raw,
                   f"job type {job_type.name}")
    return spec.job_types[job_type.name]


def login_setup_field_text(login_setup: LoginSetupSpec, key: str) -> str:
    return _read(_holder(None, login_setup), (f"login_setup {login_setup.name}",), key)


def set_login_setup_field(login_setup: LoginSetupSpec, key: str, raw: str) -> LoginSetupSpec:
    spec = _edited(_holder(None, login_setup), f"login_setup {login_setup.name}", key, raw,
                   f"login setup {login_setup.name}")
    return spec.login_setups[login_setup.name]
