"""A job's log: a window of lines around its matched line (or a line asked for), search
within the whole log, and a link from the matched line to the signature that matched it.

The page works without JavaScript (a search opens the page at the first match, marked);
app/static/joblog.js moves between matches without reloading, with the search's line
numbers (`.../search`, JSON) and the window around each (`HX-Target: log-window`).
"""
from __future__ import annotations

from flask import current_app, jsonify, render_template, request
from flask_login import login_required

from app.auth.session import experiment_access
from app.blueprints.results.common import bp
from app.blueprints.views import is_htmx, job_in, submission_in
from app.extensions import db
from app.logs.joblog import log_window, open_job_log
from app.logs.logsearch import BadQuery, LogSearch, check_query, marked, search_log
from app.logs.store import find_signature
from app.models.logs import JobAnalysis

BEFORE, AFTER = 40, 60


@bp.app_template_filter("log_pieces")
def _log_pieces(line: str, query: str | None):
    """A shown log line cut around the search's matches (the template marks them)."""
    return marked(line, query)


def _search(config, batch_job_id: str, query: str) -> LogSearch | None:
    with open_job_log(config, batch_job_id) as stream:
        return None if stream is None else search_log(stream, query)


def _line_arg(default: int | None) -> int | None:
    try:
        return int(request.args["line"]) if request.args.get("line") else default
    except ValueError:
        return default


@bp.get("/submission/<int:submission_id>/job/<int:job_id>")
@login_required
def job_log(experiment, submission_id, job_id):
    access = experiment_access(experiment)
    row = submission_in(access, submission_id)
    job = job_in(row, job_id)
    analysis = db.session.get(JobAnalysis, job.id)
    matched = analysis.line if analysis else None
    query, found, problem = request.args.get("q", ""), None, None
    window_only = is_htmx() and request.headers.get("HX-Target") == "log-window"
    if query:
        try:
            query = check_query(query)
            # A move to a match (joblog.js) needs only the lines around it, the query
            # marked: the page already holds the search's list, so the whole log is not
            # read again for each move.
            if not (window_only and _line_arg(None)):
                found = _search(current_app.config, job.batch_job_id, query)
        except BadQuery as err:
            query, problem = "", str(err)
    first_hit = found.lines[0] if found and found.lines else None
    centre = max(1, _line_arg(None) or first_hit or matched or 1)
    window = None
    with open_job_log(current_app.config, job.batch_job_id) as stream:
        if stream is not None:
            window = log_window(stream, centre, before=BEFORE, after=AFTER)
    signature = (find_signature(access.experiment, analysis.signature_id)
                 if analysis and analysis.signature_id else None)
    context = dict(access=access, submission=row, job=job, analysis=analysis, window=window,
                   matched=matched, centre=centre, query=query, found=found,
                   problem=problem, signature=signature)
    if window_only:
        return render_template("results/_log_window.html", **context)
    return render_template("results/job_log.html", **context)


@bp.get("/submission/<int:submission_id>/job/<int:job_id>/search")
@login_required
def job_log_search(experiment, submission_id, job_id):
    """The numbers of the log's lines holding `q` (the first 2000), as JSON."""
    access = experiment_access(experiment)
    job = job_in(submission_in(access, submission_id), job_id)
    try:
        found = _search(current_app.config, job.batch_job_id, request.args.get("q", ""))
    except BadQuery as err:
        return jsonify(error=str(err)), 400
    if found is None:  # nothing to search: no line holds it
        return jsonify({**LogSearch(query=request.args["q"]).as_dict(), "no_log": True})
    return jsonify({**found.as_dict(), "no_log": False})
