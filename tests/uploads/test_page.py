"""The Uploaded files page through the test client: several files at once, replacing,
refusals that name the file, the quota, download, remove, CSRF and who may see what."""
from __future__ import annotations

import io

import pytest

from app.auth import members
from app.extensions import db
from app.models import AuditEntry
from app.uploads import store
from tests.credentials import makers
from tests.fixtures.app import csrf_token, signed_in
from tests.uploads.conftest import files_on_disk, save

PAGE = "/e/mu2e/uploads"


@pytest.fixture
def alice(people):
    return signed_in(people.test_client(), "alice")


def post(client, files, htmx=True, token=None, **fields):
    token = token if token is not None else csrf_token(client, PAGE)
    data = {"csrf_token": token, **fields,
            "files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(PAGE, data=data, content_type="multipart/form-data",
                       headers={"HX-Request": "true"} if htmx else {})


def test_several_files_at_once_then_the_list_shows_them(alice, uploads_dir):
    page = alice.get(PAGE).get_data(as_text=True)
    assert "You have not uploaded a file for mu2e." in page
    assert 'name="files" multiple' in page and "You use 0 bytes of your 10.0 MiB" in page

    response = post(alice, [("reco.cfg", b"[global]\n" * 100), ("reco.sh", b"echo hi\n")])
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Kept reco.cfg (900 bytes). Kept reco.sh (8 bytes)." in html
    assert "You use 908 bytes of your 10.0 MiB" in html
    assert html.count("<tr") == 3  # the header and two files
    assert len(files_on_disk(uploads_dir)) == 2

    again = post(alice, [("reco.sh", b"echo hello\n")]).get_data(as_text=True)
    assert "Replaced reco.sh (11 bytes)." in again


def test_a_proxy_shows_what_it_is_and_when_it_expires(alice):
    from datetime import timedelta

    html = post(alice, [("x509up_u1000", makers.proxy(timedelta(days=3)))]).get_data(
        as_text=True)
    assert "Kept x509up_u1000 (" in html
    assert "your X.509 proxy for analysis work, expires " in html
    assert "under 7 days: renew it soon" in html
    assert "X.509 proxy for analysis work<br><code>/DC=org/DC=cilogon/" in html
    assert "launches use this one" in html and "renew soon" in html


def test_refusals_name_each_file_and_keep_nothing(alice, uploads_dir):
    html = post(alice, [("good.cfg", b"x"), (".hidden", b"x"), ("<i>x\t", b""),
                        ("x509up", makers.long_lived_certificate_and_key())]).get_data(
        as_text=True)
    assert "Nothing was kept:" in html
    assert "<li>.hidden: the name starts with a dot: hidden files are not kept.</li>" in html
    assert "x509up: the first certificate is not a proxy" in html
    assert "<i>x" not in html and "&lt;i&gt;x\t: the name has a character that cannot" in html
    assert files_on_disk(uploads_dir) == []
    assert "You have not uploaded a file" in html


def test_a_browser_sends_only_base_names_but_a_script_may_not_send_a_path(alice, uploads_dir):
    html = post(alice, [("../../etc/cron.d/evil", b"* * * * * root sh")]).get_data(as_text=True)
    assert "../../etc/cron.d/evil: the name has a path separator" in html
    assert files_on_disk(uploads_dir) == []


def test_over_quota_nothing_is_written_and_the_message_says_how_much(people, uploads_dir):
    people.config["POMS_UPLOADS_QUOTA_BYTES"] = 1000
    alice = signed_in(people.test_client(), "alice")
    post(alice, [("a.cfg", b"x" * 600)])
    html = post(alice, [("b.cfg", b"x" * 300), ("c.cfg", b"x" * 300)]).get_data(as_text=True)
    assert ("Nothing was kept: these files would bring your uploaded files in mu2e to 1.2 KiB,"
            " over your quota of 1000 bytes (you use 600 bytes now)") in html
    assert len(files_on_disk(uploads_dir)) == 1


def test_an_upload_larger_than_the_whole_quota_is_refused_before_it_is_read(people):
    people.config["POMS_UPLOADS_QUOTA_BYTES"] = 1000
    alice = signed_in(people.test_client(), "alice")
    response = post(alice, [("big.tar", b"x" * (2 * 1024 * 1024))])
    assert response.status_code == 413
    assert "larger than your whole quota (1000 bytes)" in response.get_data(as_text=True)
    # Up to the quota, even beyond the INI upload limit, is fine.
    people.config["POMS_UPLOADS_QUOTA_BYTES"] = 4 * 1024 * 1024
    assert people.config["POMS_MAX_UPLOAD_BYTES"] < 2 * 1024 * 1024
    assert "Kept big.tar (2.0 MiB)" in post(
        alice, [("big.tar", b"x" * (2 * 1024 * 1024))]).get_data(as_text=True)


