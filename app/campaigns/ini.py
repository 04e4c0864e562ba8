"""Campaign INI files in and out: parse_ini, export_ini and diff_campaigns (the public entry).

The format is the one POMS uses (``poms_client upload_wf`` / the campaign editor's INI
upload, ini_to_campaign, and its ``campaign_deps_ini`` export)::

    [DEFAULT]                 keys every other section gets (configparser's default section)
    [campaign]                name, and ours: experiment, poms_role, state, tags,
                              campaign_stage_list, campaign_keywords (JSON object)
    [campaign_defaults]       any stage key, and campaign_keywords; a stage takes what it
                              leaves empty from here
    [campaign_stage NAME]     stage keys (spec.STAGE_KEYS, or the older ``dataset``)
    [dependencies NAME]       campaign_stage_N = PARENT / file_pattern_N = PATTERN pairs
    [login_setup NAME]        host, account, setup
    [job_type NAME]           launch_script, parameters, output_file_patterns, recoveries
    [node_positions]          nxyN = ["STAGE", x, y]   (graph layout, as POMS exports it)

The work is done in four modules, one per step: ini_reading (text -> sections, as the
original's ConfigParser reads them), ini_checking with ini_stages and ini_values (sections
-> CampaignSpec, problems and warnings), ini_writing (export_ini) and diff
(diff_campaigns). Callers import from here.

The promise: a file the original POMS imports, we import, and store what it stores. A
problem is what the original could not store either; what it stores but that will fail or
surprise later is accepted with a warning saying so, before anything is written. Every
problem in a file is reported at once, each with the file, section, key and line.

Decisions, each the original's rule unless it says otherwise:

- Reading is configparser's with interpolation off (``%(dataset)s`` and ``%%`` are kept:
  they are substituted at launch): keys are case-insensitive (lower-cased), and
  ``[DEFAULT]`` gives its keys to every section (a section's own key wins). A key a
  section does not read is ignored with a warning (the original ignores it silently), as
  is a section the original does not read. A key or section given twice is a problem (the
  original refuses the file).
- Stages are the [campaign_stage NAME] sections, in the order of the sections (the
  original creates them in that order and never reads campaign_stage_list). A name listed
  twice, a listed name with no section (no stage is made), a section not listed, and a
  list in another order than the sections are warnings. An export lists every stage in
  section order, so export and re-import keep the order.
- A stage's value is its own when not empty, else [campaign_defaults]'s, else the
  StageSpec default (the original's ``form[k] or defaults[k]``; where it has no default
  it fails, we are lenient). A default is checked only as merged into the stages that
  take it (and param_overrides also for stages with merge_overrides, which merge it at
  launch): a bad default that every stage overrides is a warning (it is not kept), one
  that stages take is one problem naming them.
- Plain values are stored as written, ``None`` included (vo_role = None is the text
  None), except dataset_or_split_data and cs_split_type, where None means "no dataset" /
  "no split" (stored as ""). In completion_pct, output_ancestor_depth and the parameter
  lists, which the original cannot store None in, None counts as not given, with a
  warning.
- Values the original stores but that fail or surprise later are kept with a warning: a
  completion_type other than complete/located (never Located by itself: app/chaining
  /completion.py follows the original), an unknown stage_type (acts as regular), an
  unknown split type (its launches fail), a completion_pct outside 0-100, a negative
  output_ancestor_depth, merge_overrides and default_clear_cronjob words other than the
  original's (read as it reads them: merge only for True/true, clear unless False/false),
  a state other than Active/Inactive (ignored), an unknown poms_role (analysis).
- Parameter lists (parameters, param_overrides, test_param_overrides, each recovery's
  parameters) are JSON lists kept exactly as written; an entry that is not a [key, value]
  pair of strings (``["-Oglobal.override_dataset=','%(dataset)s"]``) draws a warning that
  launches using it fail. A recovery entry is [type, parameters] (the oldest form, a bare
  type name, means no parameters); anything after the parameters is ignored, as
  fixup_recoveries ignores it.
- A stage depending on itself is kept with a warning: the original's launch_dependents
  launches it again as an ordinary launch (its next split); with a split type that gives
  the same input every time (none, draining, limitn) that would never end, so chaining
  does not relaunch it (app/chaining/chain.py). An empty file_pattern_N is taken as ``%``
  (the original's get_file_patterns reads it so). A stage may depend on one parent under
  two N: both are kept. A key campaign_stage_X whose X is no number (or one above
  99,999,999, or written with a leading zero) is kept as the next free N.
- An export (export_ini) gives each stage, itself or through [campaign_defaults], every
  key the original's save_campaign pops without a fallback, so it imports into the
  original too; re-imported here it is the same campaign. A field edited on a page is
  refused where an upload would only warn about that value (app/campaigns/editing.py).
- campaign_keywords may be in [campaign] (where the original exports them) or in
  [campaign_defaults] (where its importer reads them, and where our export writes them);
  [campaign_defaults] wins.
- A stage (or [campaign_defaults]) may name a job type or login setup the file does not
  define when the file is read against an experiment that holds one of that name
  (parse_ini's `shared`, as every upload does: app/campaigns/store.read_ini). The stage
  then uses the experiment's definition as it is, and a warning says so once per name,
  so the person sees it before confirming (the original looked every stage's names up in
  the experiment, whatever the file defined). A name found in neither is a problem, with
  suggestions from both. Read with no experiment, a file must define every one it uses.
  A default that no stage takes may name one that is found nowhere: a warning.
- [node_positions] values are JSON lists ``["stage name", x, y]`` under any key (the
  original writes keys nxy0, nxy1, ...); they are stored as ``{name: {"x": x, "y": y}}``.
- Values the INI format cannot hold exactly (a line of a multi-line value that starts
  with ``#`` or ``;`` is a comment to configparser; whitespace at either end of a line is
  stripped) are written the way they will read back; normalise_value says how.

Exceptions to the promise (the original stores these, then fails or loses them; we refuse
them, saying why): a parameter list that is not a JSON list; an unknown recovery type
(the original drops the job type's whole recovery list); a completion_pct or
output_ancestor_depth that is not a whole number; a dependency cycle through two or more
stages (it would chain forever); a NUL byte anywhere, JSON nested deeper than 32 levels,
a value longer than its database column, a completion_pct or output_ancestor_depth outside
its integer column, JSON the database cannot store (NaN, Infinity, a number beyond a
float or of more than 4300 digits, a \\uD800-\\uDFFF escape that is not half of a pair),
and more stages than POMS_MAX_STAGES.
"""
from __future__ import annotations

from app.campaigns.diff import CHANGE_KINDS, Change, diff_campaigns
from app.campaigns.ini_checking import (
    CAMPAIGN_KEYS,
    JOB_TYPE_KEYS,
    LOGIN_SETUP_KEYS,
    declared_experiment,
    parse_ini,
)
from app.campaigns.ini_values import RECOVERY_TYPES
from app.campaigns.ini_writing import export_ini, normalise_value

__all__ = [
    "CAMPAIGN_KEYS",
    "CHANGE_KINDS",
    "JOB_TYPE_KEYS",
    "LOGIN_SETUP_KEYS",
    "RECOVERY_TYPES",
    "Change",
    "declared_experiment",
    "diff_campaigns",
    "export_ini",
    "normalise_value",
    "parse_ini",
]
