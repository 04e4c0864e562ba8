import gc
import sys

from app import create_app
from app.config import ConfigError

try:
    app = create_app()
except ConfigError as err:
    # gunicorn (and `flask --app wsgi`) print this and stop, instead of a traceback.
    sys.stderr.write(f"POMS cannot start: {err}\n")
    raise SystemExit(3) from None

# What the app holds from its start (modules, templates, mappers) lives as long as the
# process: kept out of the collector's full passes, which otherwise stopped a web worker
# for about 200 ms (every request it served waited) a few times a minute under load.
gc.freeze()
