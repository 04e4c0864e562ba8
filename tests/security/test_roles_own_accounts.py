"""Issue 17, high: a campaign launches only as an account its role owns.

An analysis campaign named the experiment's production login setup (and its production job
type); with the ssh launcher its launch ran as the production account. Login setups now
carry the role that may launch with them, checked at upload, at every edit and at launch;
the ssh launcher also keeps each role on its own launch hosts, and host or account text
that ssh would read as an option is refused everywhere.
"""
from __future__ import annotations

import re

import pytest

from app.campaigns import store
from app.campaigns.spec import InvalidCampaign
from app.extensions import db
from app.launching import service
from app.launching.command import LaunchError
from app.launching.launchers import SshLauncher
from app.models import LoginSetup, Submission
from tests.security.conftest import FRONT_END, campaign_ini, launch, upload

PRODUCTION_DEFINITIONS = """
[login_setup mu2epro_login]
host = mu2egpvm01.fnal.gov
account = mu2epro
setup = echo "production setup as $(id -un)"

[job_type mu2e_production_reco]
launch_script = echo "reco for tag %(tag)s as $(id -un)"
parameters = []
"""
INJECTION = 'x\\"; echo INJECTED-AS-$(id -un); echo \\"'


@pytest.fixture
def production(isolated_app, people):
    """pat's production campaign: the experiment's production login setup and job type."""
    text = campaign_ini("mu2e_production", role="production", login_setup="mu2epro_login",
                        job_type="mu2e_production_reco", definitions=PRODUCTION_DEFINITIONS)
    text = text.replace("[campaign_defaults]",
                        'campaign_keywords = {"tag": "prod"}\n\n[campaign_defaults]')
    return upload(text, people["pat"])


def analysis_text(name: str = "alice_attack", login_setup: str = "mu2epro_login",
                  definitions: str = "", keywords: str = '{"tag": "mine"}') -> str:
    text = campaign_ini(name, login_setup=login_setup, job_type="mu2e_production_reco",
                        definitions=definitions)
    return text.replace("[campaign_defaults]",
                        f"campaign_keywords = {keywords}\n\n[campaign_defaults]")


def api(isolated_app, method: str, path: str, user: str, **kwargs):
    client = isolated_app.test_client()
    return client.open(f"/api/v1{path}", method=method, headers={"X-Remote-User": user},
                       environ_base={"REMOTE_ADDR": FRONT_END}, **kwargs)


def test_the_production_login_setup_is_production_s(production):
    setup = db.session.scalar(db.select(LoginSetup).where(LoginSetup.name == "mu2epro_login"))
    assert setup.role == "production"


def test_an_analysis_upload_naming_the_production_login_setup_is_refused(isolated_app,
                                                                        production, people):
    with pytest.raises(InvalidCampaign) as refused:
        upload(analysis_text(), people["alice"])
    reason = str(refused.value)
    assert "stage 'probe'" in reason and "'mu2epro_login'" in reason
    assert "production login setup" in reason and "analysis campaign" in reason
    db.session.rollback()
    assert store.find_campaign(production.experiment, "alice_attack") is None
    # The API answers 422 with the same problem, and stores nothing.
    answer = api(isolated_app, "POST", "/experiments/mu2e/campaigns", "alice",
                 data=analysis_text().encode(), content_type="text/plain")
    assert answer.status_code == 422, answer.get_json()
    problems = answer.get_json()["problems"]
    assert any(p["section"] == "campaign_stage probe" and p["key"] == "login_setup"
               and "production login setup" in p["reason"] for p in problems), problems
    assert store.find_campaign(production.experiment, "alice_attack") is None


def test_an_edit_to_the_production_login_setup_is_refused(isolated_app, production, people):
    own = ('[login_setup alice_login]\nhost = localhost\naccount = alice\nsetup = true\n')
    campaign = upload(analysis_text(login_setup="alice_login", definitions=own),
                      people["alice"])
    stage = campaign.stages[0]
    # The API's stage edit
    answer = api(isolated_app, "PATCH", "/experiments/mu2e/campaigns/alice_attack/stages/probe",
                 "alice", json={"fields": {"login_setup": "mu2epro_login"}})
    assert answer.status_code == 422, answer.get_json()
    assert "may not use login setup 'mu2epro_login'" in answer.get_json()["error"]
    # The stage page's inline edit
    client = isolated_app.test_client()
    base = {"REMOTE_ADDR": FRONT_END}
    headers = {"X-Remote-User": "alice"}
    page = f"/e/mu2e/stage/{stage.id}/field/login_setup"
    html = client.get(page + "?edit=1", headers=headers, environ_base=base).get_data(True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    answer = client.post(page, data={"value": "mu2epro_login", "csrf_token": token},
                         headers=headers, environ_base=base)
    assert "production login setup" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(stage), stage.id).login_setup.name == "alice_login"


