"""The house between the rooms (issue 16): the layers are kept, and imports stay at the top.

The layers are import-linter contracts in pyproject.toml (docs/architecture.md says why
each package sits where it does); `make lint` and CI run `lint-imports`, and so does this
test, so `make test` alone tells too. An import inside a function hides a dependency from
the reader (and from the contracts' reader, who looks at the top of the module): each one
says why it cannot be at the top, in a `# why:` comment on its line or just above it.
"""
from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHECKED = ("app", "workers")


def function_level_imports_without_a_reason(source: str, name: str) -> list[str]:
    """`name:line: import ...` for each import inside a function (at any depth) that has no
    `# why:` comment on its own line(s) or in the comment lines just above it."""
    lines = source.splitlines()
    found = []

    def reason_given(node: ast.stmt) -> bool:
        own = lines[node.lineno - 1:node.end_lineno]
        if any("# why:" in line.lower() for line in own):
            return True
        above = node.lineno - 2
        while above >= 0 and lines[above].strip().startswith("#"):
            if "# why:" in lines[above].lower():
                return True
            above -= 1
        return False

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom) and in_function \
                    and not reason_given(child):
                what = ast.get_source_segment(source, child) or ""
                found.append(f"{name}:{child.lineno}: {' '.join(what.split())}")
            visit(child, in_function or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    visit(ast.parse(source, name), False)
    return found


def test_every_import_inside_a_function_says_why():
    offenders = []
    for package in CHECKED:
        for path in sorted((REPO / package).rglob("*.py")):
            offenders += function_level_imports_without_a_reason(
                path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))
    assert offenders == [], (
        "imports inside functions without a reason: move each to the top of its module, or "
        "say why it cannot be there in a `# why:` comment (an optional dependency, a "
        "fork-safety rule, ...):\n  " + "\n  ".join(offenders))


def test_the_check_finds_an_import_without_a_reason_and_accepts_one_with_it():
    source = '''
import os


def quiet():
    import json
    return json


class Engine:
    def bindings(self):
        # why: optional, and it reads CONDOR_CONFIG when it loads
        import htcondor2
        from rq import Retry  # why: fork safety
        if True:
            from x import y
        return htcondor2, Retry, y


def outer():
    def inner():
        import re
        return re
    return inner
'''
    assert function_level_imports_without_a_reason(source, "m.py") == [
        "m.py:6: import json", "m.py:16: from x import y", "m.py:22: import re"]


def test_the_layer_contracts_hold_with_no_exceptions():
    settings = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert settings["root_packages"] == ["app", "workers"]
    kinds = {contract["type"] for contract in settings["contracts"]}
    assert {"layers", "acyclic_siblings"} <= kinds
    for contract in settings["contracts"]:
        assert "ignore_imports" not in contract, f"{contract['name']} lists exceptions"
    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout
