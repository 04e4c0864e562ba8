"""The pages: one blueprint per area (parse the request, call the domain, render a page or
an HTMX fragment); app/blueprints/views.py holds what several of them share."""
from flask import Flask

from app.blueprints import (
    admin,
    auth,
    campaigns,
    chaining,
    definitions,
    live,
    overview,
    provenance,
    results,
    signatures,
    submissions,
    tokens,
    ucondb,
    uploads,
    watching,
)
from app.extensions import once_per_request


def register_blueprints(app: Flask) -> None:
    for area in (auth, campaigns, definitions, admin, uploads, signatures,
                 ucondb,  # the embedded UconDB server
                 tokens,  # the API tokens page
                 submissions, chaining, results, overview,
                 live,  # the live pages' event stream
                 watching,  # watches, deliveries, circuit breakers
                 provenance):  # a file's page, a job's files, a campaign's data flow
        app.register_blueprint(area.bp)
    # On every page while held.
    app.context_processor(once_per_request(overview.launch_hold_banner))
