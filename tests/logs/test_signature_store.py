"""An experiment's signatures in the database: installing the starting set, hit counts, and
what the analysis of the experiment's jobs uses."""
from __future__ import annotations

from app.auth.members import find_or_create_experiment
from app.extensions import db
from app.logs import starting_set as starting_set_module
from app.logs import store
from app.logs.analysis import analyze_job_log
from app.logs.starting_set import STARTING_SET
from app.models.logs import FailureSignature
from tests.logs.logfiles import FAILURES


def names(experiment) -> list[str]:
    return [row.name for row in store.experiment_signatures(experiment)]


def test_installing_is_idempotent_and_a_later_starting_signature_arrives(app, monkeypatch):
    mu2e = find_or_create_experiment("mu2e")
    assert store.ensure_starting_signatures(mu2e) == len(STARTING_SET)
    assert store.ensure_starting_signatures(mu2e) == 0
    store.delete_signature(store.experiment_signatures(mu2e)[0], None)
    store.create_signature(mu2e, None, {"name": "Hung job", "pattern": "no progress for",
                                        "category": "timeout"})
    later = [*STARTING_SET, ("hung", "Hung job", "no progress in", "timeout", "", ""),
             ("gpu", "GPU missing", "no CUDA-capable device", "site", "", "")]
    monkeypatch.setattr(store, "STARTING_SET", later)
    monkeypatch.setattr(starting_set_module, "STARTING_SET", later)
    # Only the new one arrives: the deleted one stays deleted, and the experiment's own
    # "Hung job" keeps its name and pattern.
    assert store.ensure_starting_signatures(mu2e) == 1
    db.session.commit()
    assert names(mu2e)[-2:] == ["Hung job", "GPU missing"]
    assert STARTING_SET[0][1] not in names(mu2e)
    hung = next(r for r in store.experiment_signatures(mu2e) if r.name == "Hung job")
    assert hung.pattern == "no progress for" and hung.starting_key is None


def test_the_analysis_uses_the_table_and_hits_are_counted(app, tmp_path):
    mu2e = find_or_create_experiment("mu2e")
    # Before first use: the starting set, with no rows to count hits on.
    assert [s.key for s in store.signatures_for(mu2e)] == [row[0] for row in STARTING_SET]
    assert {s.id for s in store.signatures_for(mu2e)} == {None}
    log = tmp_path / "job.log"
    log.write_text(FAILURES["disk-full"][0])
    result = analyze_job_log(log, None, store.analysis_signatures(mu2e))
    db.session.commit()
    row = next(r for r in store.experiment_signatures(mu2e) if r.name == "Disk full")
    assert result.signature.signature_id == row.id
    store.record_hits([result.signature.signature_id, None])
    store.record_hits([result.signature.signature_id])
    db.session.commit()
    db.session.refresh(row)
    assert row.hits == 2 and row.last_hit is not None


def test_a_stored_pattern_that_fails_todays_rules_is_skipped_not_fatal(app, tmp_path):
    mu2e = find_or_create_experiment("mu2e")
    store.ensure_starting_signatures(mu2e)
    db.session.add(FailureSignature(experiment_id=mu2e.id, name="old", pattern=r"(x)\1",
                                    category="software", position=-1))
    db.session.commit()
    signatures = store.signatures_for(mu2e)
    assert "old" not in [s.name for s in signatures]
    assert len(signatures) == len(STARTING_SET)
