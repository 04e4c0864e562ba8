"""The original POMS client's Python functions (its poms_client.py), over our REST API.

Scripts written for the original keep working: `import poms_client` and call
upload_wf, launch_campaign_stage_jobs, get_submission_id_for, ... with the same names,
arguments and return shapes. Each call is one or a few requests to /api/v1 (never the
original's cherrypy URLs), signed as the `poms` command signs them (poms_client/api.py):
a Kerberos ticket (requests-gssapi), an API token (POMS_TOKEN), or on a dev-mode server
the user named by POMS_USER.

How the original's arguments map:
  experiment      the experiment in the API path; else update_session_experiment()'s, else
                  $POMS_EXPERIMENT or `experiment =` in the config file.
  role            the X-POMS-Role header: act in that role, one you hold or one below it
                  (the server refuses a higher one); else update_session_role()'s, else
                  $POMS_ROLE / `role =`, else your own.
  test, test_client
                  the original's choice of server: false (or "False") is the usual server;
                  "int" the integration one ($POMS_INT_SERVER or `int_server =`); any other
                  true value the test one ($POMS_TEST_SERVER or `test_server =`). Naming
                  one that is not configured is an error, never a silent fall back.
  test_launch     a test launch (the stage's test_param_overrides).
  configfile      read this config file (our [poms] section) instead of
                  ~/.config/poms/config.ini; the original's client.cfg [url] is not read.
  user, pc_username
                  not sent: the server knows who you are from your ticket or token.
  campaign stage ids, job type ids
                  looked up by id in the experiment (.../stages_by_id/N, ...).

Return shapes are the original's. Where it answered with an HTTP redirect, we give the
code it gave for "done": launches return status 303 with the submission id;
upload_file returns True. A failure the original raised (make_poms_call's RuntimeError
for an HTTP error) raises PomsCallError, a RuntimeError whose message says the status and
the server's reason. The *_rm functions return (message, status) for "not there" (404)
and "in use" (409), as the original answered those with a message.

Differences a script may notice:
  * upload_wf updates a campaign that exists in place (as the original) and replaces the
    job types and login setups the file defines (the original kept the old ones with a
    warning); an invalid file returns (False, {"status": "422 ...", "message": [...]})
    instead of the original's (True, {"status": "400 Bad Request", ...}). `replace` is
    not needed.
  * upload_file keeps every file in your uploaded files ($UPLOADS), where a proxy or
    bearer token is recognised by its content as the credential launches use (for
    production work when you act in a production role, or its name says Production).
  * update_submission(status=...) moves the state through the transition table and is
    refused once POMS tracks the submission's jobs; project and pct_complete are not
    used (a warning says so).
  * get_submission_id_for with a stage name takes the exact name, or a part of it that
    only one stage has ("campaign/stage" names one exactly).
  * register_poms_campaign no longer makes stages (the original's server dropped it
    too): it answers the id of an existing stage, named as get_submission_id_for takes.
  * show_campaigns, show_campaign_stages, campaign_stage_submissions and
    submission_details answer the original's keys that POMS has (no SAM file counts).
"""
from __future__ import annotations

import ast
import configparser
import datetime
import functools
import json
import logging
import os
import re
from pathlib import Path
from urllib.parse import quote

from poms_client import config
from poms_client.api import Api, ApiFailure

log = logging.getLogger("poms_client")

global_experiment = None
global_role = None

STALE_AFTER = datetime.timedelta(days=3)


class PomsCallError(RuntimeError):
    """The server refused or failed, as the original's make_poms_call raised it."""

    def __init__(self, method: str, status: int | None, message: str):
        super().__init__(f"POMS call {method} error: HTTP status: {status or 'none'}\n"
                         f"{message}")
        self.method = method
        self.status = status
        self.message = message


