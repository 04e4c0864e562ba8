"""Issue 17: thousands of generated campaign files through every upload path, on the suite's
database (SQLite, and PostgreSQL with POMS_TEST_DATABASE=postgresql): no crash, and nothing
half-written.

The files come from tests/security/ini_fuzz.py: real campaign files mutated, and files
written from the grammar with values that have broken importers before. The run is seeded
(POMS_FUZZ_SEED, default below, printed with the counts) and counts its files
(POMS_FUZZ_CASES, at least 2,000 unless set lower by hand, all through the store as the
upload page uses it; the API takes a sample of POMS_FUZZ_API_CASES, 500, since it runs the
same store code and adds only its own reading and answers; the CLI a sample of
POMS_FUZZ_CLI_CASES, 50, since each is a process of its own). The same seed gives the same
files in the same order, so a failure reproduces by running the test with that seed.

On PostgreSQL each path takes a seeded quarter of those (POMS_FUZZ_STORE_CASES 500,
POMS_FUZZ_API_CASES 125, POMS_FUZZ_CLI_CASES 12; set them to run more). Why: the whole run
there took 260 s, 180 s and 56 s of CI's PostgreSQL suite, its longest part and the critical
path of CI, and all of it goes through the same parser and store code as on SQLite, where
every file still runs. What PostgreSQL adds is its own refusals (NUL bytes in text, column
lengths, which SQLite never checks) and its transactions, and a quarter of the files meets
those often: about 8 % of the files carry a NUL byte and over a third a value longer than
255 characters. Splitting the 2,000 into chunks for xdist's processes would not help: the
suite keeps both processes busy to its end, so only less work shortens it.

The oracle, for every file on every path:
- accepted: what is stored is what the file says, its export reads back with no change
  (the upload's preview shows none), and importing that export again writes nothing;
- refused: every problem names the file and says why (InvalidCampaign; a 4xx JSON answer
  with an error; the CLI's exit status 1 with no traceback), and the database is row for
  row what it was before;
- never anything else: an exception, a 5xx, a traceback.
A failure is written to the test's temp folder (a crash on the store path shrunk to the
fewest lines that still crash) and reported with the seed and the case number, one per kind
of failure with how many cases had it; <path>-outcomes.txt there lists every case's outcome.

Why not hypothesis: its number of examples is a ceiling, not a count, and it chooses them
from its own database and phases; this run must be the same 2,000 files every time. The
files are plain random.Random draws, one generator per case, and the shrinking is ours.
"""
from __future__ import annotations

import io
import json
import os
import random
import re
import subprocess
import sys
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import String, cast, event, func, literal, select, text, union_all

