"""The plots of a submission's results as SVG: CPU efficiency (each bin a link to its jobs)
and memory used against memory asked for.
"""
from __future__ import annotations

from flask import Response, url_for
from flask_login import login_required
from markupsafe import Markup

from app.auth.session import Access, experiment_access
from app.blueprints.results.common import bp
from app.blueprints.views import submission_in
from app.models import Submission
from app.results import svg
from app.results.aggregate import results_for


def plots_of(access: Access, submission: Submission, results) -> dict:
    def bin_link(index: int) -> str:
        return url_for("results.jobs", experiment=access.experiment.name,
                       submission_id=submission.id, bin=index)

    return {
        "efficiency": Markup(svg.efficiency_histogram(results.histogram, bin_link)),
        "memory": Markup(svg.memory_plot(results.memory_points,
                                         results.memory_requested_mb)),
    }


@bp.get("/submission/<int:submission_id>/plot/<any(efficiency, memory):name>.svg")
@login_required
def submission_plot(experiment, submission_id, name):
    access = experiment_access(experiment)
    row = submission_in(access, submission_id)
    plots = plots_of(access, row, results_for(submission_ids=[row.id]))
    return Response(str(plots[name]), mimetype="image/svg+xml")
