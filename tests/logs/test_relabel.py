"""Re-labelling past failures after the signature table changed: the preview says how many
jobs change and from what to what; the apply writes exactly that, in one transaction, with
the hit counts moved and an audit entry; a stale preview is refused."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.auth.members import find_experiment
from app.extensions import db
from app.logs import store
from app.logs.joblog import fetched_log_path
from app.logs.relabel import StaleRelabel, apply_relabel, fingerprint, plan_relabel
from app.models import AuditEntry
from app.models.logs import FailureSignature, JobAnalysis
from tests.fixtures.app import csrf_token, signed_in
from tests.logs.logfiles import FAILURES, art_events, wrapper_end, wrapper_start
from tests.logs.stored import stored_jobs

PAGE = "/e/mu2e/signatures"
GEOMETRY = (wrapper_start() + art_events(1, 5)
            + "Mu2eG4: cannot open geometry file Offline/Mu2eG4/geom/geom_common.txt\n"
            + wrapper_end(1))


@pytest.fixture
def jobs(app, tmp_path):
    made = stored_jobs(app, tmp_path / "joblogs", [(GEOMETRY, 1), (GEOMETRY, 1),
                                                   (FAILURES["disk-full"][0], 1)])
    store.ensure_starting_signatures(find_experiment("mu2e"))
    db.session.commit()
    return made


@pytest.fixture
def producer(client, member):
    member("mu2e", "pat", "production")
    return signed_in(client, "pat")


def labels(jobs) -> list[str | None]:
    db.session.expire_all()
    return [db.session.get(JobAnalysis, j.id).signature for j in jobs]


def hits(name: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(FailureSignature.hits).where(FailureSignature.name == name))


def post(client, url, data=None):
    token = csrf_token(client, PAGE)
    return client.post(url, data={**(data or {}), "csrf_token": token},
                       headers={"HX-Request": "true"})


def test_a_new_signature_relabels_the_past_failures_it_names(app, jobs):
    mu2e = find_experiment("mu2e")
    assert labels(jobs) == [None, None, "Disk full"]
    store.create_signature(mu2e, None, {"name": "Geometry missing", "category": "software",
                                        "pattern": r"cannot open geometry file"})
    db.session.commit()
    plan = plan_relabel(mu2e, app.config)
    assert (plan.considered, plan.examined, plan.missing_logs) == (3, 3, 0)
    assert plan.summary() == [("(none)", "Geometry missing", 2)]
    assert labels(jobs) == [None, None, "Disk full"]  # a preview writes nothing

    done = apply_relabel(mu2e, None, app.config, plan.fingerprint)
    db.session.commit()
    assert len(done.changes) == 2
    assert labels(jobs) == ["Geometry missing", "Geometry missing", "Disk full"]
    row = db.session.get(JobAnalysis, jobs[0].id)
    assert GEOMETRY.splitlines()[row.line - 1].startswith("Mu2eG4: cannot open geometry")
    assert row.category == "software" and row.data["signature"]["name"] == "Geometry missing"
    assert hits("Geometry missing") == 2 and hits("Disk full") == 1
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "past failures re-labelled"))
    assert entry.before == {"signatures": {"(none)": 2}}
    assert entry.after["signatures"] == {"Geometry missing": 2}
    assert sorted(entry.after["jobs"]) == sorted(j.id for j in jobs[:2])
    assert plan_relabel(mu2e, app.config).changes == []  # nothing left to change


def test_the_results_pages_show_a_relabelling_at_once(app, jobs, producer):
    """The results pages keep their aggregates until a job analysis changes: a
    re-labelling (an UPDATE of rows already counted) is on the next view."""
    mu2e = find_experiment("mu2e")
    submission, stage = jobs[0].submission_id, db.session.get(JobAnalysis, jobs[0].id)
    pages = [f"/e/mu2e/results/submission/{submission}",
             f"/e/mu2e/results/submission/{submission}/summary",
             f"/e/mu2e/results/stage/{stage.campaign_stage_id}"]
    def sentence(url: str) -> str:
        page = producer.get(url).get_data(as_text=True)
        return re.search(r'id="summary-sentence">([^<]*)<', page).group(1)

    before = [sentence(url) for url in pages * 2]  # the second view is the kept answer
    assert before[:3] == before[3:] and "software" not in before[0]
    store.create_signature(mu2e, None, {"name": "Geometry missing", "category": "software",
                                        "pattern": r"cannot open geometry file"})
    db.session.commit()
    apply_relabel(mu2e, None, app.config, plan_relabel(mu2e, app.config).fingerprint)
    db.session.commit()
    for url in pages:
        assert "2 software" in sentence(url), url


def test_a_narrowed_signature_unnames_jobs_and_its_hits_go_down(app, jobs):
    mu2e = find_experiment("mu2e")
    disk = db.session.scalar(select(FailureSignature).where(FailureSignature.name == "Disk full"))
    store.update_signature(disk, None, {"pattern": "Disk quota exceeded"})
    db.session.commit()
    plan = plan_relabel(mu2e, app.config)
    assert plan.summary() == [("Disk full", "(none)", 1)]
    apply_relabel(mu2e, None, app.config, plan.fingerprint)
    db.session.commit()
    assert labels(jobs) == [None, None, None] and hits("Disk full") == 0


def test_a_preview_made_before_another_change_is_refused_and_writes_nothing(app, jobs):
    mu2e = find_experiment("mu2e")
    store.create_signature(mu2e, None, {"name": "Geometry missing", "category": "software",
                                        "pattern": r"cannot open geometry file"})
    db.session.commit()
    seen = fingerprint(mu2e)
    store.create_signature(mu2e, None, {"name": "Geometry again", "category": "site",
                                        "pattern": r"geometry"})
    db.session.commit()
    with pytest.raises(StaleRelabel, match="preview again"):
        apply_relabel(mu2e, None, app.config, seen)
    db.session.rollback()
    assert labels(jobs) == [None, None, "Disk full"]


def test_from_the_page_add_preview_apply_and_only_editors_may(app, jobs, producer, member):
    added = post(producer, PAGE, {"name": "Geometry missing", "category": "software",
                                  "pattern": "cannot open geometry file"})
    assert added.headers["HX-Trigger"] == "signatures-changed"
    offer = producer.get(f"{PAGE}/relabel?changed=1", headers={"HX-Request": "true"})
    assert "The table changed" in offer.get_data(as_text=True)
    preview = post(producer, f"{PAGE}/relabel/preview").get_data(as_text=True)
    assert "2 failed jobs would be named differently" in preview
    assert re.search(r"<td>\(none\)</td><td>Geometry missing</td><td class=\"n\">2</td>",
                     preview)
    assert labels(jobs) == [None, None, "Disk full"]
    token = re.search(r'name="fingerprint" value="([^"]+)"', preview)[1]

    member("mu2e", "ann", "analysis")
    analyst = signed_in(app.test_client(), "ann")
    for url in (f"{PAGE}/relabel/preview", f"{PAGE}/relabel", f"{PAGE}/try"):
        assert post(analyst, url, {"fingerprint": token, "pattern": "x"}).status_code == 403
    assert analyst.get(f"{PAGE}/relabel").status_code == 403

    applied = post(producer, f"{PAGE}/relabel", {"fingerprint": token}).get_data(as_text=True)
    assert "Re-labelled 2 failed jobs" in applied
    assert labels(jobs) == ["Geometry missing", "Geometry missing", "Disk full"]
    again = post(producer, f"{PAGE}/relabel", {"fingerprint": token}).get_data(as_text=True)
    assert "Re-labelled 0 failed jobs" in again  # same table: nothing more to change


def test_a_job_whose_log_is_gone_is_named_by_its_exit_code_as_before(app, tmp_path):
    [job] = stored_jobs(app, tmp_path / "joblogs", [(wrapper_start() + wrapper_end(137), 137)])
    assert labels([job]) == ["Out of memory"]
    fetched_log_path(app.config, job.batch_job_id).unlink()
    plan = plan_relabel(find_experiment("mu2e"), app.config)
    assert (plan.examined, plan.missing_logs, plan.changes) == (1, 1, [])
