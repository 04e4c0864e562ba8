"""`poms`: the POMS command-line client (REST API /api/v1; requests + requests-gssapi)."""

__version__ = "1.0.0"
JSON_VERSION = 1  # the "version" of every --json answer; bumped only on incompatible change
