"""On the embedded default (the local engine), what each job used is measured, not read
from its log: a job that holds 60 MB and burns CPU shows it on the results page's plots."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import Job
from app.models.logs import JobAnalysis
from app.results.aggregate import results_for
from tests.fixtures.app import signed_in


def test_a_real_jobs_cpu_wall_and_peak_memory_reach_the_efficiency_and_memory_plots(
        launch_app, ran_submission):
    submission = ran_submission(["alloc"])
    job = db.session.scalar(select(Job).where(Job.submission_id == submission.id))
    assert job.state == "Completed"
    assert job.peak_memory_mb >= 60, job.peak_memory_mb
    assert 0.4 <= job.cpu_time_s <= job.wall_time_s + 0.05
    assert job.wall_time_s < 60
    analysis = db.session.get(JobAnalysis, job.id)
    assert (analysis.cpu_time_s, analysis.wall_time_s, analysis.peak_memory_mb) == (
        job.cpu_time_s, job.wall_time_s, job.peak_memory_mb)
    assert 0 < analysis.efficiency <= 1.05

    results = results_for(submission_ids=[submission.id])
    assert sum(results.histogram) == 1
    assert results.histogram[min(9, int(analysis.efficiency * 10))] == 1
    [(_requested, used, jobs)] = results.memory_points
    assert jobs == 1 and used >= 55

    client = signed_in(launch_app.test_client(), "alice")
    page = client.get(f"/e/mu2e/results/submission/{submission.id}")
    assert page.status_code == 200
    memory_svg = client.get(
        f"/e/mu2e/results/submission/{submission.id}/plot/memory.svg").get_data(as_text=True)
    [used_mb] = re.findall(r'data-used-mb="(\d+)" data-jobs="1"', memory_svg)
    assert int(used_mb) >= 55
    # The API says the same for the job, as measured.
    [listed] = client.get(f"/api/v1/experiments/mu2e/submissions/{submission.id}/jobs"
                          ).get_json()["items"]
    assert (listed["cpu_time_s"], listed["wall_time_s"], listed["peak_memory_mb"]) == (
        job.cpu_time_s, job.wall_time_s, job.peak_memory_mb)
