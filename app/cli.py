"""The operator commands, `flask --app wsgi poms ...`: each area's own commands (its
cli.py's COMMANDS) and the worker's, gathered into one `poms` group for create_app.

An area's commands live with the area and import nothing of this module, so nothing here
is imported back."""
from __future__ import annotations

import click
from flask import Flask

from app.auth import cli as member_commands
from app.campaigns import cli as campaign_commands
from app.chaining import cli as chaining_commands
from app.launching import cli as launch_commands
from app.launching import version_cli as version_commands
from app.logs import cli as log_commands
from app.ucondb import cli as ucondb_commands
from workers.cli import worker_command

AREAS = (campaign_commands, member_commands, launch_commands, version_commands,
         chaining_commands, log_commands, ucondb_commands)


def poms_group() -> click.Group:
    group = click.Group("poms", help="POMS operator commands.")
    for area in AREAS:
        for command in area.COMMANDS:
            group.add_command(command)
    group.add_command(worker_command)
    return group


def register_cli(app: Flask) -> None:
    app.cli.add_command(poms_group())
