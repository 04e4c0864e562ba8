"""The original client's functions and commands sign in with a Kerberos ticket from the test
KDC, as the `poms` client does: nothing else (no user name, no token, no cookie)."""
from __future__ import annotations

import pytest

import poms_client
from poms_client import scripts
from tests.api.support import TUTORIAL
from tests.client.conftest import holding_ticket

pytestmark = pytest.mark.kerberos


def test_the_original_functions_and_commands_use_the_ticket(kerberos_server, client_env, kdc,
                                                           capsys):
    with pytest.raises(poms_client.PomsCallError) as nobody:
        poms_client.show_campaigns()
    assert nobody.value.status == 401 and "run kinit" in str(nobody.value)

    holding_ticket(client_env, kdc, "alice")
    ok, data = poms_client.upload_wf(str(TUTORIAL), role="analysis")
    assert ok and data["status"] == "201 Created"
    stage = poms_client.get_campaign_stage_id("mu2e", "srsoleti_tutorial", "reco")
    sid = poms_client.get_submission_id_for(stage, command_executed="./run.sh")
    assert poms_client.update_submission(sid, status="Running", experiment="mu2e") == (
        True, "Ok.")
    ok, details = poms_client.submission_details("mu2e", "analysis", sid)
    assert details["submission"]["creator"] == "alice"
    assert [h["by"] for h in details["history"]] == ["alice", "alice"]

    capsys.readouterr()
    assert scripts.upload_wf(["--experiment", "mu2e", str(TUTORIAL)]) == 0
    assert capsys.readouterr().out == "OK\n"  # the same file again: nothing changes

    holding_ticket(client_env, kdc, "bob")
    with pytest.raises(poms_client.PomsCallError) as refused:
        poms_client.update_submission(sid, status="Completed", experiment="mu2e")
    assert refused.value.status == 403
    assert f"acting as analysis, you may not update submission {sid}" in str(refused.value)
    assert scripts.get_submission_id_for(["--campaign", str(stage)]) == 1