def _original(method: str):
    """Failures of our client become the original's RuntimeError (PomsCallError)."""
    def wrap(fn):
        @functools.wraps(fn)
        def call(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except ApiFailure as err:
                raise PomsCallError(method, err.status, err.message) from None
            except config.ConfigProblem as err:
                raise PomsCallError(method, None, str(err)) from None
        return call
    return wrap


# --- where and as whom ---------------------------------------------------------------------


def update_session_experiment(experiment, test_client=False):
    """Later calls act in this experiment unless they name one."""
    global global_experiment
    global_experiment = experiment
    return True


def update_session_role(role, test_client=False):
    """Later calls act in this role unless they name one."""
    global global_role
    global_role = role
    return True


_FALSE = (None, False, 0, "", "0", "False", "false", "None", "no", "prod")


def server_key(test) -> str:
    if test in _FALSE:
        return "server"
    return "int_server" if str(test) == "int" else "test_server"


def _api(experiment=None, role=None, test=None, configfile=None) -> Api:
    settings = config.resolve(
        experiment=experiment or global_experiment, role=role or global_role or None,
        server_key=server_key(test), config_file=configfile or None)
    return Api(settings)


def _path(*parts) -> str:
    return "/" + "/".join(quote(str(p), safe="") for p in parts)


def _exp(api: Api, *parts) -> str:
    return api.experiment_path(*parts)


def _stage_names(api: Api, stage_id) -> tuple[str, str]:
    found = api.get(_exp(api, "stages_by_id", int(stage_id)))
    return found["campaign"], found["name"]


def _all_stages(api: Api) -> list[dict]:
    """Every stage of the experiment: {id, name, campaign, campaign_id}."""
    campaigns, _total = api.pages(_exp(api, "campaigns"), {"state": "all"})
    stages = []
    for c in campaigns:
        full = api.get(_exp(api, "campaigns", c["name"]))
        stages += [{"id": s["id"], "name": s["name"], "campaign": c["name"],
                    "campaign_id": c["id"]} for s in full["stages"]]
    return stages


def _find_stage(api: Api, wanted) -> tuple[str, str]:
    """(campaign, stage) for a stage id, "campaign/stage", [campaign, stage], or a stage
    name (exact, else a part of it only one stage has)."""
    if isinstance(wanted, list | tuple) and len(wanted) == 2:
        return str(wanted[0]), str(wanted[1])
    text = str(wanted).strip()
    if text.isdigit():
        return _stage_names(api, int(text))
    if "/" in text:
        campaign, _, stage = text.partition("/")
        return campaign, stage
    stages = _all_stages(api)
    exact = [s for s in stages if s["name"] == text]
    found = exact or [s for s in stages if text in s["name"]]
    if len(found) != 1:
        where = ", ".join(f"{s['campaign']}/{s['name']}" for s in found[:10])
        raise ApiFailure(f"stage {text!r}: " + (f"{len(found)} stages match ({where}); name "
                         "it as campaign/stage or by id" if found else "no stage has that name"))
    return found[0]["campaign"], found[0]["name"]


def _leading_stage(api: Api, campaign_id) -> tuple[str, str]:
    """The one stage of a campaign that depends on no other (what launch_campaign starts)."""
    name = api.get(_exp(api, "campaigns_by_id", int(campaign_id)))["name"]
    campaign = api.get(_exp(api, "campaigns", name))
    leading = [s["name"] for s in campaign["stages"] if not s["depends_on"]]
    if len(leading) != 1:
        raise ApiFailure(f"cannot tell which stage of campaign {name} to launch: "
                         f"{len(leading)} stages depend on no other")
    return name, leading[0]


def _literal(value, what: str):
    """A value the original took as JSON or a Python literal, or already as data."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        pass
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        raise ValueError(f"{what}: give JSON (or a Python literal), not {value!r}") from None


def _pairs(value, what: str) -> list[list]:
    """[[key, value], ...] from a dict, a list of pairs, or their text."""
    value = _literal(value, what)
    if isinstance(value, dict):
        return [[k, v] for k, v in value.items()]
    if isinstance(value, list | tuple) and all(
            isinstance(p, list | tuple) and len(p) == 2 for p in value):
        return [[k, v] for k, v in value]
    raise ValueError(f"{what}: give {{key: value}} or [[key, value], ...], not {value!r}")


def _words(value) -> str | None:
    """The original's command-line lists of words, joined as one value."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value)


def _json_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


# --- campaigns -----------------------------------------------------------------------------


def _campaign_row(c: dict) -> dict:
    return {"campaign_id": c["id"], "name": c["name"], "experiment": None,
            "active": c["state"] == "Active", "state": c["state"],
            "creator": c["owner"], "creator_role": c["poms_role"], "poms_role": c["poms_role"],
            "tags": c["tags"], "stages": c["stages"], "updated": c["updated"]}


def _views(kwargs: dict) -> dict:
    """The original's view_* flags, used only when update_view is given (as there)."""
    if kwargs.get("update_view") is None:
        return {"view_active": "view_active", "view_inactive": None, "view_mine": True,
                "view_others": True, "view_analysis": True, "view_production": True}
    return {k: kwargs.get(k) for k in ("view_active", "view_inactive", "view_mine",
                                      "view_others", "view_analysis", "view_production")}


def _campaigns_in_view(api: Api, views: dict) -> list[dict]:
    state = ("all" if views["view_active"] and views["view_inactive"] else
             "Inactive" if views["view_inactive"] and not views["view_active"] else "Active")
    params = {"state": state}
    if bool(views["view_analysis"]) != bool(views["view_production"]):
        params["poms_role"] = "analysis" if views["view_analysis"] else "production"
    items, _total = api.pages(_exp(api, "campaigns"), params)
    if bool(views["view_mine"]) != bool(views["view_others"]):
        me = api.get("/me")["user"]
        items = [c for c in items if (c["owner"] == me) == bool(views["view_mine"])]
    return items


@_original("show_campaigns")
def show_campaigns(test=None, **kwargs):
    """(ok, {"tl": [campaign, ...], "msg": "OK", "data": {view flags}}) for the experiment."""
    api = _api(kwargs.get("experiment"), kwargs.get("role"), test, kwargs.get("configfile"))
    views = _views(kwargs)
    rows = [_campaign_row(c) for c in _campaigns_in_view(api, views)]
    for row in rows:
        row["experiment"] = api.settings.experiment
    return True, {"tl": rows, "msg": "OK", "data": views}


@_original("show_campaign_stages")
def show_campaign_stages(campaign_name=None, test=None, **kwargs):
    """(ok, {"campaign_stages": [stage, ...], "data": {view flags}}): one campaign's stages,
    or every stage of the campaigns in view."""
    api = _api(kwargs.get("experiment"), kwargs.get("role"), test, kwargs.get("configfile"))
    views = _views(kwargs)
    names = [campaign_name] if campaign_name else [
        c["name"] for c in _campaigns_in_view(api, views)]
    stages = []
    for name in names:
        c = api.get(_exp(api, "campaigns", name))
        for s in c["stages"]:
            stages.append({
                "campaign_stage_id": s["id"], "name": s["name"], "campaign_id": c["id"],
                "campaign_obj": {"name": c["name"]}, "experiment": c["experiment"],
                "job_type": s["job_type"], "login_setup": s["login_setup"],
                "depends_on": s["depends_on"], "active": c["state"] == "Active"})
    return True, {"campaign_stages": stages, "data": views}


@_original("ini_to_campaign")
def upload_wf(file_name, test=None, experiment=None, configfile=None, replace=False, role=None):
    """Upload a campaign .ini file: create the campaign or update it in place.
    (ok, {"status", "message": [...] or "OK", "campaign_id", "campaign_stage_ids"})."""
    api = _api(experiment, role, test, configfile)
    data = _read(file_name)
    try:
        answer = api.post(_exp(api, "campaigns"), data=data,
                          params={"filename": os.path.basename(file_name)},
                          headers={"Content-Type": "text/plain; charset=utf-8"})
    except ApiFailure as err:
        if err.status != 422:
            raise
        problems = [p.get("text", "") for p in err.body.get("problems", [])] or [err.message]
        return False, {"status": "422 Unprocessable Entity", "message": problems}
    messages = [f"Warning: {w['text']}" for w in answer["warnings"]]
    messages += [c["text"] for c in answer["changes"]]
    campaign = answer["campaign"]
    return True, {
        "status": "201 Created" if answer["created"] else "200 OK",
        "message": messages or "OK",
        "campaign_id": campaign["id"],
        "campaign_stage_ids": [[s["id"], s["name"]] for s in campaign["stages"]],
    }


@_original("get_campaign_id")
def get_campaign_id(experiment, campaign_name, test=None, role=None, configfile=None):
    api = _api(experiment, role, test, configfile)
    return int(api.get(_exp(api, "campaigns", campaign_name))["id"])


@_original("get_campaign_name")
def get_campaign_name(experiment, campaign_id, test=None, role=None, configfile=None):
    api = _api(experiment, role, test, configfile)
    return api.get(_exp(api, "campaigns_by_id", int(campaign_id)))["name"]


@_original("get_campaign_stage_id")
def get_campaign_stage_id(experiment, campaign_name, campaign_stage_name, test=None, role=None,
                          configfile=None):
    api = _api(experiment, role, test, configfile)
    return int(api.get(_exp(api, "campaigns", campaign_name, "stages",
                            campaign_stage_name))["id"])


@_original("get_campaign_stage_name")
def get_campaign_stage_name(experiment, campaign_stage_id, test=None, role=None,
                            configfile=None):
    """[campaign name, stage name], as the original's JSON row."""
    api = _api(experiment, role, test, configfile)
    campaign, stage = _stage_names(api, campaign_stage_id)
    return [campaign, stage]


@_original("campaign_list_json")
def get_campaign_list(experiment=None, role=None, test_client=False):
    """{stage name: stage id} for every stage of the experiment (a name two campaigns
    share keeps the last one, as in the original)."""
    api = _api(experiment, role, test_client)
    return {s["name"]: s["id"] for s in _all_stages(api)}


@_original("link_tags")
def tag_campaigns(tag, cids, experiment, role=None, test_client=False):
    """Tag campaigns (ids or names, a list or "1,2,3"); True when done."""
    api = _api(experiment, role, test_client)
    if isinstance(cids, str | int):
        cids = [c.strip() for c in str(cids).split(",") if c.strip()]
    wanted = [int(c) if str(c).isdigit() else c for c in cids]
    api.post(_exp(api, "tags", tag), json={"campaigns": wanted})
    return True


def _removal(method: str, api: Api, path: str, key: str) -> tuple[str, int]:
    try:
        answer = api.delete(path)
    except ApiFailure as err:
        if err.status in (404, 409):
            return json.dumps({key: err.message}), err.status
        raise PomsCallError(method, err.status, err.message) from None
    return json.dumps({key: f"{answer['deleted']} has been deleted."}), 200


@_original("show_campaigns")
def campaign_rm(experiment, name, test=False, role=None, configfile=None):
    """Delete a campaign that never launched: (JSON text {"msg": ...}, status)."""
    api = _api(experiment, role, test, configfile)
    return _removal("show_campaigns", api, _exp(api, "campaigns", name), "msg")


def campaign_edit(**kwargs):
    logging.warning("Notice: campaign_edit has been replaced by campaign_stage_edit")
    raise DeprecationWarning("campaign_edit has been replaced by campaign_stage_edit")


# --- stages --------------------------------------------------------------------------------


# The original's stage columns, as our stage fields.
STAGE_FIELDS = {
    "dataset": "dataset_or_split_data", "campaign_stage_type": "stage_type",
    "vo_role": "vo_role", "software_version": "software_version",
    "dataset_or_split_data": "dataset_or_split_data", "cs_split_type": "cs_split_type",
    "completion_type": "completion_type", "completion_pct": "completion_pct",
    "param_overrides": "param_overrides", "test_param_overrides": "test_param_overrides",
    "merge_overrides": "merge_overrides", "stage_type": "stage_type",
    "output_ancestor_depth": "output_ancestor_depth",
    "default_clear_cronjob": "default_clear_cronjob", "job_type": "job_type",
    "login_setup": "login_setup", "state": "state",
}
_PAIR_FIELDS = ("param_overrides", "test_param_overrides")


def _field_text(key: str, value) -> str:
    if key in _PAIR_FIELDS:
        return json.dumps(_pairs(value, key))
    if key == "completion_type" and isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _stage_path(api: Api, campaign_stage) -> str:
    campaign, stage = _find_stage(api, campaign_stage)
    return _exp(api, "campaigns", campaign, "stages", stage)


@_original("update_campaign_stage")
def update_campaign_stage(campaign_stage, experiment=None, role=None, test=None,
                          configfile=None, **kwargs):
    """Set stage fields (the original's column names, or ours); ("status_code", 200)."""
    api = _api(experiment, role, test, configfile)
    fields = {}
    for key, value in kwargs.items():
        if key not in STAGE_FIELDS:
            log.warning("update_campaign_stage: %s is not a stage field POMS has; ignored", key)
            continue
        fields[STAGE_FIELDS[key]] = _field_text(STAGE_FIELDS[key], value)
    if fields:
        api.patch(_stage_path(api, campaign_stage), json={"fields": fields})
    return "status_code", 200


@_original("update_stage_param_overrides")
def update_stage_param_overrides(experiment, campaign_stage, param_overrides=None,
                                 test_param_overrides=None, test=None, role=None,
                                 configfile=None):
    """Merge overrides into a stage (a key with an empty value is taken out); the text of
    (param_overrides, test_param_overrides) as they are now, None for a list not given."""
    api = _api(experiment, role, test, configfile)
    body = {}
    if param_overrides:
        body["param_overrides"] = _pairs(param_overrides, "param_overrides")
    if test_param_overrides:
        body["test_param_overrides"] = _pairs(test_param_overrides, "test_param_overrides")
    if not body:
        return str((None, None))
    stage = api.post(_stage_path(api, campaign_stage) + "/param_overrides", json=body)
    fields = stage["fields"]
    return str(tuple([tuple(p) for p in fields[k]] if k in body else None
                     for k in ("param_overrides", "test_param_overrides")))


def _depends(ae_depends) -> list[dict] | None:
    """The original's {"campaigns": [stage, ...], "file_patterns": [pattern, ...]}."""
    if ae_depends in (None, "", [], {}):
        return None
    if isinstance(ae_depends, list | tuple) and all(isinstance(d, str) for d in ae_depends):
        ae_depends = " ".join(ae_depends)
    value = _literal(ae_depends, "ae_depends")
    if not isinstance(value, dict):
        raise ValueError('ae_depends: give {"campaigns": [stage, ...], "file_patterns": '
                         f"[pattern, ...]}}, not {value!r}")
    stages, patterns = value.get("campaigns", []), value.get("file_patterns", [])
    if len(patterns) < len(stages):
        patterns = list(patterns) + ["%"] * (len(stages) - len(patterns))
    return [{"stage": s, "file_pattern": p} for s, p in zip(stages, patterns, strict=False)]


@_original("campaign_stage_edit")
def campaign_stage_edit(action, campaign_id, ae_stage_name, pc_username, experiment, vo_role,
                        dataset, ae_active, ae_split_type, ae_software_version,
                        ae_completion_type, ae_completion_pct, ae_param_overrides,
                        ae_depends, ae_launch_name, ae_campaign_definition,
                        ae_test_param_overrides, test_client=None, role=None, configfile=None,
                        ae_cronjob=True):
    """Add, edit or delete a stage of campaign `campaign_id` (the campaign's name, as the
    original sends it); ("status_code", 200). Values left None are not changed."""
    api = _api(experiment, role, test_client, configfile)
    if str(campaign_id).isdigit():
        campaign_id = api.get(_exp(api, "campaigns_by_id", int(campaign_id)))["name"]
    if ae_param_overrides not in (None, "", []) and ae_test_param_overrides is None:
        # The original sent the stage's overrides as its test overrides too.
        ae_test_param_overrides = ae_param_overrides
    given = {"vo_role": vo_role, "dataset_or_split_data": dataset,
             "cs_split_type": ae_split_type, "software_version": ae_software_version,
             "completion_type": ae_completion_type, "completion_pct": ae_completion_pct,
             "param_overrides": ae_param_overrides or None,
             "test_param_overrides": ae_test_param_overrides or None,
             "login_setup": ae_launch_name, "job_type": ae_campaign_definition,
             "default_clear_cronjob": ae_cronjob}
    fields = {k: _field_text(k, v) for k, v in given.items() if v is not None}
    depends = _depends(ae_depends)
    stages = _exp(api, "campaigns", campaign_id, "stages")
    if action == "add":
        body = {"name": ae_stage_name, "fields": fields}
        if depends:
            body["depends_on"] = depends
        api.post(stages, json=body)
    elif action == "edit":
        body = {"fields": fields}
        if depends is not None:
            body["depends_on"] = depends
        if fields or depends is not None:
            api.patch(stages + _path(ae_stage_name), json=body)
    elif action == "delete":
        api.delete(stages + _path(ae_stage_name))
    else:
        raise ValueError(f"action {action!r}: add, edit or delete")
    return "status_code", 200


# --- job types and login setups ------------------------------------------------------------


def _definition_change(api: Api, kind: str, action, name, fields: dict) -> int:
    base = _exp(api, kind)
    if action == "add":
        api.post(base, json={"name": name, "fields": fields})
    elif action == "edit":
        if fields:
            api.patch(base + _path(name), json={"fields": fields})
    elif action == "delete":
        api.delete(base + _path(name))
    else:
        raise ValueError(f"action {action!r}: add, edit or delete")
    return 200


@_original("job_type_edit")
def job_type_edit(output_file_patterns, launch_script, def_parameter=None, pc_username=None,
                  action=None, name=None, experiment=None, recoveries=None, test_client=False,
                  role=None, configfile=None):
    """Add, edit or delete job type `name`; ("status_code", 200). Values left None are not
    changed (a new job type's output_file_patterns is then '%', as the original's)."""
    api = _api(experiment, role, test_client, configfile)
    fields = {}
    if output_file_patterns is not None:
        fields["output_file_patterns"] = _words(output_file_patterns)
    elif action == "add":
        fields["output_file_patterns"] = "%"
    if launch_script is not None:
        fields["launch_script"] = _words(launch_script)
    if def_parameter is not None:
        if isinstance(def_parameter, list | tuple) and all(
                isinstance(w, str) for w in def_parameter):
            def_parameter = " ".join(def_parameter)  # the command line's words
        fields["parameters"] = json.dumps(_pairs(def_parameter, "def_parameter"))
    if recoveries is not None:
        fields["recoveries"] = _json_text(_literal(recoveries, "recoveries"))
    return "status_code", _definition_change(api, "job_types", action, name, fields)


def campaign_definition_edit(output_file_patterns, launch_script, def_parameter=None,
                             pc_username=None, action=None, name=None, experiment=None,
                             recoveries=None, test_client=False, role=None, configfile=None):
    logging.warning("Notice: poms_client.campaign_definition_edit() is deprecated, use "
                    "job_type_edit")
    return job_type_edit(output_file_patterns, launch_script, def_parameter, pc_username,
                         action, name, experiment, recoveries, test_client, role, configfile)


@_original("login_setup_edit")
def login_setup_edit(launch_host, launch_account, launch_setup, pc_username=None, action=None,
                     name=None, experiment=None, test_client=False, role=None,
                     configfile=None):
    """Add, edit or delete login setup `name`; ("status_code", 200)."""
    api = _api(experiment, role, test_client, configfile)
    fields = {k: _words(v) for k, v in (("host", launch_host), ("account", launch_account),
                                        ("setup", launch_setup)) if v is not None}
    return "status_code", _definition_change(api, "login_setups", action, name, fields)


def launch_template_edit(action=None, launch_name=None, launch_host=None, user_account=None,
                         launch_setup=None, experiment=None, pc_username=None,
                         test_client=False, role=None, configfile=None):
    """The original's checks first (("failed", -1) with an error logged), then
    login_setup_edit."""
    if action == "delete" and launch_name is None:
        logging.error("For deleting you need to provide the name of the launch template "
                      "as name = name_of_your_launch_template")
        return "failed", -1
    if action == "add" and None in (launch_name, launch_host, user_account, launch_setup):
        logging.error("To add a launch template give launch_name, launch_host, "
                      "user_account and launch_setup; given: launch_name=%s, launch_host=%s,"
                      " user_account=%s, launch_setup=%s", launch_name, launch_host,
                      user_account, launch_setup)
        return "failed", -1
    if action == "edit" and launch_name is None:
        logging.error("To edit a launch template give its launch_name")
        return "failed", -1
    if action not in ("add", "edit", "delete"):
        logging.error("The action on a launch template is add, edit or delete, not %r; "
                      "nothing was changed", action)
        return "failed", -1
    return login_setup_edit(launch_host, user_account, launch_setup, pc_username, action,
                            launch_name, experiment, test_client, role, configfile)


@_original("job_type_rm")
def job_type_rm(experiment, name, test=False, role=None, configfile=None):
    """Remove a job type no stage uses: (JSON text {"message": ...}, status)."""
    api = _api(experiment, role, test, configfile)
    return _removal("job_type_rm", api, _exp(api, "job_types", name), "message")


@_original("login_setup_rm")
def login_setup_rm(experiment, name, test=False, role=None, configfile=None):
    """Remove a login setup no stage uses: (JSON text {"message": ...}, status)."""
    api = _api(experiment, role, test, configfile)
    return _removal("login_setup_rm", api, _exp(api, "login_setups", name), "message")


@_original("modify_job_type_recoveries")
def modify_job_type_recoveries(job_type_id, recoveries, test=None, experiment=None, role=None,
                               configfile=None):
    """Merge recoveries into a job type: (its recoveries now, 200, job_type_id)."""
    api = _api(experiment, role, test, configfile)
    recoveries = _literal(recoveries, "recoveries")
    name = api.get(_exp(api, "job_types_by_id", int(job_type_id)))["name"]
    api.post(_exp(api, "job_types", name, "recoveries"), json={"recoveries": recoveries})
    shown = api.get(_exp(api, "job_types", name))["ini"]["recoveries"]
    return json.loads(shown or "[]"), 200, job_type_id


# --- launches and submissions --------------------------------------------------------------


def _launch(api: Api, campaign: str, stage: str, test_launch) -> tuple[str, int, int]:
    answer = api.post(_exp(api, "campaigns", campaign, "stages", stage, "launch"),
                      json={"test": test_launch not in _FALSE})
    sid = answer["submission"]["id"]
    where = f"{api.settings.server}/e/{quote(api.settings.experiment)}/submission/{sid}"
    return where, 303, sid


@_original("launch_jobs")
def launch_campaign_stage_jobs(campaign_stage_id, test=None, test_launch=None, experiment=None,
                               role=None, configfile=None):
    """Launch a stage: (the submission's page, 303, submission id)."""
    api = _api(experiment, role, test, configfile)
    campaign, stage = _find_stage(api, campaign_stage_id)
    return _launch(api, campaign, stage, test_launch)


def launch_jobs(campaign, test=None, experiment=None, role=None, configfile=None):
    logging.warning("Notice: poms_client.launch_jobs() is deprecated, use "
                    "launch_campaign_stage_jobs")
    return launch_campaign_stage_jobs(campaign, test, None, experiment, role,
                                      configfile)[1] == 303


@_original("launch_campaign")
def launch_campaign_jobs(campaign_id, test=None, test_launch=None, experiment=None, role=None,
                         configfile=None):
    """Launch the campaign's first stage (the one that depends on no other)."""
    api = _api(experiment, role, test, configfile)
    campaign, stage = _leading_stage(api, campaign_id)
    return _launch(api, campaign, stage, test_launch)


@_original("get_submission_id_for")
def get_submission_id_for(campaign_stage_id, user=None, command_executed=None,
                          input_dataset=None, parent_submission_id=None, submission_id=None,
                          test=None, experiment=None, role=None, configfile=None):
    """The id of a new submission of the stage, launched outside POMS (or, given
    submission_id, record the command that one ran); an int."""
    api = _api(experiment, role, test, configfile)
    campaign, stage = _find_stage(api, campaign_stage_id)
    body = {"command": command_executed or "", "dataset": input_dataset or ""}
    if parent_submission_id not in (None, "", "None"):
        body["parent"] = int(parent_submission_id)
    if submission_id not in (None, "", "None"):
        body["submission_id"] = int(submission_id)
    answer = api.post(_exp(api, "campaigns", campaign, "stages", stage, "external_submissions"),
                      json=body)
    return int(answer["id"])


def get_task_id_for(campaign, user=None, command_executed=None, input_dataset=None,
                    parent_task_id=None, task_id=None, test=None, experiment=None, role=None,
                    configfile=None):
    logging.warning("Notice: poms_client.get_task_id_for() is deprecated, use "
                    "get_submission_id")
    return get_submission_id_for(campaign, user, command_executed, input_dataset,
                                 parent_task_id, task_id, test, experiment, role, configfile)


@_original("register_poms_campaign")
def register_poms_campaign(campaign_name, user=None, experiment=None, version=None,
                           dataset=None, campaign_definition=None, test=None, role=None,
                           configfile=None):
    """The id of an existing stage (deprecated: stages are made by upload_wf)."""
    logging.warning("Notice: poms_client.register_poms_campaign() is deprecated")
    api = _api(experiment, role, test, configfile)
    try:
        campaign, stage = _find_stage(api, campaign_name)
        found = api.get(_exp(api, "campaigns", campaign, "stages", stage))
    except ApiFailure as err:
        raise ApiFailure(f"{err.message}; register_poms_campaign no longer makes stages: "
                         "upload a campaign file with upload_wf", err.status) from None
    wanted = {"software_version": version, "dataset_or_split_data": dataset,
              "job_type": campaign_definition}
    differ = [k for k, v in wanted.items() if v is not None and found["ini"].get(k) != v]
    if differ:
        log.warning("register_poms_campaign: stage %s/%s keeps its %s (not changed here)",
                    campaign, stage, ", ".join(differ))
    print(f"got data: Campaign={found['id']}")
    return int(found["id"])


def _experiment_of(kwargs: dict) -> str | None:
    return kwargs.get("experiment")


@_original("update_submission")
def update_submission(submission_id, jobsub_job_id=None, status=None, project=None, test=None,
                      configfile=None, **kwargs):
    """Report a submission's batch id and/or state: (ok, "Ok.")."""
    api = _api(_experiment_of(kwargs), kwargs.get("role"), test, configfile)
    for unused in ("project", "pct_complete"):
        if (project if unused == "project" else kwargs.get(unused)) is not None:
            log.warning("update_submission: %s is not used by this POMS", unused)
    body = {}
    if status is not None:
        body["status"] = status
    if jobsub_job_id:
        body["jobsub_job_id"] = jobsub_job_id
    if not body:
        return True, "Ok."
    api.post(_exp(api, "submissions", int(submission_id), "update"), json=body)
    return True, "Ok."


def _submission_row(s: dict) -> dict:
    batch = s["batch_id"] or "unknown.0@unknown.un.known"
    cluster, _, schedd = batch.partition("@")
    return {"submission_id": s["id"], "jobsub_job_id": s["batch_id"], "created": s["created"],
            "creator": s["launcher"], "status": s["state"], "jobsub_cluster": cluster,
            "jobsub_schedd": schedd, "campaign_stage_name": s["stage"],
            "available_output": None, "output_dims": None, "origin": s["origin"],
            "test": s["test"]}


@_original("campaign_stage_submissions")
def campaign_stage_submissions(experiment, role, campaign_name, stage_name, test=None,
                               configfile=None, **kwargs):
    """(ok, {"submissions": [row, ...]}): a stage's submissions (every stage's with
    stage_name None or "*"), oldest first."""
    api = _api(experiment, role, test, configfile)
    if kwargs.get("campaign_stage_id") not in (None, "", "None"):
        campaign_name, stage_name = _stage_names(api, kwargs["campaign_stage_id"])
    params = {"campaign": campaign_name}
    if stage_name not in (None, "", "*", "None"):
        params["stage"] = stage_name
    items, _total = api.pages(_exp(api, "submissions"), params)
    return True, {"submissions": [_submission_row(s) for s in reversed(items)]}


@_original("submission_details")
def submission_details(experiment, role, submission_id, test=None, configfile=None):
    """(ok, {"submission", "history", "dataset", "recovery_ids", "depend_ids", ...})."""
    api = _api(experiment, role, test, configfile)
    s = api.get(_exp(api, "submissions", int(submission_id)))
    history, _ = api.pages(_exp(api, "submissions", int(submission_id), "history"))
    family, _ = api.pages(_exp(api, "submissions"), {"campaign": s["campaign"]})
    submission = {**_submission_row(s), "command_executed": s.get("command", ""),
                  "submission_params": {"dataset": s.get("dataset", "")},
                  "campaign_stage_name": s["stage"], "campaign_name": s["campaign"],
                  "recovery_tasks_parent": s["recovery_of"], "jobs": s["jobs"]}
    return True, {
        "submission": submission,
        "history": [{"submission_id": s["id"], "status": e["to"], "created": e["at"],
                     "cause": e["cause"], "by": e["by"]} for e in history],
        "dataset": s.get("dataset") or None,
        "recovery_ids": sorted(f["id"] for f in family if f["recovery_of"] == s["id"]),
        "depend_ids": sorted(f["id"] for f in family if f["origin"] == f"parent {s['id']}"),
        "statuses": [],
    }


# --- uploaded files and credentials --------------------------------------------------------

_JWT = re.compile(rb"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
_PRODUCTION_ROLES = ("production-shifter", "production", "superuser")


def credential_kind(data: bytes) -> str | None:
    """"proxy" for an X.509 proxy, "token" for a bearer token (a JWT), else None."""
    if b"-----BEGIN CERTIFICATE-----" in data:
        return "proxy"
    if _JWT.match(data.strip()):
        return "token"
    return None


def _credential_role(role) -> str:
    return "production" if (role or global_role) in _PRODUCTION_ROLES else "analysis"


def _read(file_name) -> bytes:
    try:
        return Path(file_name).read_bytes()
    except OSError as err:
        raise ApiFailure(f"{file_name}: {err.strerror}") from None


@_original("upload_file")
def upload_file(file_name, test=None, experiment=None, role=None, configfile=None):
    """Put a file in your uploaded files ($UPLOADS/<its name> at launch); True when kept.
    A proxy or bearer token is recognised by its content as your credential: for
    production work when you act in a production role or its name says Production (the
    original's x509up_voms_<experiment>_Production_<user>), else for analysis."""
    api = _api(experiment, role, test, configfile)
    data = _read(file_name)
    params = {"role": "production"} if _credential_role(role) == "production" else {}
    api.post(_exp(api, "uploads"), params=params,
             files=[("files", (os.path.basename(file_name), data, "application/octet-stream"))])
    return True


@_original("upload_file")
def upload_credential(file_name, role=None, test=None, experiment=None, configfile=None):
    """Keep a proxy or bearer token as your credential for the role's work (what the
    original's upload_file --proxy / --vaulttoken did); the server names the file."""
    api = _api(experiment, role, test, configfile)
    api.post(_exp(api, "credentials"), data=_read(file_name),
             params={"role": _credential_role(role)},
             headers={"Content-Type": "application/octet-stream"})
    return True


@_original("download_file")
def download_file(file_name, test=None, experiment=None, role=None, configfile=None):
    """One of your uploaded files, as text."""
    api = _api(experiment, role, test, configfile)
    return api.get(_exp(api, "uploads", file_name), expect_json=False,
                   headers={"Accept": "*/*"}).text


@_original("remove_uploaded_files")
def uploaded_files_rm(experiment, filename, test=None, role=None, configfile=None):
    """Remove uploaded file(s) (a name or a list); one that is not there is no error, as in
    the original. ("Ok.", 200)."""
    api = _api(experiment, role, test, configfile)
    for name in [filename] if isinstance(filename, str) else list(filename):
        try:
            api.delete(_exp(api, "uploads", name))
        except ApiFailure as err:
            if err.status != 404:
                raise
    return "Ok.", 200


def auth_cert():
    """The X.509 proxy the original would use: $X509_USER_PROXY, else /tmp/x509up_u<uid>
    if it exists (kx509 is not run), else None."""
    cert = os.environ.get("X509_USER_PROXY")
    if cert:
        return cert
    path = f"/tmp/x509up_u{os.getuid()}"
    return path if os.path.exists(path) else None


def auth_token():
    """The bearer token in $BEARER_TOKEN_FILE, or None."""
    path = os.environ.get("BEARER_TOKEN_FILE")
    if path and os.path.exists(path):
        return Path(path).read_text(encoding="utf-8").strip()
    return None


def _stale(options, kind: str) -> bool:
    """True unless POMS holds your credential of this kind for the role's work, uploaded
    under three days ago (the original's rule for --refresh)."""
    role = _credential_role(getattr(options, "poms_role", None))
    try:
        api = _api(getattr(options, "experiment", None), getattr(options, "poms_role", None),
                   getattr(options, "test", None))
        items, _total = api.pages(_exp(api, "credentials"))
    except (ApiFailure, config.ConfigProblem):
        log.exception("Failed getting uploaded credentials from POMS")
        return True
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    for c in items:
        if c["kind"] == kind and c["role"] == role and not c["expired"]:
            uploaded = datetime.datetime.fromisoformat(c["uploaded"].rstrip("Z"))
            if getattr(options, "verbose", False):
                log.info("%s on POMS uploaded %sZ", kind, uploaded.isoformat())
            return now - uploaded > STALE_AFTER
    return True


def check_stale_proxy(options):
    return _stale(options, "proxy")


def check_stale_token(options):
    return _stale(options, "token")


def getconfig(kwargs):
    """Our config file ([poms] section) as a ConfigParser."""
    parser = configparser.ConfigParser(interpolation=None)
    path = kwargs.get("configfile") or config.config_path()
    parser.read(path)
    return parser


def base_path(test_client, config_=None, tokens=False):
    """The server the original's test flag picks (see the module docstring)."""
    return config.resolve(server_key=server_key(test_client)).server


def make_poms_call(**kwargs):
    raise PomsCallError(kwargs.get("method", "?"), None,
                        "make_poms_call named the original's web methods, which this POMS "
                        "does not have: call the poms_client function of that name instead")
