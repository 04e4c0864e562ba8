import sys

from app import create_app
from app.config import ConfigError

try:
    app = create_app()
except ConfigError as err:
    # gunicorn (and `flask --app wsgi`) print this and stop, instead of a traceback.
    sys.stderr.write(f"POMS cannot start: {err}\n")
    raise SystemExit(3) from None
