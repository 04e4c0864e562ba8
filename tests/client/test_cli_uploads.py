"""`poms upload-file`, `uploaded-files`, `download-file`, `remove-file` against a live server
(real HTTP, dev mode)."""
from __future__ import annotations

import stat

from tests.api.support import bearer_token_file


def test_upload_list_download_remove(poms, dev_server, tmp_path):
    cfg = tmp_path / "reco.cfg"
    cfg.write_text("[global]\ngroup = mu2e\n")
    script = tmp_path / "reco.sh"
    script.write_text("#!/bin/sh\necho reco\n")
    token = tmp_path / "bt_u1000"
    token.write_bytes(bearer_token_file(3 * 86400))

    run = poms("upload-file", cfg, script, token)
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == "uploaded reco.cfg (22 bytes)"
    assert lines[1] == "uploaded reco.sh (20 bytes)"
    assert lines[2].startswith("uploaded bt_u1000 (") and \
        ": bearer token for analysis work, expires " in lines[2]
    assert lines[3].startswith("warning: bt_u1000: the bearer token expires in under 7 days")
    assert lines[4].startswith("you use ") and lines[4].endswith("of your 10.0 MiB")

    cfg.write_text("[global]\ngroup = mu2e\nnjobs = 2\n")
    assert poms("upload-file", cfg).out.startswith("replaced reco.cfg (32 bytes)")

    listed = poms("uploaded-files")
    assert listed.code == 0
    rows = listed.out.splitlines()
    assert rows[0].split() == ["name", "size", "uploaded", "credential"]
    assert rows[2].startswith("bt_u1000") and rows[2].endswith("RENEW in use")
    assert rows[3].startswith("reco.cfg") and "32 bytes" in rows[3]
    as_json = poms("--json", "uploaded-files").json
    assert as_json["total"] == 3 and as_json["quota"] == 10 * 1024 * 1024
    assert [f["name"] for f in as_json["files"]] == ["bt_u1000", "reco.cfg", "reco.sh"]
    # bob sees only his own (none).
    assert poms("--user", "bob", "--json", "uploaded-files").json["total"] == 0

    out = tmp_path / "out" / "reco.cfg"
    out.parent.mkdir()
    got = poms("download-file", "reco.cfg", "-o", out)
    assert got.code == 0 and got.out.strip() == f"wrote {out} (32 bytes)"
    assert out.read_text() == cfg.read_text() and stat.S_IMODE(out.stat().st_mode) == 0o600
    assert poms("download-file", "reco.sh").out == "#!/bin/sh\necho reco\n"
    missing = poms("--user", "bob", "download-file", "reco.cfg")
    assert missing.code == 1 and "you have no uploaded file 'reco.cfg' in mu2e" in missing.err
    assert poms("--json", "download-file", "reco.cfg").code == 2  # JSON needs -o

    removed = poms("remove-file", "reco.sh", "bt_u1000")
    assert removed.code == 0 and removed.out.splitlines() == ["removed reco.sh",
                                                              "removed bt_u1000"]
    assert poms("--json", "uploaded-files").json["total"] == 1
    assert poms("remove-file", "reco.sh").code == 1


def test_refusals_name_the_files(poms, dev_server, tmp_path):
    hidden = tmp_path / ".hidden"
    hidden.write_text("x")
    ok = tmp_path / "ok.cfg"
    ok.write_text("x")
    expired = tmp_path / "bt_old"
    expired.write_bytes(bearer_token_file(-60))
    run = poms("upload-file", ok, hidden, expired)
    assert run.code == 1
    first, second = run.err.splitlines()
    assert first == ("poms: nothing was kept: .hidden: the name starts with a dot: hidden "
                     "files are not kept (and 1 more: see problems) [files]")
    assert second.startswith("  bt_old: this bearer token expired on ")
    assert poms("--json", "uploaded-files").json["total"] == 0

    nothing = poms("upload-file", tmp_path / "nope.cfg")
    assert nothing.code == 1 and "nope.cfg: No such file or directory" in nothing.err

    as_json = poms("--json", "upload-file", hidden)
    assert as_json.code == 1 and as_json.json["problems"][0]["file"] == ".hidden"


def test_a_production_credential_by_name_or_role(poms, dev_server, tmp_path):
    token = tmp_path / "vt_mu2e_production_pat"
    token.write_bytes(bearer_token_file(30 * 86400))
    run = poms("--user", "pat", "upload-file", token)
    assert run.code == 0 and "bearer token for production work" in run.out
    refused = poms("upload-file", token)  # alice: analysis
    assert refused.code == 1 and "may not keep a credential for production work" in refused.err
    plain = tmp_path / "bt"
    plain.write_bytes(bearer_token_file(30 * 86400))
    assert "for production work" in poms("--user", "pat", "upload-file", plain,
                                         "--role", "production").out
