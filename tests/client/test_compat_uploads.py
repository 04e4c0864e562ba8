"""upload_file, download_file and uploaded_files_rm (functions and the upload_file command)
against the uploaded-files API (/api/v1/experiments/<experiment>/uploads, built on the
`uploads` branch, where a proxy or token among the files is the credential launches use):
these pass once that branch is merged."""
from __future__ import annotations

import pytest

import poms_client
from poms_client import scripts
from tests.api.support import bearer_token_file
from tests.client.support import credentials


def test_files_go_up_come_back_and_are_removed(dev_server, tmp_path):
    cfg = tmp_path / "reco.cfg"
    cfg.write_text("#include \"Production/JobConfig/reco/Reco.fcl\"\n")
    assert poms_client.upload_file(str(cfg), experiment="mu2e") is True
    assert poms_client.download_file("reco.cfg", experiment="mu2e") == cfg.read_text()

    assert poms_client.uploaded_files_rm("mu2e", "reco.cfg") == ("Ok.", 200)
    with pytest.raises(poms_client.PomsCallError) as gone:
        poms_client.download_file("reco.cfg", experiment="mu2e")
    assert gone.value.status == 404
    # As the original: removing what is not there is no error.
    assert poms_client.uploaded_files_rm("mu2e", ["reco.cfg", "never.cfg"]) == ("Ok.", 200)


def test_the_upload_file_command_sends_every_file(dev_server, tmp_path, capsys):
    names = []
    for name in ("a.cfg", "b.sh"):
        (tmp_path / name).write_text(f"contents of {name}\n")
        names.append(str(tmp_path / name))
    capsys.readouterr()
    assert scripts.upload_file(["--experiment", "mu2e", *names]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"uploaded: {n} to POMS server" for n in names]
    assert poms_client.download_file("b.sh", experiment="mu2e") == "contents of b.sh\n"
    assert poms_client.download_file("a.cfg", experiment="mu2e") == "contents of a.cfg\n"


def test_a_proxy_or_token_uploaded_as_a_file_is_your_credential(dev_server, tmp_path):
    token = tmp_path / "bt_u1000"
    token.write_bytes(bearer_token_file(30 * 86400))
    assert poms_client.upload_file(str(token), experiment="mu2e") is True
    assert [(c["kind"], c["role"]) for c in credentials()] == [("token", "analysis")]
    assert poms_client.download_file("bt_u1000", experiment="mu2e").strip() == \
        token.read_text().strip()
