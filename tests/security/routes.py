"""The app's own route table, as the security tests walk it: every rule and method of
app.url_map (static files aside), and URLs built from a rule with chosen values."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask

_ARG = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Route:
    rule: str
    method: str
    endpoint: str

    @property
    def is_api(self) -> bool:
        return self.rule.startswith("/api/v1/")

    @property
    def int_args(self) -> list[str]:
        return [name for conv, _args, name in _ARG.findall(self.rule) if conv == "int"]

    @property
    def id(self) -> str:
        return f"{self.method} {self.rule}"


def routes(app: Flask) -> list[Route]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - IGNORED_METHODS):
            found.append(Route(rule.rule, method, rule.endpoint))
    return sorted(found, key=lambda r: (r.rule, r.method))


def path_for(rule: str, values: dict) -> str:
    """The URL of `rule` with `values` for its arguments; an `any(...)` argument not given
    takes its first choice."""
    def fill(match: re.Match) -> str:
        conv, args, name = match.groups()
        if name in values:
            return str(values[name])
        if conv == "any":
            return args.split(",")[0].strip().strip("'\"")
        raise KeyError(f"no value for <{name}> in {rule}")

    return _ARG.sub(fill, rule)
