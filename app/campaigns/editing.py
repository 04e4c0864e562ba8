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
    Problem,
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
    return _reread(parser, spec, source, lambda w: w.section == section and w.key == key)


def _reread(parser: configparser.RawConfigParser, spec: CampaignSpec, source: str,
            typed, added_stages: int = 0) -> CampaignSpec:
    """The edited INI read back by the importer. An upload keeps what the original would
    store with a warning (files written for it must import); a warning about what the
    person typed here (`typed(warning)`) refuses the edit: they are here to fix it."""
    out = io.StringIO()
    parser.write(out)
    # An edit adds at most the stages it says: the campaign's own count is never refused.
    limit = max(DEFAULT_MAX_STAGES, len(spec.stages) + added_stages)
    new_spec, warnings = parse_ini(out.getvalue(), source, max_stages=limit)
    said = [w for w in warnings if typed(w)]
    if said:
        raise InvalidCampaign(said, [w for w in warnings if w not in said])
    return new_spec


def _read(spec: CampaignSpec, sections: tuple[str, ...], key: str) -> str:
    return _option(_parser(export_ini(spec)), sections, key)


def _option(parser: configparser.RawConfigParser, sections: tuple[str, ...], key: str) -> str:
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
    return stage_fields_text(spec, stage, (key,))[key]


def stage_fields_text(spec: CampaignSpec, stage: str, keys) -> dict[str, str]:
    """stage_field_text for each key, writing the campaign out once (the stage page shows
    every field: an INI written and read per field cost more than the rest of the page)."""
    own = (f"campaign_stage {stage}", "campaign_defaults")
    parser = _parser(export_ini(spec))
    texts = {key: _option(parser, own, key) for key in keys}
    if not all(texts.values()):
        # Neither the stage nor the defaults say it: show the built-in default.
        alone = _parser(export_ini(_alone(spec, stage)))
        texts = {key: text or _option(alone, own[:1], key) for key, text in texts.items()}
    return texts


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
    with_shared = _with_shared(spec, shared_job_types, shared_login_setups)
    return _used_only(
        _edited(with_shared, f"campaign_stage {stage}", key, raw, f"campaign {spec.name}"))


def _with_shared(spec: CampaignSpec, shared_job_types, shared_login_setups) -> CampaignSpec:
    with_shared = CampaignSpec(**{**spec.__dict__})
    with_shared.job_types = {**(shared_job_types or {}), **spec.job_types}
    with_shared.login_setups = {**(shared_login_setups or {}), **spec.login_setups}
    return with_shared


def _used_only(new_spec: CampaignSpec) -> CampaignSpec:
    """Only the definitions its stages use (the experiment's others were there so that a
    stage could name them)."""
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


# --- stages and dependencies ---------------------------------------------------------------


def _refuse(spec: CampaignSpec, section: str | None, key: str | None, reason: str):
    return InvalidCampaign([Problem(f"campaign {spec.name}", section, key, reason)])


def _set_depends(parser, spec: CampaignSpec, stage: str,
                 depends: list[tuple[str, str]]) -> None:
    section = f"dependencies {stage}"
    if parser.has_section(section):
        parser.remove_section(section)
    if not depends:
        return
    parser.add_section(section)
    for position, (parent, pattern) in enumerate(depends, start=1):
        if not isinstance(parent, str) or not isinstance(pattern, str):
            raise _refuse(spec, section, f"campaign_stage_{position}",
                          "each dependency is a parent stage and a file pattern")
        parser.set(section, f"campaign_stage_{position}", parent.strip())
        parser.set(section, f"file_pattern_{position}", pattern.strip())


def add_stage(
    spec: CampaignSpec,
    name: str,
    fields: dict[str, str],
    depends: list[tuple[str, str]],
    shared_job_types: dict[str, JobTypeSpec] | None = None,
    shared_login_setups: dict[str, LoginSetupSpec] | None = None,
) -> CampaignSpec:
    """The campaign with one more stage, last in campaign_stage_list: its fields as INI
    text (what it does not give comes from [campaign_defaults]), and the stages it depends
    on with their file patterns. Checked by the importer as a field edit is."""
    name = name.strip() if isinstance(name, str) else ""
    section = f"campaign_stage {name}"
    if not name or "," in name or not name.isprintable():
        raise _refuse(spec, section, None, "a stage needs a printable name without commas")
    if spec.stage(name) is not None:
        raise _refuse(spec, section, None, f"campaign {spec.name} already has a stage {name!r}")
    parser = _parser(export_ini(_with_shared(spec, shared_job_types, shared_login_setups)))
    parser.set("campaign", "campaign_stage_list",
               ", ".join([s.name for s in spec.stages] + [name]))
    parser.add_section(section)
    for key, raw in fields.items():
        parser.set(section, key, raw.replace("\r\n", "\n").strip())
    _set_depends(parser, spec, name, depends)
    typed = (section, f"dependencies {name}")
    return _used_only(_reread(parser, spec, f"campaign {spec.name}",
                              lambda w: w.section in typed, added_stages=1))


def set_stage_dependencies(
    spec: CampaignSpec, stage: str, depends: list[tuple[str, str]]
) -> CampaignSpec:
    """The campaign with the stage's dependencies replaced (none when `depends` is empty)."""
    parser = _parser(export_ini(spec))
    _set_depends(parser, spec, stage, depends)
    section = f"dependencies {stage}"
    return _reread(parser, spec, f"campaign {spec.name}", lambda w: w.section == section)


def remove_stage(spec: CampaignSpec, name: str) -> CampaignSpec:
    """The campaign without the stage; refused while another stage depends on it."""
    children = sorted({d.child for d in spec.dependencies if d.parent == name})
    if children:
        raise _refuse(spec, f"campaign_stage {name}", None,
                      f"stage {', '.join(children)} depends on {name}: change that first")
    parser = _parser(export_ini(spec))
    parser.set("campaign", "campaign_stage_list",
               ", ".join(s.name for s in spec.stages if s.name != name))
    for section in (f"campaign_stage {name}", f"dependencies {name}"):
        if parser.has_section(section):
            parser.remove_section(section)
    return _reread(parser, spec, f"campaign {spec.name}", lambda w: False)
