"""`flask --app wsgi poms analyze-log FILE [--exit-code N] [--experiment EXP] [--json]`, and
`poms analyse-pending [--submission N]`: finished jobs whose log was never analysed."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app

from app.auth.members import find_experiment
from app.logs.analysis import analyze_job_log
from app.logs.jobs import analyse_jobs, unanalysed_jobs
from app.logs.store import signatures_for


@click.command("analyze-log")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--exit-code", type=click.IntRange(0, 255), default=None,
              help="The exit code the batch engine reported (overrides the log's).")
@click.option("--experiment", default=None,
              help="Use this experiment's failure signatures (default: the starting set).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def analyze_log_command(path: Path, exit_code: int | None, experiment: str | None,
                        as_json: bool) -> None:
    """Analyze one job log: exit code, signal, peak memory, the failure signature."""
    exp = find_experiment(experiment) if experiment else None
    if experiment and exp is None:
        click.echo(f"note: no experiment {experiment!r} here: using the starting signatures",
                   err=True)
    result = analyze_job_log(path, exit_code, signatures_for(exp))
    if as_json:
        click.echo(json.dumps(result.as_command_json()))
        return
    hit = result.signature
    click.echo(f"exit code     {_show(result.exit_code)}")
    click.echo(f"signal        {_show(result.signal)}")
    click.echo(f"wall time     {_show(result.wall_time_s, ' s')}")
    click.echo(f"CPU time      {_show(result.cpu_time_s, ' s')}")
    efficiency = result.cpu_efficiency
    click.echo(f"efficiency    {'-' if efficiency is None else f'{efficiency:.0%}'}")
    click.echo(f"peak memory   {_show(result.peak_memory_mb, ' MB')}")
    click.echo(f"input files   {len(result.input_files)}")
    click.echo(f"output files  {len(result.output_files)}")
    if hit is None:
        click.echo("signature     -")
    else:
        where = f"line {hit.line}" if hit.line else "exit code"
        click.echo(f"signature     {hit.name} ({hit.category}, {where})")
        if hit.text:
            click.echo(f"              {hit.text}")
        if hit.action:
            click.echo(f"action        {hit.action}")


def _show(value, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.0f}{unit}"
    return f"{value}{unit}"


@click.command("analyse-pending")
@click.option("--submission", "submission_ids", type=int, multiple=True,
              help="Only this submission's jobs (repeatable).")
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=10_000, show_default=True)
def analyse_pending_command(submission_ids: tuple[int, ...], limit: int) -> None:
    """Analyse finished jobs whose log was never analysed (a lost queue entry, a restored
    database); each log once, as the RQ analysis job does."""
    ids = unanalysed_jobs(list(submission_ids) or None, limit=limit)
    run = analyse_jobs(ids, current_app.config)
    click.echo(str(run))
    for error in run.errors:
        click.echo(f"error: {error}", err=True)


COMMANDS = (analyze_log_command, analyse_pending_command)
