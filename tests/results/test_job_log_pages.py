"""A job's log page: search within the whole log, the window around a match, the link from
the matched line to its signature, and who may read it (Flask test client)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.logs import JobAnalysis
from tests.fixtures.app import signed_in
from tests.results.test_results_pages import make_member


@pytest.fixture
def ran(ran_submission):
    return ran_submission(["oom", "noise"])


@pytest.fixture
def alice(launch_app):
    return signed_in(launch_app.test_client(), "alice")


def job_url(submission, analysis) -> str:
    return f"/e/mu2e/results/submission/{submission.id}/job/{analysis.job_id}"


def noise_job(submission) -> JobAnalysis:
    return db.session.scalar(select(JobAnalysis).where(
        JobAnalysis.submission_id == submission.id, JobAnalysis.log_bytes > 10_000))


def test_search_gives_every_matching_line_of_the_whole_log(ran, alice):
    noise = noise_job(ran)
    answer = alice.get(f"{job_url(ran, noise)}/search", query_string={"q": "EVENT: 150"})
    assert answer.status_code == 200
    found = answer.get_json()
    # "event: 150" and "event: 1500".."event: 1509", far before the window around the match.
    assert found["matched"] == 11 and len(found["lines"]) == 11
    assert found["lines"][0] < noise.line - 1000 and not found["truncated"]
    bad = alice.get(f"{job_url(ran, noise)}/search", query_string={"q": " "})
    assert bad.status_code == 400 and "type some text" in bad.get_json()["error"]


def test_the_page_opens_at_the_first_match_marked_and_pages_keep_the_search(ran, alice):
    noise = noise_job(ran)
    first = alice.get(f"{job_url(ran, noise)}/search", query_string={"q": "event: 150"}
                      ).get_json()["lines"][0]
    page = alice.get(job_url(ran, noise), query_string={"q": "event: 150"}).get_data(
        as_text=True)
    current = re.search(rf'<span id="line-{first}" class="line current">(.*?)\n</span>', page)
    assert current and "<mark>event: 150</mark>" in current[1]
    assert "11 lines hold “event: 150”" in page
    later = re.search(r'<a href="([^"]+)"[^>]*>later</a>', page)[1]
    assert re.search(r"q=event(:|%3A)\+150", later)  # paging keeps the search
    # The window alone, as the page's script asks for it when moving to another match.
    fragment = alice.get(job_url(ran, noise), query_string={"q": "event: 150", "line": first},
                         headers={"HX-Request": "true", "HX-Target": "log-window"})
    body = fragment.get_data(as_text=True)
    assert "<h1>" not in body and f'id="line-{first}"' in body and "<mark>" in body


def test_the_matched_line_links_to_the_signature_that_matched_it(ran, alice):
    oom = db.session.scalar(select(JobAnalysis).where(
        JobAnalysis.submission_id == ran.id, JobAnalysis.log_bytes < 10_000))
    page = alice.get(job_url(ran, oom)).get_data(as_text=True)
    line = re.search(rf'<span id="line-{oom.line}" class="line matched".*?\n</span>', page)[0]
    link = re.search(r'<a class="to-signature" href="([^"]+)"[^>]*>signature: Out of memory',
                     line)
    assert link and link[1] == f"/e/mu2e/signatures#signature-{oom.signature_id}"
    signatures = alice.get("/e/mu2e/signatures").get_data(as_text=True)
    assert f'id="signature-{oom.signature_id}"' in signatures
    # The log is dark text on a white page, not the dark console style's light grey.
    assert 'class="log" id="job-log"' in page and 'class="output' not in line


def test_strangers_are_refused_and_other_experiments_do_not_see_the_job(ran, launch_app):
    noise = noise_job(ran)
    make_member("nova", "nick", "superuser")
    nick = signed_in(launch_app.test_client(), "nick")
    for path in (job_url(ran, noise), f"{job_url(ran, noise)}/search?q=event"):
        assert nick.get(path).status_code == 403, path
        assert nick.get(path.replace("/e/mu2e/", "/e/nova/")).status_code == 404, path
        assert launch_app.test_client().get(path).status_code in (302, 401), path
