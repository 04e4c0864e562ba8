"""Catalogue answers cached for one web request (or one worker job).

A page may ask the same question of the catalogue several times (a stage page counts a
dataset for the header, the split preview and the recovery preview); against SAM each
question is an HTTP round trip. Wrap the catalogue once per request and let the request
hold it:

    # in a view (the web layer keeps it on flask.g; nothing here imports Flask)
    catalog = g.get("catalog") or CachedCatalog(make_catalog(config, experiment, db.session))
    g.catalog = catalog

Rules:
  - reads (count_files, list_files, locate, get_metadata, definition_dimensions,
    project_summary, recovery_dimensions, deliveries) are answered once per distinct
    argument list; list answers are copied so a caller cannot change the cache;
  - any write (declare, add_location, create_definition, take_snapshot, project and
    delivery calls) goes through and empties the cache, so a request sees its own writes;
  - the cache dies with the request: never keep one in a module or across requests
    (answers would go stale), and never share one between threads.
"""
from __future__ import annotations

import copy

from app.catalog.base import Catalog
from app.catalog.embedded import EmbeddedCatalog
from app.catalog.samweb import SamwebCatalog
from app.extensions import db
from app.models import Submission

_READS = (
    "count_files",
    "list_files",
    "locate",
    "get_metadata",
    "definition_dimensions",
    "project_summary",
    "recovery_dimensions",
    "deliveries",
    "frozen_dims",
)
_WRITES = (
    "declare_file",
    "declare_files",
    "add_location",
    "create_definition",
    "create_list_definition",
    "create_frozen_definition",
    "take_snapshot",
    "start_project",
    "deliver",
    "set_file_status",
    "end_process",
    "end_project",
)


class CachedCatalog:
    """A catalogue that remembers its answers until the next write (see the module doc)."""

    def __init__(self, inner: Catalog):
        self.inner = inner
        self.kind = inner.kind
        self.experiment = inner.experiment
        self._answers: dict = {}
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        self._answers.clear()

    def __getattr__(self, name: str):
        target = getattr(self.inner, name)
        if name in _READS:
            def read(*args, **kwargs):
                # repr: arguments may be lists (deliveries' names)
                key = (name, repr(args), repr(sorted(kwargs.items())))
                if key in self._answers:
                    self.hits += 1
                    return copy.deepcopy(self._answers[key])
                self.misses += 1
                answer = target(*args, **kwargs)
                self._answers[key] = answer
                return copy.deepcopy(answer)

            return read
        if name in _WRITES:
            def write(*args, **kwargs):
                self.clear()
                return target(*args, **kwargs)

            return write
        return target


def make_catalog(config: dict, experiment: str, session=None) -> Catalog:
    """The catalogue the settings choose: POMS_CATALOG = embedded (default) or samweb.

    samweb settings: POMS_SAMWEB_URL (https://samweb.fnal.gov:8483 by default),
    POMS_SAMWEB_CERT (an X.509 proxy file) or POMS_SAMWEB_TOKEN_FILE (a bearer token),
    POMS_SAMWEB_TIMEOUT (seconds, 30).
    """
    kind = config.get("POMS_CATALOG", "embedded")
    if kind == "embedded":
        if session is None:
            raise ValueError("the embedded catalogue needs a database session")
        return EmbeddedCatalog(session, experiment)
    if kind == "samweb":
        cert = config.get("POMS_SAMWEB_CERT") or None
        return SamwebCatalog(
            config.get("POMS_SAMWEB_URL", "https://samweb.fnal.gov:8483"),
            experiment,
            cert=(cert, cert) if cert else None,
            token_file=config.get("POMS_SAMWEB_TOKEN_FILE") or None,
            timeout=float(config.get("POMS_SAMWEB_TIMEOUT", 30)),
        )
    raise ValueError(f"POMS_CATALOG={kind!r} is not embedded or samweb")


def catalog_for(submission: Submission, config) -> Catalog:
    """The catalogue of the submission's experiment."""
    return make_catalog(config, submission.stage.campaign.experiment.name, db.session)