def test_a_stored_analysis_stage_on_the_production_login_setup_does_not_launch(
        isolated_app, production, people):
    """Definitions stored before the rule (or by hand): refused again at launch, before
    anything runs, naming the stage, the login setup and the role."""
    own = ('[login_setup alice_login]\nhost = localhost\naccount = alice\nsetup = true\n')
    campaign = upload(analysis_text(login_setup="alice_login", definitions=own),
                      people["alice"])
    stage = campaign.stages[0]
    stage.login_setup = db.session.scalar(
        db.select(LoginSetup).where(LoginSetup.name == "mu2epro_login"))
    db.session.commit()
    with pytest.raises(LaunchError, match="stage 'probe' may not use login setup "
                                          "'mu2epro_login': it is a production"):
        service.preview(stage, people["alice"], test=False, config=isolated_app.config)
    # A launch asked for before the change runs into the same check in the worker.
    stage.login_setup = db.session.scalar(
        db.select(LoginSetup).where(LoginSetup.name == "alice_login"))
    db.session.commit()
    asked = service.request_launch(stage, people["alice"], test=False, origin="test",
                                   config=isolated_app.config)
    db.session.commit()
    stage.login_setup = db.session.scalar(
        db.select(LoginSetup).where(LoginSetup.name == "mu2epro_login"))
    db.session.commit()
    from tests.fixtures.launching import work
    from workers.queues import enqueue_launch

    enqueue_launch(isolated_app.config["POMS_REDIS_URL"], asked.id)
    work(isolated_app)
    done = db.session.get(Submission, asked.id)
    assert done.state == "LaunchFailed"
    assert "may not use login setup 'mu2epro_login'" in done.launch_error
    assert not done.launch_started_at, "nothing ran"


def test_a_lower_role_s_values_never_reach_a_higher_account(isolated_app, production, people,
                                                            launch_accounts):
    """The production author's job type puts %(tag)s inside double quotes. An analysis
    campaign using that job type (allowed: job types are shared) with a tag that breaks
    out of the quotes runs its own command, but only as the analysis account: it can use
    only analysis login setups, and launches as the analysis launch account."""
    own = ('[login_setup alice_login]\nhost = localhost\naccount = alice\nsetup = true\n')
    campaign = upload(analysis_text(login_setup="alice_login", definitions=own,
                                    keywords=f'{{"tag": "{INJECTION}"}}'), people["alice"])
    submission = launch(isolated_app, campaign.stages[0], people["alice"])
    out = open(submission.launch_output).read()
    assert f"as {launch_accounts.analysis}" in out, out
    assert launch_accounts.production not in out
    assert submission.launch_account == launch_accounts.analysis
    # pat's own launch of the same job type runs as the production account.
    mine = launch(isolated_app, production.stages[0], people["pat"])
    assert f"reco for tag prod as {launch_accounts.production}" in open(
        mine.launch_output).read()


def ssh_config(isolated_app, hosts: str):
    isolated_app.config.update(POMS_LAUNCHER="ssh",
                               POMS_ANALYSIS_LAUNCH_HOSTS=[h for h in hosts.split(",") if h])


def test_each_role_launches_on_its_own_hosts(isolated_app, production, people):
    own = ('[login_setup alice_login]\nhost = mu2egpvm01.fnal.gov\naccount = alice\n'
           'setup = true\n')
    campaign = upload(analysis_text(login_setup="alice_login", definitions=own),
                      people["alice"])
    ssh_config(isolated_app, "")
    with pytest.raises(LaunchError, match="none is configured"):
        service.preview(campaign.stages[0], people["alice"], test=False,
                        config=isolated_app.config)
    ssh_config(isolated_app, "mu2egpvm04.fnal.gov")
    with pytest.raises(LaunchError, match="mu2egpvm01.fnal.gov is not an analysis launch host"):
        service.preview(campaign.stages[0], people["alice"], test=False,
                        config=isolated_app.config)
    ssh_config(isolated_app, "mu2egpvm01.fnal.gov,analysis01.fnal.gov")
    shown = service.preview(campaign.stages[0], people["alice"], test=False,
                            config=isolated_app.config)
    assert shown.where == "alice@mu2egpvm01.fnal.gov"
    # Production launches on the experiment's nodes, not on a shared analysis host.
    production.stages[0].login_setup.host = "analysis01.fnal.gov"
    db.session.commit()
    with pytest.raises(LaunchError, match="analysis launch host, not a mu2e node"):
        service.preview(production.stages[0], people["pat"], test=False,
                        config=isolated_app.config)
    production.stages[0].login_setup.host = "mu2egpvm01.fnal.gov"
    db.session.commit()
    assert service.preview(production.stages[0], people["pat"], test=False,
                           config=isolated_app.config).where == "mu2epro@mu2egpvm01.fnal.gov"


