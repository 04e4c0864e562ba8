"""The `poms` command: `poms [--server URL] [--experiment EXP] [--json] COMMAND ...`.

Exit codes: 0 done, 1 refused or failed (the server's reason on stderr, or in the JSON),
2 usage. `--json` prints one JSON object, always with "version": 1.
"""
from __future__ import annotations

import argparse
import json
import sys

from poms_client import (
    JSON_VERSION,
    __version__,
    config,
    launch_hold,  # noqa: F401  (registers `poms launches`)
    provenance,  # noqa: F401  (registers `poms file`, `poms data-flow`)
    versions,  # noqa: F401  (registers its commands)
    watching,  # noqa: F401  (registers its commands)
)
from poms_client.api import Api, ApiFailure
from poms_client.commands import COMMANDS, Result, Usage


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("connection")
    group.add_argument("--server", default=default,
                       help="POMS URL (env POMS_SERVER, or server = in the config file)")
    group.add_argument("--experiment", "-e", default=default,
                       help="experiment to act in (env POMS_EXPERIMENT)")
    group.add_argument("--user", default=default,
                       help="your user name, for a dev-mode server only (env POMS_USER)")
    group.add_argument("--token-file", default=default,
                       help="file holding an API token (env POMS_TOKEN holds one itself)")
    group.add_argument("--timeout", type=float, default=default, help="seconds per request")
    group.add_argument("--json", action="store_true",
                       default=argparse.SUPPRESS if suppress else False,
                       help="print one JSON object ({\"version\": 1, ...})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="poms", description="Drive POMS campaigns from the shell.",
        epilog=f"Settings file: {config.config_path()} (section [poms]).")
    parser.add_argument("--version", action="version", version=f"poms {__version__}")
    _common(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for command in COMMANDS:
        child = sub.add_parser(command.name, help=command.help, description=command.help)
        command.arguments(child)
        _common(child, suppress=True)
        child.set_defaults(run=command.run)
    return parser


def _print_json(payload: dict) -> None:
    print(json.dumps({"version": JSON_VERSION, **payload}, indent=2, sort_keys=True,
                     default=str))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = config.resolve(args.server, args.experiment, args.user, args.token_file,
                                  args.timeout)
        api = Api(settings)
        result: Result = args.run(api, args)
    except Usage as err:
        parser.error(str(err))  # exits 2
        return 2
    except (ApiFailure, config.ConfigProblem) as err:
        status = getattr(err, "status", None)
        field = getattr(err, "field", None)
        message = getattr(err, "message", str(err))
        if args.json:
            extra = {k: v for k, v in getattr(err, "body", {}).items()
                     if k not in ("error", "field")}
            _print_json({"ok": False, "error": message, "field": field, "status": status,
                         **extra})
        else:
            print(f"poms: {message}" + (f" [{field}]" if field else ""), file=sys.stderr)
            for problem in getattr(err, "body", {}).get("problems", [])[1:] or []:
                print(f"  {problem.get('text')}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if args.json:
        _print_json({"ok": result.ok, **result.payload})
    elif result.text:
        out = sys.stdout
        out.write(result.text if result.text.endswith("\n") else result.text + "\n")
    return 0 if result.ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
