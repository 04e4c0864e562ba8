"""`poms`: the POMS command-line client (REST API /api/v1; requests + requests-gssapi).

Scripts written for the original POMS client `import poms_client` and call its functions
(upload_wf, launch_campaign_stage_jobs, ...): those are poms_client.compat, re-exported
here; their arguments and differences are in that module's docstring.
"""

__version__ = "1.0.0"
JSON_VERSION = 1  # the "version" of every --json answer; bumped only on incompatible change

from poms_client.compat import (  # noqa: E402  (after __version__, which api.py reads)
    PomsCallError,
    auth_cert,
    auth_token,
    base_path,
    campaign_definition_edit,
    campaign_edit,
    campaign_rm,
    campaign_stage_edit,
    campaign_stage_submissions,
    check_stale_proxy,
    check_stale_token,
    download_file,
    get_campaign_id,
    get_campaign_list,
    get_campaign_name,
    get_campaign_stage_id,
    get_campaign_stage_name,
    get_submission_id_for,
    get_task_id_for,
    getconfig,
    job_type_edit,
    job_type_rm,
    launch_campaign_jobs,
    launch_campaign_stage_jobs,
    launch_jobs,
    launch_template_edit,
    login_setup_edit,
    login_setup_rm,
    make_poms_call,
    modify_job_type_recoveries,
    register_poms_campaign,
    show_campaign_stages,
    show_campaigns,
    submission_details,
    tag_campaigns,
    update_campaign_stage,
    update_session_experiment,
    update_session_role,
    update_stage_param_overrides,
    update_submission,
    upload_credential,
    upload_file,
    upload_wf,
    uploaded_files_rm,
)

__all__ = [
    "PomsCallError", "auth_cert", "auth_token", "base_path", "campaign_definition_edit",
    "campaign_edit", "campaign_rm", "campaign_stage_edit", "campaign_stage_submissions",
    "check_stale_proxy", "check_stale_token", "download_file", "get_campaign_id",
    "get_campaign_list", "get_campaign_name", "get_campaign_stage_id",
    "get_campaign_stage_name", "get_submission_id_for", "get_task_id_for", "getconfig",
    "job_type_edit", "job_type_rm", "launch_campaign_jobs", "launch_campaign_stage_jobs",
    "launch_jobs", "launch_template_edit", "login_setup_edit", "login_setup_rm",
    "make_poms_call", "modify_job_type_recoveries", "register_poms_campaign",
    "show_campaign_stages", "show_campaigns", "submission_details", "tag_campaigns",
    "update_campaign_stage", "update_session_experiment", "update_session_role",
    "update_stage_param_overrides", "update_submission", "upload_credential", "upload_file",
    "upload_wf",
    "uploaded_files_rm",
]