from app.auth.members import ensure_member, find_or_create_experiment
from app.auth.session import find_or_create_experimenter
from app.campaigns import store
from app.campaigns.ini import declared_experiment, export_ini
from app.campaigns.spec import CampaignSpec, InvalidCampaign, Problem
from app.extensions import db
from app.models import Experiment, JobType, LoginSetup
from tests.fixtures.app import _app, database_kind
from tests.security import ini_fuzz

ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1"
SEED = int(os.environ.get("POMS_FUZZ_SEED", "17"))
CASES = int(os.environ.get("POMS_FUZZ_CASES", "2000"))
# A quarter of each path's files on PostgreSQL: why in the module's docstring.
SHARE = 4 if database_kind() == "postgresql" else 1
STORE_CASES = int(os.environ.get("POMS_FUZZ_STORE_CASES", str(CASES // SHARE)))
CLI_CASES = int(os.environ.get("POMS_FUZZ_CLI_CASES", str(50 // SHARE)))
# The API's upload reads the file with the store's read_ini, upload_plan and save_campaign,
# which all 2,000 files go through on the store path: the API takes a seeded sample of them
# for what it adds (the body or form field read, the role check, JSON answers, 4xx not 5xx).
API_CASES = int(os.environ.get("POMS_FUZZ_API_CASES", str(500 // SHARE)))
# What an upload writes, compared row by row after every file; every other table (and the
# append-only audit log, which grows with every accepted file) by its count and last id.
CAMPAIGN_TABLES = ("experiment", "experimenter", "membership", "job_type", "login_setup",
                   "campaign", "campaign_tag", "campaign_stage", "stage_dependency")


def cases(sample: int | None = None, lane: str = "") -> list[ini_fuzz.Case]:
    """The run's files in order; or `sample` of them, the same ones for a seed and lane."""
    numbers = range(CASES)
    if sample is not None and sample < CASES:
        numbers = sorted(random.Random(f"{SEED}/{lane}").sample(numbers, sample))
    return [ini_fuzz.case(SEED, n) for n in numbers]


# --- the world the files are uploaded into -----------------------------------------------


def prepare_world() -> None:
    """The experiments the files name, a superuser `fuzz` and an analysis member `ann` in
    each, and the job types and login setups the real files use without defining (as
    Mu2e's production experiment holds them), plus a few of the generator's own."""
    fuzz = find_or_create_experimenter("fuzz")
    ann = find_or_create_experimenter("ann")
    needed = ini_fuzz.shared_definitions_needed()
    for name in ini_fuzz.EXPERIMENTS:
        experiment = find_or_create_experiment(name)
        ensure_member(experiment, fuzz, "superuser")
        ensure_member(experiment, ann, "analysis")
        job_types: set[str] = set(ini_fuzz.JOB_TYPES[:2])
        login_setups: dict[str, str] = {ini_fuzz.LOGIN_SETUPS[0]: "production",
                                        ini_fuzz.LOGIN_SETUPS[1]: "analysis"}
        for file_job_types, file_login_setups, role in needed.values():
            job_types |= file_job_types
            for setup in file_login_setups:
                login_setups.setdefault(setup, role)
        for jt in sorted(job_types):
            db.session.add(JobType(experiment=experiment, name=jt, creator=fuzz,
                                   launch_script="fife_launch", parameters=[], recoveries=[]))
        for ls, role in sorted(login_setups.items()):
            db.session.add(LoginSetup(experiment=experiment, name=ls, creator=fuzz, role=role,
                                      host="mu2egpvm01.fnal.gov", account="mu2epro"))
    db.session.commit()


def target_experiment(text: str) -> str:
    """The experiment a file is uploaded into: the one it names (found as a person would),
    when the world has it."""
    named = re.search(r"(?m)^experiment\s*[=:]\s*(\S+)\s*$", text)
    return named.group(1) if named and named.group(1) in ini_fuzz.EXPERIMENTS else "mu2e"


@cache
def _counts_query():
    return union_all(*(
        select(literal(table.name).label("name"), func.count().label("rows"),
               cast(func.max(next(iter(table.primary_key.columns))), String).label("last"))
        for table in db.metadata.sorted_tables if table.name not in CAMPAIGN_TABLES))


def snapshot() -> dict[str, object]:
    """The campaign tables row by row (as the database returns them, JSON as its text),
    every other table's count and last id; then the read transaction is ended, so that the
    next one sees what other connections committed."""
    rows: dict[str, object] = {name: (count, last) for name, count, last
                               in db.session.execute(_counts_query())}
    if db.engine.dialect.name == "postgresql":
        # Each row as PostgreSQL writes it as text, all tables in one round trip: reading
        # them column by column was a quarter of the run's time there.
        dumps = ", ".join(f"(SELECT array_agg(r::text ORDER BY r.id) FROM {name} r)"
                          for name in CAMPAIGN_TABLES)
        dumped = db.session.execute(text(f"SELECT {dumps}")).one()
        rows.update(zip(CAMPAIGN_TABLES, (table or [] for table in dumped), strict=True))
    else:
        for name in CAMPAIGN_TABLES:
            rows[name] = db.session.execute(text(f"SELECT * FROM {name} ORDER BY id")).all()
    db.session.rollback()
    return rows


def differences(before: dict, after: dict) -> str:
    said = []
    for name in before:
        if before[name] != after[name]:
            old, new = before[name], after[name]
            if isinstance(old, list):
                gone = [r for r in old if r not in new][:2]
                added = [r for r in new if r not in old][:2]
                said.append(f"{name}: {len(old)} -> {len(new)} rows; gone {gone!r:.300}, "
                            f"new {added!r:.300}")
            else:
                said.append(f"{name}: {old} -> {new}")
    return "; ".join(said)


# --- what each path found -----------------------------------------------------------------


@dataclass
class Run:
    path: str
    failures_dir: Path
    accepted: int = 0
    refused: int = 0
    failed: int = 0
    kinds: dict[str, int] = field(default_factory=dict)  # kind of failure -> how many
    examples: dict[str, str] = field(default_factory=dict)  # kind -> its first case, told
    outcomes: list[str] = field(default_factory=list)  # "number accepted|refused|failed"
    started: float = field(default_factory=time.monotonic)

    def accept(self, item: ini_fuzz.Case) -> None:
        self.accepted += 1
        self.outcomes.append(f"{item.number} accepted")

    def refuse(self, item: ini_fuzz.Case) -> None:
        self.refused += 1
        self.outcomes.append(f"{item.number} refused")

    def judge_acceptance(self, item: ini_fuzz.Case, said: str | None) -> None:
        """An accepted file passes when it is stored as it reads (`said` is None)."""
        if said is None:
            self.accept(item)
        else:
            self.fail(item, "accepted, but not stored as it reads", said)

    def judge_refusal(self, item: ini_fuzz.Case, said: str | None, before: dict,
                      after: dict, how: str = "") -> None:
        """A refused file passes when its problems say where and why (`said` is None) and
        the database is as it was."""
        if said is not None:
            self.fail(item, "a refusal that does not say where and why", said)
        elif after != before:
            self.fail(item, f"a refused file{how} changed the database",
                      differences(before, after))
        else:
            self.refuse(item)

    def fail(self, item: ini_fuzz.Case, what: str, detail: str,
             err: BaseException | None = None, shrunk=None) -> None:
        """Keep the failure. Those of one kind (the same exception where it was raised, or
        the same complaint) are told once, with how many cases had it; the first of each
        kind is shrunk (`shrunk() -> text`) and saved in the test's temp folder."""
        self.failed += 1
        self.outcomes.append(f"{item.number} failed")
        if err is not None:
            frame = traceback.extract_tb(err.__traceback__)[-1]
            kind = f"{type(err).__name__} at {frame.filename}:{frame.lineno}"
        else:
            kind = re.sub(r"\d+", "N", f"{what}: {detail.splitlines()[0][:60]}")
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if kind in self.examples:
            return
        saved = self.failures_dir / f"{self.path}-{item.filename}"
        saved.write_bytes(item.data)
        said = f"case {item.number} ({item.kind}; saved as {saved}): {what}\n{detail.rstrip()}"
        if shrunk is not None:
            text = shrunk()
            shown = repr(text) if len(text) <= 1500 else (
                f"{text[:1500]!r}... ({len(text)} characters)")
            said += f"\n--- the smallest file found that does the same ---\n{shown}"
        self.examples[kind] = said

    def finish(self, total: int, capsys) -> None:
        seconds = time.monotonic() - self.started
        line = (f"ini fuzz, {self.path} path: seed {SEED} (POMS_FUZZ_SEED), {total} files, "
                f"{self.accepted} accepted, {self.refused} refused, {self.failed} failures, "
                f"{seconds:.1f} s on {db.engine.dialect.name}")
        (self.failures_dir / f"{self.path}-outcomes.txt").write_text(
            "\n".join(self.outcomes) + "\n")
        with capsys.disabled():  # the seed and the counts, on every run
            print(f"\n{line}")
        assert self.accepted + self.refused + self.failed == total
        if self.failed:
            told = "\n\n".join(f"[{self.kinds[kind]} like this] {said}"
                                for kind, said in self.examples.items())
            pytest.fail(f"{line}, of {len(self.kinds)} kinds:\n\n{told}", pytrace=False)


def problems_name_the_file(problems: list[dict | Problem], filename: str) -> str | None:
    """Why a refusal's problems do not each name the file and a reason (None when they do)."""
    if not problems:
        return "refused with no problem given"
    for problem in problems:
        file, reason = ((problem.get("file"), problem.get("reason")) if isinstance(problem, dict)
                        else (problem.file, problem.reason))
        if file != filename or not (reason or "").strip():
            return f"a problem does not name the file {filename!r} and a reason: {problem!r:.500}"
    return None


def same_campaign(stored: CampaignSpec, spec: CampaignSpec,
                  experiment: Experiment | None = None) -> str | None:
    """What the database holds that differs from what the file says (None when nothing).
    The job types and login setups the file defines are the experiment's, whether or not
    its stages use them."""
    for name in ("name", "experiment", "poms_role", "state", "tags", "keywords", "defaults",
                 "node_positions", "stages", "dependencies"):
        if getattr(stored, name) != getattr(spec, name):
            return (f"{name} stored differs from the file's: {getattr(stored, name)!r:.600} "
                    f"!= {getattr(spec, name)!r:.600}")
    if experiment is None:
        return None
    for kind, held in zip(("job_types", "login_setups"), store.shared_definitions(experiment),
                          strict=True):
        for name, wanted in getattr(spec, kind).items():
            if held.get(name) != wanted:
                return (f"{kind} {name!r} stored differs from the file's: "
                        f"{held.get(name)!r:.600} != {wanted!r:.600}")
    return None


def reimports_unchanged(experiment: Experiment, campaign_name: str, owner,
                        max_stages: int) -> str | None:
    """Export the stored campaign, read the export back, save it again: no change anywhere.
    None, or what went wrong."""
    campaign = store.find_campaign(experiment, campaign_name)
    if campaign is None:
        return f"the accepted campaign {campaign_name!r} is not in {experiment.name}"
    stored = store.spec_from_campaign(campaign)
    exported = export_ini(stored)
    try:
        again, _warnings = store.read_ini(experiment, exported, "exported.ini", max_stages)
    except InvalidCampaign as err:
        return f"its export does not read back:\n{err}\n--- export ---\n{exported[:2000]}"
    again.experiment = experiment.name
    existing, changes = store.upload_plan(experiment, again)
    if existing is None or existing.id != campaign.id or changes:
        return (f"its export reads back as another campaign, or with changes: "
                f"{[str(c) for c in changes][:5]}\n--- export ---\n{exported[:2000]}")
    if (said := same_campaign(again, stored)) is not None:
        return f"its export reads back differently: {said}"
    with writes_counted() as writes:
        store.save_campaign(experiment, again, owner)
        db.session.flush()
    db.session.rollback()
    if writes:
        return f"importing its export again writes: {writes[:3]!r:.1500}"
    return None


@contextmanager
def writes_counted():
    """The INSERT, UPDATE and DELETE statements sent to the database inside the block."""
    writes: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield writes
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


# --- the store path (read_ini, upload_plan, save_campaign in one transaction) -------------


def store_upload(item_text: str, filename: str, experiment: Experiment, owner,
                 max_stages: int, commit: bool = True) -> CampaignSpec:
    """What the upload page does with a file, in one transaction; InvalidCampaign when
    refused. Without `commit` the transaction is flushed and rolled back."""
    try:
        spec, warnings = store.read_ini(experiment, item_text, filename, max_stages)
        spec.experiment = experiment.name
        store.upload_plan(experiment, spec)
        store.save_campaign(experiment, spec, owner)
        db.session.flush()
        if commit:
            db.session.commit()
        else:
            db.session.rollback()
    except BaseException:
        db.session.rollback()
        raise
    for warning in warnings:
        if warning.file != filename or not warning.reason.strip():
            raise AssertionError(f"a warning does not name the file and a reason: {warning!r}")
    return spec


def file_text(data: bytes) -> str:
    """The text a page or the API would hand the store; bytes that are not UTF-8 (which
    both refuse before the store) are read as Latin-1 here, to fuzz the store with them."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def shrink(text: str, crashes) -> str:
    """The fewest lines of `text` that still crash (`crashes(text) -> bool`), by removing
    chunks of lines, then shortening the longest line; a few hundred tries at most."""
    lines = text.split("\n")
    tries = 0
    chunk = max(1, len(lines) // 2)
    while chunk >= 1 and tries < 300:
        at, removed = 0, False
        while at < len(lines) and tries < 300:
            candidate = lines[:at] + lines[at + chunk:]
            tries += 1
            if candidate and crashes("\n".join(candidate)):
                lines, removed = candidate, True
            else:
                at += chunk
        if not removed:
            chunk //= 2
    for index in sorted(range(len(lines)), key=lambda i: -len(lines[i]))[:3]:
        while len(lines[index]) > 200 and tries < 400:
            tries += 1
            half = lines[index][: len(lines[index]) // 2]
            candidate = lines[:index] + [half] + lines[index + 1:]
            if not crashes("\n".join(candidate)):
                break
            lines = candidate
    return "\n".join(lines)


def test_generated_files_through_the_store_as_the_upload_page_does(app, tmp_path, capsys):
    prepare_world()
    max_stages = app.config["POMS_MAX_STAGES"]
    owner = find_or_create_experimenter("fuzz")
    experiments = {name: find_or_create_experiment(name) for name in ini_fuzz.EXPERIMENTS}
    db.session.commit()
    run = Run("store", tmp_path)
    state = snapshot()
    files = cases(STORE_CASES, "store")
    for item in files:
        text = file_text(item.data)
        experiment = experiments[target_experiment(text)]
        try:
            spec = store_upload(text, item.filename, experiment, owner, max_stages)
        except InvalidCampaign as err:
            after = snapshot()
            run.judge_refusal(item, problems_name_the_file(err.problems, item.filename),
                              state, after)
            state = after
            continue
        except Exception as err:  # noqa: BLE001  (a crash: what the test looks for)
            state = snapshot()
            kind = type(err)

            def crashes(candidate: str, kind=kind, experiment=experiment) -> bool:
                try:
                    store_upload(candidate, "shrunk.ini", experiment, owner, max_stages,
                                 commit=False)
                except Exception as again:  # noqa: BLE001
                    return isinstance(again, kind) and not isinstance(again, InvalidCampaign)
                return False

            run.fail(item, f"crashed: {type(err).__name__}: {str(err)[:300]}",
                     "".join(traceback.format_exception(err)[-6:]), err,
                     lambda text=text, crashes=crashes: shrink(text, crashes))
            continue
        campaign = store.find_campaign(experiment, spec.name)
        said = same_campaign(store.spec_from_campaign(campaign), spec, experiment)
        if said is None:
            try:
                said = reimports_unchanged(experiment, spec.name, owner, max_stages)
            except Exception as err:  # noqa: BLE001
                db.session.rollback()
                said = "re-importing its export crashed:\n" + "".join(
                    traceback.format_exception(err)[-6:])
        run.judge_acceptance(item, said)
        state = snapshot()
    run.finish(len(files), capsys)


# --- the REST API ---------------------------------------------------------------------------


def test_generated_files_through_the_api_upload(app, client, tmp_path, capsys):
    prepare_world()
    run = Run("api", tmp_path)
    state = snapshot()
    files = cases(API_CASES, "api")
    for item in files:
        experiment = target_experiment(item.data.decode("utf-8", "replace"))
        # Mostly the superuser (every file gets as far as it can), sometimes an analysis
        # member (refusals by role).
        user = "ann" if item.number % 5 == 4 else "fuzz"
        url = f"{API}/experiments/{experiment}/campaigns"
        try:
            if item.number % 10 == 7:  # the file as a form's file field names it
                response = client.post(url, headers={"X-POMS-User": user},
                                       content_type="multipart/form-data",
                                       data={"ini_file": (io.BytesIO(item.data), item.filename)})
            else:
                response = client.post(f"{url}?filename={quote(item.filename)}", data=item.data,
                                       headers={"X-POMS-User": user,
                                                "Content-Type": "text/plain"})
        except Exception as err:  # noqa: BLE001  (TESTING: the app's exception, not a 500)
            run.fail(item, f"crashed: {type(err).__name__}: {str(err)[:300]}",
                     "".join(traceback.format_exception(err)[-6:]), err=err)
            state = snapshot()
            continue
        try:
            body = response.get_json(force=True)
        except Exception:  # noqa: BLE001
            body = None
        after = snapshot()
        if response.status_code in (200, 201):
            with writes_counted() as writes:
                said = _api_roundtrip(client, experiment, user, body["campaign"]["name"])
            if said is None and writes:
                said = f"its export, uploaded again as a dry run, wrote: {writes[:3]!r:.1500}"
            run.judge_acceptance(item, said)
            state = after
            continue
        if not (400 <= response.status_code < 500) or not isinstance(body, dict) \
                or not str(body.get("error", "")).strip():
            run.fail(item, f"answered {response.status_code} without a JSON error",
                     response.get_data(as_text=True)[:2000])
        else:
            said = None
            if response.status_code == 422 and "problems" in body:
                said = problems_name_the_file(body["problems"], item.filename)
            run.judge_refusal(item, said, state, after, f" ({response.status_code})")
        state = after
    run.finish(len(files), capsys)


def _api_roundtrip(client, experiment: str, user: str, name: str):
    """The accepted campaign's export (GET .../ini), uploaded again as a dry run: it is the
    same campaign, with no change. None, or what went wrong. (That saving it again writes
    nothing, the store path checks.)"""
    headers = {"X-POMS-User": user}
    if "/" in name:
        # The API addresses a campaign by name in the path, where '/' cannot stand (the
        # original's samples have such names): export it as the page does.
        campaign = store.find_campaign(find_or_create_experiment(experiment), name)
        exported = export_ini(store.spec_from_campaign(campaign))
        db.session.rollback()
    else:
        response = client.get(f"{API}/experiments/{experiment}/campaigns/{quote(name, safe='')}"
                              "/ini", headers=headers)
        if response.status_code != 200:
            return f"GET its INI answered {response.status_code}: {response.get_data()[:500]!r}"
        exported = response.get_data(as_text=True)
    post = {**headers, "Content-Type": "text/plain"}
    url = f"{API}/experiments/{experiment}/campaigns?filename=exported.ini"
    plan = client.post(url + "&dry_run=1", data=exported.encode(), headers=post)
    body = plan.get_json(silent=True) or {}
    if plan.status_code != 200 or body.get("created") or body.get("changes"):
        return (f"its export, uploaded again as a dry run, answered {plan.status_code}: "
                f"{json.dumps(body)[:1500]}\n--- export ---\n{exported[:2000]}")
    return None


# --- the CLI --------------------------------------------------------------------------------


@dataclass
class Lane:
    """One database the CLI imports into, one file after another."""

    app: object
    env: dict
    files: list[ini_fuzz.Case]
    state: dict = field(default_factory=dict)


def test_a_sample_of_generated_files_through_poms_import_ini(new_database, tmp_path, capsys):
    """Each import is a process of its own (about a second, most of it starting Python):
    two lanes, each on its own database, run side by side to use a second core."""
    files = cases(CLI_CASES, "cli")
    folder = tmp_path / "files"
    folder.mkdir()
    lanes = []
    for n in range(2):
        url = new_database()
        env = {**os.environ, "POMS_DATABASE_URL": url, "POMS_SECRET_KEY": "fuzz",
               "POMS_UPLOADS_DIR": str(tmp_path / f"uploads-{n}"), "POMS_AUTH": "dev"}
        lane = Lane(_app(url, POMS_UPLOADS_DIR=env["POMS_UPLOADS_DIR"]), env, files[n::2])
        with lane.app.app_context():
            prepare_world()
            lane.state = snapshot()
        lanes.append(lane)
    run = Run("cli", tmp_path)
    for step in range(len(lanes[0].files)):
        started = []
        for lane in lanes[: 2 if step < len(lanes[1].files) else 1]:
            item = lane.files[step]
            path = folder / item.filename
            path.write_bytes(item.data)
            # Half name the experiment; the others take the one the file names.
            argv = [sys.executable, "-m", "flask", "--app", "wsgi", "poms", "import-ini",
                    str(path), "--user", "fuzz"]
            if item.number % 2:
                argv += ["--experiment", "mu2e"]
            started.append((lane, item, path, subprocess.Popen(
                argv, cwd=ROOT, env=lane.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True)))
        for lane, item, path, process in started:
            stdout, stderr = process.communicate(timeout=300)
            with lane.app.app_context():
                _judge_import(run, lane, item, path, process.returncode, stdout, stderr)
    with lanes[0].app.app_context():
        run.finish(len(files), capsys)
    for lane in lanes:
        with lane.app.app_context():
            db.session.remove()
            db.engine.dispose()


def _judge_import(run: Run, lane: Lane, item: ini_fuzz.Case, path: Path, status: int,
                  stdout: str, stderr: str) -> None:
    after = snapshot()
    said = f"exit status {status}\nstderr:\n{stderr[-3000:]}"
    if "Traceback" in stderr or status not in (0, 1):
        run.fail(item, "crashed", said)
    elif status == 1:
        lines = [line for line in stderr.split("\n")
                 if line and not line.startswith(("warning: ", "change: "))]
        names_it = lines and all(line.startswith(str(path)) for line in lines)
        run.judge_refusal(item, None if names_it else said, lane.state, after)
    else:
        name = stdout.strip().splitlines()[-1]
        experiment = find_or_create_experiment(
            "mu2e" if item.number % 2 else declared_experiment(file_text(item.data)))
        run.judge_acceptance(item, reimports_unchanged(
            experiment, name, find_or_create_experimenter("fuzz"),
            lane.app.config["POMS_MAX_STAGES"]))
    lane.state = snapshot()
