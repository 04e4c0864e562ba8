from flask import Flask


def register_blueprints(app: Flask) -> None:
    from app.blueprints import auth, campaigns, definitions

    app.register_blueprint(auth.bp)
    app.register_blueprint(campaigns.bp)
    app.register_blueprint(definitions.bp)
