"""Reading a campaign INI file: text -> sections of key = value text, each placed in the file.

The file is read as the original POMS reads it (ini_to_campaign in webservice/poms_service.py
uses ``ConfigParser(interpolation=None)``): keys are lower-cased, values are kept as written
(``%(dataset)s`` and ``%%`` stay, they are substituted at launch), multi-line values join
their lines with ``\\n``, and a ``[DEFAULT]`` section gives its keys to every other section.
What the original refuses as a bad file format (a line outside any section, an unreadable
line, a key or a section given twice) is a problem here too, but every one in the file is
reported at once, with its line. Nothing here knows what a key means: that is checking
(app/campaigns/ini_checking.py).
"""
from __future__ import annotations

import configparser
import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field

from app.campaigns.spec import Problem

DEFAULT_SECTION = "DEFAULT"


@dataclass
class Section:
    """One section: its own keys and those [DEFAULT] gives it, as configparser merges them."""

    header: str  # as written between the brackets
    line: int
    values: dict[str, str]
    lines: dict[str, int]
    inherited: set[str] = field(default_factory=set)  # keys that come from [DEFAULT]


class Collector:
    """Where problems and warnings gather, each placed in the file."""

    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def problem(self, section, key, reason, line=None) -> None:
        self.problems.append(Problem(self.filename, section, key, reason, line))

    def warn(self, section, key, reason, line=None) -> None:
        self.warnings.append(Problem(self.filename, section, key, reason, line))


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _drop_lines_before_the_first_section(lines: list[str], out: Collector) -> None:
    """configparser stops at the first line before any section header: report and blank
    every such line, keeping the numbering."""
    header_re = configparser.RawConfigParser.SECTCRE
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if header_re.match(stripped):
            return
        out.problem(None, None, f"line is outside any section: {stripped!r}", index + 1)
        lines[index] = ""


def read_sections(text: str, out: Collector) -> tuple[list[Section], Section | None]:
    """The file's sections in order (without [DEFAULT], whose keys each section holds),
    and the [DEFAULT] section itself (None when the file has none).

    configparser is told to be lenient (strict=False) so that it reads the whole file; the
    duplicates it would have refused, and the lines it could not read, become problems.
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    _drop_lines_before_the_first_section(lines, out)

    state: dict = {"line": 0, "reading": True, "default": None}
    sections: list[Section] = []
    by_dict: dict[int, Section] = {}
    parser_defaults: list = []  # the parser's [DEFAULT] dict, once the parser exists

    def note_key(section: Section, key: str) -> None:
        if key in section.lines:
            out.problem(
                section.header, key,
                f"is given twice (lines {section.lines[key]} and {state['line']}); keep one",
                state["line"],
            )
        section.lines[key] = state["line"]

    class LineDict(dict):
        """configparser's dict_type: notes on which line each section and key appears."""

        def __setitem__(self, key, value):
            if state["reading"]:
                if isinstance(value, LineDict):  # a new section
                    section = Section(key, state["line"], {}, {})
                    sections.append(section)
                    by_dict[id(value)] = section
                elif isinstance(value, list) and id(self) in by_dict:  # a key's first line
                    note_key(by_dict[id(self)], key)
                elif isinstance(value, list) and parser_defaults and self is parser_defaults[0]:
                    if state["default"] is None:
                        state["default"] = Section(DEFAULT_SECTION, state["line"], {}, {})
                    note_key(state["default"], key)
            super().__setitem__(key, value)

        def __getitem__(self, key):
            value = super().__getitem__(key)
            # Reading, configparser looks a section up by name only when its header
            # appears again.
            if state["reading"] and isinstance(value, LineDict) and id(value) in by_dict:
                section = by_dict[id(value)]
                out.problem(
                    section.header, None,
                    f"section [{section.header}] appears twice (lines {section.line} and "
                    f"{state['line']}); merge them into one",
                    state["line"],
                )
            return value

    def numbered(rows: list[str]) -> Iterator[str]:
        for number, row in enumerate(rows, start=1):
            state["line"] = number
            yield row + "\n"
        state["reading"] = False

    parser = configparser.RawConfigParser(
        interpolation=None, strict=False, dict_type=LineDict, default_section=DEFAULT_SECTION,
    )
    parser_defaults.append(parser._defaults)  # noqa: SLF001  (to number [DEFAULT]'s lines)
    try:
        parser.read_file(numbered(lines), source=out.filename)
    except configparser.ParsingError as err:
        for number, _bad in err.errors:
            out.problem(
                None, None,
                f"cannot read this line: {lines[number - 1].strip()!r} is not 'key = value', "
                "a [section] header, a comment or an indented continuation of the value above",
                number,
            )
    state["reading"] = False

    default: Section | None = state["default"]
    if default is not None:
        default.values = {k: v for k, v in parser.defaults().items() if k}
    for section in sections:
        section.values = {key: parser.get(section.header, key)
                          for key in parser.options(section.header)
                          if key}  # '= value' (no key) was reported as unreadable
        if default is not None:
            section.inherited = {k for k in default.values if k not in section.lines}
            for key in section.inherited:
                section.lines[key] = default.lines.get(key, default.line)
    sections = _without_nul(sections, default, out)
    return sections, default


def _without_nul(sections: list[Section], default: Section | None,
                 out: Collector) -> list[Section]:
    """NUL bytes are refused wherever they stand: PostgreSQL cannot store them in text."""
    kept = []
    for section in ([default] if default is not None else []) + sections:
        if "\x00" in section.header:
            out.problem(section.header.replace("\x00", "\\0"), None,
                        "the section name holds a NUL byte (\\0)", section.line)
            continue
        for key in list(section.values):
            if "\x00" in key or "\x00" in section.values[key]:
                where = "key" if "\x00" in key else "value"
                if key not in section.inherited:
                    out.problem(section.header, key.replace("\x00", "\\0"),
                                f"the {where} holds a NUL byte (\\0)", section.lines.get(key))
                del section.values[key]
        if section is not default:
            kept.append(section)
    return kept
