from flask import Flask


def register_blueprints(app: Flask) -> None:
    from app.blueprints import admin, auth, campaigns, definitions, submissions, uploads

    app.register_blueprint(auth.bp)
    app.register_blueprint(campaigns.bp)
    app.register_blueprint(definitions.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(uploads.bp)
    from app.blueprints import signatures  # failure signatures (app/logs)
    app.register_blueprint(signatures.bp)
    from app.blueprints.ucondb import bp as ucondb_bp  # the embedded UconDB server
    app.register_blueprint(ucondb_bp)
    from app.api import register as register_api  # /api/v1 and the API tokens page
    register_api(app)
    app.register_blueprint(submissions.bp)
    from app.blueprints.chaining import bp as chaining_bp  # ledger, recoveries (issue 5)
    app.register_blueprint(chaining_bp)
    from app.blueprints.results import bp as results_bp; app.register_blueprint(results_bp)  # noqa: E702,I001  issue 7
