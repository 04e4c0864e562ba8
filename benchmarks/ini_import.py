"""Campaign file import at the stage limit (POMS_MAX_STAGES, 500 by default), and the
refusal of a file far over it (issue 17: a 10,000-stage upload took 17 s in the request).

Prints `BENCH <name> <value> <unit>` lines:

  ini_parse_s_<n>        parse_ini of an n-stage chained campaign (n = POMS_BENCH_STAGES, 500)
  ini_upload_s_<n>       read_ini + upload_plan + save_campaign + commit, on a fresh SQLite
  ini_export_s_<n>       spec_from_campaign + export_ini of it
  ini_refuse_s_10000     parse_ini refusing a 10,000-stage file (the limit is checked first)
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.campaigns.spec import InvalidCampaign  # noqa: E402


def campaign_text(stages: int) -> str:
    out = ["[campaign]", "experiment = mu2e", "name = bench", "",
           "[campaign_defaults]", "job_type = jt", "login_setup = ls", "completion_pct = 95",
           'param_overrides = [["--stage ", "x"]]', "",
           "[job_type jt]", "launch_script = fife_launch", "",
           "[login_setup ls]", "host = localhost", "account = poms", ""]
    for i in range(stages):
        out += [f"[campaign_stage s{i}]", f"dataset_or_split_data = ds{i}", ""]
        if i:
            out += [f"[dependencies s{i}]", f"campaign_stage_1 = s{i - 1}",
                    "file_pattern_1 = %.art", ""]
    return "\n".join(out)


def bench(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name} {value:.3f} {unit}", flush=True)


def main() -> None:
    import flask_migrate

    from app import create_app
    from app.auth.members import find_or_create_experiment
    from app.auth.session import find_or_create_experimenter
    from app.campaigns import store
    from app.campaigns.ini import export_ini, parse_ini
    from app.extensions import db

    n = int(os.environ.get("POMS_BENCH_STAGES", "500"))
    text = campaign_text(n)
    started = time.perf_counter()
    parse_ini(text, "bench.ini", max_stages=n)
    bench(f"ini_parse_s_{n}", time.perf_counter() - started, "s")

    huge = campaign_text(10_000)
    started = time.perf_counter()
    try:
        parse_ini(huge, "huge.ini", max_stages=n)
    except InvalidCampaign:
        bench("ini_refuse_s_10000", time.perf_counter() - started, "s")

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
                          "SECRET_KEY": "bench", "TESTING": True, "POMS_AUTH": "dev"})
        with app.app_context():
            flask_migrate.upgrade()
            experiment = find_or_create_experiment("mu2e")
            owner = find_or_create_experimenter("bench")
            db.session.commit()
            started = time.perf_counter()
            spec, _warnings = store.read_ini(experiment, text, "bench.ini", max_stages=n)
            store.upload_plan(experiment, spec)
            campaign = store.save_campaign(experiment, spec, owner)
            db.session.commit()
            bench(f"ini_upload_s_{n}", time.perf_counter() - started, "s")
            started = time.perf_counter()
            export_ini(store.spec_from_campaign(campaign))
            bench(f"ini_export_s_{n}", time.perf_counter() - started, "s")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