def test_the_original_s_placeholders_in_host_and_account_are_expanded(isolated_app, people):
    setup = ('[login_setup pro_login]\nhost = %(experiment)sgpvm01.fnal.gov\n'
             'account = %(experiment)spro\nsetup = true\n'
             '[job_type pro_jobs]\nlaunch_script = true\nparameters = []\n')
    campaign = upload(campaign_ini("pro", role="production", login_setup="pro_login",
                                   job_type="pro_jobs", definitions=setup), people["pat"])
    ssh_config(isolated_app, "")
    shown = service.preview(campaign.stages[0], people["pat"], test=False,
                            config=isolated_app.config)
    assert shown.where == "mu2epro@mu2egpvm01.fnal.gov"


@pytest.mark.parametrize("key, value", [("host", "-oProxyCommand=touch /tmp/pwned"),
                                        ("account", "-oProxyCommand=id"),
                                        ("host", "-lroot")])
def test_a_host_or_account_ssh_would_read_as_an_option_is_refused(isolated_app, people, key,
                                                                   value):
    values = {"host": "localhost", "account": "alice", key: value}
    bad = (f"[login_setup alice_login]\nhost = {values['host']}\n"
           f"account = {values['account']}\nsetup = true\n"
           "[job_type j]\nlaunch_script = true\nparameters = []\n")
    with pytest.raises(InvalidCampaign) as refused:
        upload(campaign_ini("opt", login_setup="alice_login", job_type="j", definitions=bad),
               people["alice"])
    problem = refused.value.problems[0]
    assert (problem.section, problem.key) == ("login_setup alice_login", key)
    assert "starts with '-'" in problem.reason
    db.session.rollback()


def test_the_login_setup_page_refuses_an_option_as_host(isolated_app, people):
    good = ("[login_setup alice_login]\nhost = localhost\naccount = alice\nsetup = true\n"
            "[job_type j]\nlaunch_script = true\nparameters = []\n")
    campaign = upload(campaign_ini("opt", login_setup="alice_login", job_type="j",
                                   definitions=good), people["alice"])
    setup = campaign.stages[0].login_setup
    client = isolated_app.test_client()
    base, headers = {"REMOTE_ADDR": FRONT_END}, {"X-Remote-User": "alice"}
    page = f"/e/mu2e/login_setup/{setup.id}/field/host"
    html = client.get(page + "?edit=1", headers=headers, environ_base=base).get_data(True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    answer = client.post(page, data={"value": "-oProxyCommand=id", "csrf_token": token},
                         headers=headers, environ_base=base).get_data(as_text=True)
    assert "starts with &#39;-&#39;" in answer or "starts with '-'" in answer
    db.session.expire_all()
    assert db.session.get(LoginSetup, setup.id).host == "localhost"


def test_a_stored_option_as_host_does_not_launch_and_ssh_never_takes_one(isolated_app, people):
    good = ("[login_setup alice_login]\nhost = localhost\naccount = alice\nsetup = true\n"
            "[job_type j]\nlaunch_script = true\nparameters = []\n")
    campaign = upload(campaign_ini("opt", login_setup="alice_login", job_type="j",
                                   definitions=good), people["alice"])
    campaign.stages[0].login_setup.host = "-oProxyCommand=id"
    db.session.commit()
    ssh_config(isolated_app, "localhost")
    with pytest.raises(LaunchError, match="is not a host name"):
        service.preview(campaign.stages[0], people["alice"], test=False,
                        config=isolated_app.config)
    argv = SshLauncher("-p 22").argv("alice", "localhost")
    assert argv[argv.index("--") + 1:] == ["alice@localhost", "bash -s"]
