"""The Uploaded files page in a real browser: several files picked at once, the list swapped
in by htmx without a reload, a download, a removal."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.credentials import makers
from tests.uploads.conftest import files_on_disk

pytestmark = pytest.mark.browser


def sign_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")  # the front page


def settled(page) -> None:
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def test_upload_several_files_then_download_and_remove(people, live_server, page, uploads_dir):
    sign_in(page, live_server.url, "alice")
    page.click("text=Uploaded files")
    page.wait_for_url("**/e/mu2e/uploads")
    page.evaluate("window.notReloaded = true")

    proxy = makers.proxy(timedelta(days=5))
    page.set_input_files("#uploads input[name=files]", files=[
        {"name": "reco.cfg", "mimeType": "text/plain", "buffer": b"[global]\ngroup = mu2e\n"},
        {"name": "reco.sh", "mimeType": "text/x-sh", "buffer": b"#!/bin/sh\necho reco\n"},
        {"name": "x509up_u1000", "mimeType": "application/octet-stream", "buffer": proxy},
    ])
    page.click("#uploads button.primary")
    page.locator("#uploads .flash.ok", has_text="Kept reco.cfg (22 bytes).").wait_for()
    settled(page)
    assert page.evaluate("window.notReloaded") is True  # htmx swapped the list in place
    listed = page.locator("#uploads table").inner_text()
    for words in ("reco.cfg", "reco.sh", "x509up_u1000", "X.509 proxy for analysis work",
                  "launches use this one", "renew soon"):
        assert words in listed, words
    assert len(files_on_disk(uploads_dir)) == 3

    with page.expect_download() as download:
        page.click("#uploads a:has-text('reco.sh')")
    assert download.value.suggested_filename == "reco.sh"
    assert Path(download.value.path()).read_bytes() == b"#!/bin/sh\necho reco\n"

    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm
    page.click("button[aria-label='remove reco.sh']")
    page.locator("#uploads .flash.ok", has_text="Removed reco.sh.").wait_for()
    assert page.locator("#uploads tr", has_text="reco.sh").count() == 0
    assert page.evaluate("window.notReloaded") is True

    # A refused upload says which file and why, and keeps nothing.
    settled(page)
    page.set_input_files("#uploads input[name=files]", files=[
        {"name": "ok.cfg", "mimeType": "text/plain", "buffer": b"x"},
        {"name": "cert.pem", "mimeType": "text/plain",
         "buffer": makers.long_lived_certificate_and_key()},
    ])
    page.click("#uploads button.primary")
    page.locator("#uploads .flash.error", has_text="cert.pem: the first certificate is not a "
                                                   "proxy").wait_for()
    assert page.locator("#uploads tr", has_text="ok.cfg").count() == 0
    assert len(files_on_disk(uploads_dir)) == 2