def test_without_javascript_the_page_redirects_with_the_message(alice):
    response = post(alice, [("reco.cfg", b"x")], htmx=False)
    assert response.status_code == 302 and response.headers["Location"].endswith(PAGE)
    assert "Kept reco.cfg (1 byte)." in alice.get(PAGE).get_data(as_text=True)


def test_no_file_picked(alice):
    html = post(alice, []).get_data(as_text=True)
    assert "Nothing was kept:" in html and "no file was sent: pick one or more files" in html


def test_forms_need_the_csrf_token(people, alice, uploads_dir):
    assert post(alice, [("reco.cfg", b"x")], token="forged").status_code == 400
    save(people, "alice", [("a.cfg", b"x")])
    response = alice.post(f"{PAGE}/a.cfg/remove", data={})
    assert response.status_code == 400
    assert len(files_on_disk(uploads_dir)) == 1


def test_download_is_the_file_as_uploaded_and_only_ones_own(people, alice):
    post(alice, [("reco.cfg", b"[global]\ngroup = mu2e\n")])
    response = alice.get(f"{PAGE}/reco.cfg")
    assert response.status_code == 200 and response.data == b"[global]\ngroup = mu2e\n"
    assert response.headers["Content-Disposition"] == "attachment; filename=reco.cfg"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "application/octet-stream"

    bob = signed_in(people.test_client(), "bob")
    assert bob.get(f"{PAGE}/reco.cfg").status_code == 404
    # Not even a superuser of the experiment reads someone's files (a proxy is a person's
    # identity); a superuser of another experiment is not let in at all.
    members.ensure_member(members.find_experiment("mu2e"), members.find_experimenter("pat"),
                          "superuser").role = "superuser"
    db.session.commit()
    pat = signed_in(people.test_client(), "pat")
    assert pat.get(f"{PAGE}/reco.cfg").status_code == 404
    zed = signed_in(people.test_client(), "zed")
    assert zed.get(f"{PAGE}/reco.cfg").status_code == 403
    assert zed.get(PAGE).status_code == 403


def test_a_changed_file_is_not_served(alice, uploads_dir):
    post(alice, [("reco.cfg", b"original")])
    [path] = files_on_disk(uploads_dir)
    path.write_bytes(b"swapped behind POMS's back")
    response = alice.get(f"{PAGE}/reco.cfg")
    assert response.status_code == 409
    assert "reco.cfg is missing on disk or changed since it was uploaded" in response.get_data(
        as_text=True)


def test_remove_only_ones_own(people, alice, uploads_dir):
    save(people, "bob", [("reco.cfg", b"bob's")])
    post(alice, [("reco.cfg", b"alice's"), ("x y.sh", b"echo")])
    token = csrf_token(alice, PAGE)
    response = alice.post(f"{PAGE}/x%20y.sh/remove", data={"csrf_token": token},
                          headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "Removed x y.sh." in html and "x y.sh</code>" not in html
    assert alice.post(f"{PAGE}/nothing.cfg/remove", data={"csrf_token": token}).status_code == 404
    alice.post(f"{PAGE}/reco.cfg/remove", data={"csrf_token": token})
    bobs = store.find_upload(members.find_experiment("mu2e"), members.find_experimenter("bob"),
                             "reco.cfg")
    assert bobs is not None and len(files_on_disk(uploads_dir)) == 1
    assert [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.id)][-2:] == [
        "file removed", "file removed"]


def test_the_production_role_choice_is_offered_only_to_who_may_use_it(people, alice):
    assert 'production work</option>' not in alice.get(PAGE).get_data(as_text=True)
    pat = signed_in(people.test_client(), "pat")
    assert '<option value="production">production work</option>' in pat.get(PAGE).get_data(
        as_text=True)
    html = post(pat, [("bt", makers.token().encode())], role="production").get_data(as_text=True)
    assert "your bearer token for production work" in html
    refused = post(alice, [("bt", makers.token().encode())], role="production")
    assert "Nothing was kept: bt: acting as analysis, you may not keep a credential for " \
           "production work." in refused.get_data(as_text=True)


def test_the_credentials_page_address_leads_here(people, alice):
    response = alice.get("/e/mu2e/credentials")
    assert response.status_code == 301 and response.headers["Location"].endswith(PAGE)
    zed = signed_in(people.test_client(), "zed")
    assert zed.get("/e/mu2e/credentials").status_code == 403
    assert "Uploaded files" in alice.get(PAGE).get_data(as_text=True)
