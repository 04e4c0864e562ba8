"""Campaign INI files made to break the importer, reproducibly: case(seed, number) is always
the same bytes, whatever ran before it (each case has its own random.Random).

Half the cases are real campaign files (../shared/examples: Mu2e's production files, the
original's samples, the tutorial) put through one to four mutations; the other half are
written from the grammar of a campaign file, with values from a catalogue of trouble
(empty, None, huge, unicode, control characters, NUL, JSON 10,000 levels deep, malformed
JSON, numbers out of range, placeholders, shell words, very long lines). Either may then
get other line endings, a byte order mark or bytes that are not UTF-8.

Campaign, job type and login setup names are mostly drawn from small pools, so that later
cases update what earlier ones made (the database stays small, and updates are fuzzed as
well as creations).
"""
from __future__ import annotations

import configparser
import json
import random
import re
from dataclasses import dataclass
from functools import cache

from app.campaigns.ini import CAMPAIGN_KEYS, JOB_TYPE_KEYS, LOGIN_SETUP_KEYS
from app.campaigns.spec import STAGE_KEYS
from tests.campaigns.support import names_used_not_defined
from tests.fixtures.app import EXAMPLES

EXPERIMENTS = ("mu2e", "samdev", "sample")  # the experiments the real files name
CAMPAIGN_NAMES = [f"fuzz_campaign_{n}" for n in range(12)]
JOB_TYPES = [f"fuzz_jt_{n}" for n in range(6)]
LOGIN_SETUPS = [f"fuzz_ls_{n}" for n in range(6)]
STAGE_NAMES = ["gen", "sim", "digi", "reco", "ana", "merge", "s1", "s2", "s3", "s4"]

DEEP = 10_000
NESTED = "[" * DEEP + "]" * DEEP
NESTED_OBJECT = '{"a":' * DEEP + "1" + "}" * DEEP

# Text that has broken parsers before, or should not reach the database as it is.
UNICODE = ["é", "日本語", "\u202e", "\u200b", "🙂", "\u2028", "\u2029", "\x85", "\ufeff",
           "e\u0301", "ß", "İ", "ı", "\uffff", "\U0010ffff", "Ω", "ﬁ", "\u0130\u0131"]
CONTROL = [chr(c) for c in (*range(1, 9), 11, 12, *range(14, 32), 127)] + ["\x1b[31m"]
SHELL = ["; rm -rf / #", "$(id)", "`id`", "| cat /etc/passwd", "&& echo pwned", "> /tmp/x",
         "'\"", "\\", "$UPLOADS/x.cfg", "${HOME}", "*", "~root", "\"$(touch /tmp/p)\"",
         "a\\\nb", "--help", "-oProxyCommand=id"]
PLACEHOLDERS = ["%(dataset)s", "%", "%%", "%(x)s", "%(", "%()s", "%(" * 200, "%(dataset)",
                "%(experiment)spro", "%%triga%%", "%s%s%s", "%(release_v_o)s"]
NUMBERS = ["-1", "0", "100", "101", "2147483647", "2147483648", "-2147483649",
           "9223372036854775807", "9223372036854775808", "-9223372036854775809",
           "1" + "0" * 40, "9" * 5000, "1e3", "95.0", "95.5", "0x10", "+5", " 7 ", "٣",
           "1_000", "-0", "inf", "nan", "1e999", "00000000000000000095"]
JSON_TROUBLE = [
    NESTED, NESTED_OBJECT, "[" * 33 + "]" * 33, "[" * 32 + "]" * 32, "[" * 31 + "]" * 31,
    "[" * DEEP, "]" * 50, "[[", '[["a", "b"]', "{", '{"a" 1}', "[1,]", "'[]'", '"[]',
    '["a\\x"]', "[NaN]", "[Infinity]", "[-Infinity]", "[1e999]", "[-1e999]",
    "[" + "9" * 5000 + "]", "[9223372036854775808]", '[["a", "\\ud800"]]',
    '[["a", "\\udfff\\ud800"]]', '[["a", "\\u0000"]]', '{"a": 1, "a": 2}', '"string"', "123",
    "true", "null", "[]", "{}", '[["a", "b"]]', '[["a", 1]]', '[{"a": "b"}]', '[["-c ", "x"]]',
    '[["a", ["b", ["c"]]]]', '[["\\u0000", "b"]]', '{"\\u0000": 1}', '{"\\ud800": 1}',
    '{"run": "1234"}', '{"a": {"b": {"c": [1, 2, {"d": null}]}}}', '[' + '"x",' * 5000 + '"x"]',
    '[["proj_status", [["-Osubmit.dataset=", "%(dataset)s"]]]]', '[["unknown_type", []]]',
    '["proj_status"]', '[["proj_status"]]', '[["proj_status", [], "extra"]]',
    '[["process_status", {"a": 1}]]', '[[1, 2]]', '"[[\\"a\\", \\"b\\"]]"', '\'[["a", "b"]]\'',
    '["stage", 1e999, 0]', '["stage", NaN, 1]', '["gen", 10, 20]', '["gen", "x", 1]',
    '[1, 2, 3]', '[["a", "b"], ["c", "d"]]' * 3, '[["-Oglobal.x=","%(dataset)s"]]']
SPLITS = ["None", "none", "nfiles(10)", "nfiles(0)", "nfiles(-1)", "nfiles(" + "9" * 5000 + ")",
          "mod(3)", "mod(99999999999999999999)", "byrun(low=1,high=10)",
          "byrun(low=99999999999999999999,high=1)", "byrun(low=1,low=2)", "list", "draining",
          "new(window=1d)", "new(window=0s)", "new(window=99999999999999999999w)",
          "limitn(5)", "stagedfiles(10)", "multiparam", "nfiles", "nfiles()", "nfiles(1,2)",
          "(", ")(", "nfiles((3))", "unknown_split(3)", "NFILES(3)"]
WORDS = {
    "completion_type": ["complete", "located", "Located", "finished", ""],
    "stage_type": ["regular", "test", "generator", "approval", "datatransfer", "weird"],
    "merge_overrides": ["True", "true", "False", "false", "yes", "1", "TRUE", "maybe"],
    "default_clear_cronjob": ["True", "False", "false", "no", "0"],
    "state": ["Active", "Inactive", "True", "0", "Paused", "active"],
    "poms_role": ["analysis", "production", "Production", "superuser", "ANALYSIS", ""],
    "vo_role": ["Analysis", "Production", "None", "none"],
    "software_version": ["v1", "MDC2020t", "v1_0", "None"],
    "host": ["pomsgpvm01.fnal.gov", "mu2egpvm01.fnal.gov", "-oProxyCommand=id", "a b",
             "host\tname", "localhost", "%(experiment)sgpvm01.fnal.gov", "[::1]", "::1"],
    "account": ["mu2epro", "poms_launcher", "%(experiment)spro", "-l", "root", "a b", "$USER"],
    "setup": ["setup fife_utils v3_5_0, poms_client, poms_jobsub_wrapper;",
              "source /cvmfs/x/setup.sh; setup poms_client", "export X=$(id)"],
    "launch_script": ["fife_launch", "fife_launch -Oglobal.dataset=%(dataset)s",
                      "echo $(id); fife_launch", "true"],
    "output_file_patterns": ["%.art", "%.fcl", "%", "%.art,%.root", "*.art", ""],
    "file_pattern": ["%.art", "%.fcl", "%", "", "%%triga%%", "%(dataset)s"],
    "tags": ["a, b", "a,a", "x" * 70, ", , ,", "tag with space"],
}


@dataclass
class Case:
    number: int
    kind: str  # how it was made, e.g. "mutated CampaignConfig_mdc2020.ini: value, crlf"
    data: bytes

    @property
    def filename(self) -> str:
        return f"fuzz-{self.number}.ini"


@cache
def real_files() -> dict[str, str]:
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.rglob("*.ini"))}
    assert len(files) >= 20, f"the real campaign files are missing from {EXAMPLES}"
    return files


@cache
def real_values() -> dict[str, list[str]]:
    """Every value each key has in the real files (what a known key is usually given)."""
    found: dict[str, set[str]] = {}
    for text in real_files().values():
        parser = configparser.RawConfigParser(strict=False)
        try:
            parser.read_string(text)
        except configparser.Error:
            continue
        for section in parser.sections():
            for key, value in parser.items(section):
                found.setdefault(key, set()).add(value)
    return {key: sorted(values) for key, values in found.items()}


def shared_definitions_needed() -> dict[str, tuple[set[str], set[str], str]]:
    """file -> (job types, login setups its stages name but it does not define, role): what
    the experiments must hold for the real files to import (tests/campaigns/support.py)."""
    needed = {}
    for name, text in real_files().items():
        try:
            job_types, login_setups = names_used_not_defined(text)
        except configparser.Error:
            continue
        role = ("production" if re.search(r"(?im)^\s*poms_role\s*=\s*production", text)
                else "analysis")
        needed[name] = (job_types, login_setups, role)
    return needed


# --- values ------------------------------------------------------------------------------


def _unicode(rng: random.Random) -> str:
    return "".join(rng.choice(UNICODE) for _ in range(rng.randint(1, 6)))


def _control(rng: random.Random) -> str:
    return rng.choice(CONTROL)


def trouble(rng: random.Random) -> str:
    """One value from the catalogue of trouble."""
    kind = rng.randrange(16)
    if kind == 0:
        return rng.choice(["", " ", "None", "none", "NONE", "null", '""', "''"])
    if kind == 1:
        return rng.choice(["x", "é", "%"]) * rng.choice([256, 513, 5_000, 70_000])
    if kind == 2:
        return "a" + _unicode(rng) + "b"
    if kind == 3:
        return "a" + _control(rng) + "b"
    if kind == 4:
        return rng.choice(["\x00", "a\x00b", "\x00" * 3, "[\"\x00\"]"])
    if kind in (5, 6, 7):
        return rng.choice(JSON_TROUBLE)
    if kind == 8:
        return rng.choice(NUMBERS)
    if kind == 9:
        return rng.choice(PLACEHOLDERS)
    if kind == 10:
        return rng.choice(SHELL)
    if kind == 11:
        return "line " * rng.choice([2_000, 40_000])
    if kind == 12:  # a multi-line value: continuation lines, some of which look like others
        looks_like = ["a", "[campaign]", "# not a comment?", "; nor this", "k = v", "", "  ",
                      "\t[x]", "%(dataset)s", "]"]
        lines = [rng.choice(looks_like) for _ in range(rng.randint(1, 4))]
        return "first\n" + "\n".join(rng.choice(["\t", " ", "    "]) + line for line in lines)
    if kind == 13:
        return rng.choice(SPLITS)
    if kind == 14:
        return rng.choice(sum(WORDS.values(), []))
    return _mangle(rng, rng.choice(rng.choice(list(real_values().values()))))


def _mangle(rng: random.Random, value: str) -> str:
    """A real value with something done to it."""
    if not value:
        return trouble(rng)
    at = rng.randrange(len(value) + 1)
    choice = rng.randrange(6)
    if choice == 0:
        return value[:at]
    if choice == 1:
        return value[:at] + trouble(rng) + value[at:]
    if choice == 2:
        return value * rng.randint(2, 50)
    if choice == 3:
        return value.upper()
    if choice == 4:
        return value[:at] + value[at + 1:]
    return value[:at] + rng.choice('[]{}",\'\\%()') + value[at:]


def value_for(rng: random.Random, key: str, heat: float = 0.3) -> str:
    """A value for `key`: one it may well have, or trouble (with probability `heat`)."""
    if rng.random() < heat:
        return trouble(rng)
    if key in WORDS and rng.random() < 0.6:
        return rng.choice(WORDS[key])
    if key in ("param_overrides", "test_param_overrides", "parameters"):
        pairs = [[rng.choice(["-c ", "--stage ", "-Oglobal.x=", "--", "-e "]),
                  rng.choice(["x.cfg", "%(dataset)s", "reco", "$UPLOADS/a.cfg", "a b"])]
                 for _ in range(rng.randint(0, 3))]
        return json.dumps(pairs)
    if key == "recoveries":
        kinds = ["proj_status", "process_status", "consumed_status", "pending_files",
                 "added_files", "delivered_not_consumed"]
        return json.dumps([[rng.choice(kinds), [["-Osubmit.dataset=", "%(dataset)s"]]]
                           for _ in range(rng.randint(0, 2))])
    if key == "campaign_keywords":
        return json.dumps({rng.choice(["run", "release", "a", "É"]): rng.choice(["1", "x", 3])})
    if key == "completion_pct":
        return str(rng.choice([0, 50, 95, 100]))
    if key == "output_ancestor_depth":
        return str(rng.choice([0, 1, 2]))
    if key == "cs_split_type":
        return rng.choice(SPLITS)
    if key in ("dataset_or_split_data", "dataset"):
        return rng.choice(["None", "mc.mu2e.dataset.v1.art", "from_parent", "a,b,c", ""])
    known = real_values().get(key)
    if known:
        return rng.choice(known)
    return rng.choice(["x", "v1", "1"])


def odd_key(rng: random.Random, key: str) -> str:
    """A key as someone might mistype it, or as a parser might misread it."""
    choice = rng.randrange(10)
    if choice == 0:
        return key.upper()
    if choice == 1:
        return key.title()
    if choice == 2:
        return key + "s"
    if choice == 3:
        return key.replace("_", "-")
    if choice == 4:
        return f"{key}:{key}"  # ':' is a delimiter too
    if choice == 5:
        return "  " + key
    if choice == 6:
        return key + _unicode(rng)
    if choice == 7:
        return rng.choice(["", "#" + key, ";" + key, "[" + key, key + "]", "%(x)s"])
    if choice == 8:
        return key + _control(rng)
    return rng.choice(["foo", "campaign_stage_listt", "dataset", "DEFAULT", "name ", "x" * 300])


# --- files from the grammar ---------------------------------------------------------------


def _line(rng: random.Random, key: str, value: str) -> str:
    sep = rng.choice([" = ", "=", " =", "= ", ": ", "\t=\t"]) if rng.random() < 0.3 else " = "
    lines = value.split("\n")
    # A multi-line value must be indented after its first line to stay one value.
    return f"{key}{sep}{lines[0]}" + "".join(
        "\n" + (line if line[:1] in (" ", "\t") else "\t" + line) for line in lines[1:])


def _section(rng: random.Random, header: str, keys: list[str], heat: float) -> list[str]:
    out = [f"[{header}]"]
    for key in keys:
        written = odd_key(rng, key) if rng.random() < heat / 4 else key
        out.append(_line(rng, written, value_for(rng, key, heat)))
        if rng.random() < heat / 8:  # the key again
            out.append(_line(rng, key, value_for(rng, key, heat)))
    if rng.random() < heat / 4:
        out.append(_line(rng, odd_key(rng, rng.choice(keys or ["x"])), trouble(rng)))
    return out + [""]


def _name(rng: random.Random, pool: list[str], heat: float = 0.1) -> str:
    if rng.random() >= heat:
        return rng.choice(pool)
    return rng.choice([rng.choice(pool) + _unicode(rng), rng.choice(pool) + _control(rng),
                       rng.choice(pool).upper(), "x" * rng.choice([255, 256, 600]), "a b",
                       "a/b", "a,b", "a]b", "..", "%(x)s", "$(id)", " ", "\x00", "-rf",
                       rng.choice(pool) + " " + rng.choice(pool)])


def _header(rng: random.Random, kind: str, name: str | None = None,
            heat: float = 0.15) -> str:
    header = kind if name is None else f"{kind} {name}"
    if rng.random() < heat / 4:
        header = rng.choice([header.upper(), header.title(), f" {header} ",
                             header.replace(" ", "  "), header + "]", "[" + header,
                             header.replace("_", "-"), kind + "_" + (name or "x")])
    return header


def grammar_file(rng: random.Random) -> tuple[str, list[str]]:
    """(text, what was done): a campaign file written from the grammar. Each file has its
    own heat, the chance that any one value or key is trouble: cool files mostly import,
    hot ones are mostly refused."""
    heat = rng.choice([0.0, 0.0, 0.02, 0.05, 0.05, 0.1, 0.2, 0.4])
    done = [f"heat {heat}"]
    many = rng.random() < 0.006
    if many:
        count = rng.choice([450, 500, 501, 2_000, 5_000])
        done.append(f"{count} stages")
        stage_names = [f"stage_{n}" for n in range(count)]
    else:
        stage_names = rng.sample(STAGE_NAMES, rng.randint(0 if rng.random() < heat else 1, 6))
        if rng.random() < heat:
            stage_names += [_name(rng, STAGE_NAMES, 1.0)]
    job_types = rng.sample(JOB_TYPES, rng.randint(0, 3))
    login_setups = rng.sample(LOGIN_SETUPS, rng.randint(0, 2))
    # Names the stages may use: those the file defines, and those the world holds.
    usable_job_types = job_types + JOB_TYPES[:2]
    usable_login_setups = login_setups + LOGIN_SETUPS[:2]
    sections: list[list[str]] = []
    role = rng.choice(["analysis", "production"])

    campaign = [f"[{_header(rng, 'campaign', heat=heat)}]"]
    if rng.random() < 1 - heat / 4:
        campaign.append(_line(rng, "experiment", "mu2e" if rng.random() >= heat else rng.choice(
            ["", "dune", "MU2E", "mu2e ", "x" * 80, "mu2e" + _control(rng), "samdev"])))
    campaign.append(_line(rng, "name", _name(rng, CAMPAIGN_NAMES, heat)))
    campaign.append(_line(rng, "poms_role", role if rng.random() >= heat
                          else value_for(rng, "poms_role", heat)))
    for key in rng.sample(["state", "campaign_stage_list", "campaign_keywords", "tags"],
                          rng.randint(0, 4)):
        value = (", ".join(stage_names) if key == "campaign_stage_list" and rng.random() >= heat
                 else value_for(rng, key, heat))
        campaign.append(_line(rng, key, value))
    if rng.random() >= heat / 4:
        sections.append(campaign + [""])
    else:
        done.append("no [campaign]")

    def stage_keys() -> list[str]:
        keys = [k for k in STAGE_KEYS if k not in ("job_type", "login_setup")]
        return rng.sample(keys, rng.randint(0, 5 if not many else 1))

    section = _section(rng, _header(rng, "campaign_defaults", heat=heat), stage_keys(), heat)
    section[1:1] = [_line(rng, "job_type", rng.choice(usable_job_types)),
                    _line(rng, "login_setup", rng.choice(usable_login_setups))]
    sections.append(section)
    for stage in stage_names:
        keys = stage_keys()
        section = _section(rng, _header(rng, "campaign_stage", stage, heat), keys, heat)
        if rng.random() < 0.2:
            section.insert(1, _line(rng, "job_type", rng.choice(usable_job_types)))
        if rng.random() < 0.1:
            section.insert(1, _line(rng, "dataset", value_for(rng, "dataset", heat)))
        if rng.random() < heat / 2:
            section.insert(1, _line(rng, rng.choice(["job_type", "login_setup"]),
                                    _name(rng, JOB_TYPES + LOGIN_SETUPS, 0.5)))
        sections.append(section)
    # Dependencies: chains, stages depending on themselves, unknown parents, odd numbers.
    for index, child in enumerate(stage_names[: 50 if many else None]):
        if index and rng.random() < 0.4:
            lines = [f"[{_header(rng, 'dependencies', child, heat)}]"]
            for n in range(1, rng.randint(1, 3) + 1):
                parent = (rng.choice(stage_names[:index]) if rng.random() >= heat
                          else rng.choice([child, "nowhere", *stage_names]))
                number = str(n) if rng.random() >= heat else rng.choice(
                    ["x", "01", "0", "-1", "99999999999999999999", "9" * 5000, ""])
                lines.append(_line(rng, f"campaign_stage_{number}", parent))
                if rng.random() >= heat / 4:
                    lines.append(_line(rng, f"file_pattern_{number}",
                                       value_for(rng, "file_pattern", heat)))
            sections.append(lines + [""])
    if len(stage_names) >= 2 and rng.random() < 0.05:
        a, b = rng.sample(stage_names, 2)
        done.append("cycle")
        sections.append([f"[dependencies {a}]", f"campaign_stage_5 = {b}",
                         "file_pattern_5 = %", ""])
        sections.append([f"[dependencies {b}]", f"campaign_stage_6 = {a}",
                         "file_pattern_6 = %", ""])
    if stage_names and rng.random() < 0.05:
        done.append("self-dependency")
        stage = rng.choice(stage_names)
        sections.append([f"[dependencies {stage}]", f"campaign_stage_9 = {stage}",
                         "file_pattern_9 = %.art", ""])
    for name in login_setups:
        section = _section(rng, _header(rng, "login_setup", name, heat), ["setup"], heat)
        # The host and account ssh would run as: plain, unless this file runs hot.
        section[1:1] = [_line(rng, "host", rng.choice(WORDS["host"][:2]) if rng.random() >= heat
                              else value_for(rng, "host", heat)),
                        _line(rng, "account", rng.choice(WORDS["account"][:3])
                              if rng.random() >= heat else value_for(rng, "account", heat))]
        sections.append(section)
    for name in job_types:
        sections.append(_section(rng, _header(rng, "job_type", name, heat),
                                 rng.sample(JOB_TYPE_KEYS, rng.randint(1, 4)), heat))
    if stage_names and rng.random() < 0.15:
        lines = ["[node_positions]"]
        for n, stage in enumerate(stage_names[:20]):
            good = json.dumps([stage, rng.randint(-10, 1000), rng.random() * 100])
            lines.append(_line(rng, f"nxy{n}", good if rng.random() >= heat
                               else rng.choice(JSON_TROUBLE)))
        sections.append(lines + [""])
    if rng.random() < 0.1:
        done.append("[DEFAULT]")
        key = rng.choice([*STAGE_KEYS, "name", "host", "launch_script", "foo", "file_pattern_1"])
        sections.insert(rng.randrange(len(sections) + 1),
                        [f"[{rng.choice(['DEFAULT', 'DEFAULT', 'default'])}]",
                         _line(rng, key, value_for(rng, key, heat)), ""])
    if rng.random() < heat / 2:
        done.append("unknown section")
        unknown = ["foo", "campaign_stages x", "Campaign", "campaign x", "job_type", "", " "]
        sections.insert(rng.randrange(len(sections) + 1),
                        [f"[{rng.choice(unknown)}]", "a = b", ""])
    if sections and rng.random() < heat / 4:
        done.append("section twice")
        sections.append(list(rng.choice(sections)))
    if not many and rng.random() < heat / 4:
        done.append("sections shuffled")
        rng.shuffle(sections)
    return "\n".join(line for section in sections for line in section), done


# --- mutations of real files --------------------------------------------------------------

_ASSIGNMENT = re.compile(r"^(\s*)([^=:\s\[#;][^=:]*?)(\s*[=:]\s*)(.*)$")


def _mutate(rng: random.Random, lines: list[str], heat: float) -> str:
    """One mutation of the file's lines, in place; returns its name."""
    if not lines:
        lines.append("[campaign]")
    at = rng.randrange(len(lines))
    assignments = [i for i, line in enumerate(lines) if _ASSIGNMENT.match(line)]
    headers = [i for i, line in enumerate(lines) if line.startswith("[")]
    stages = [re.sub(r"^\[campaign_stage\s+(.*)\]\s*$", r"\1", lines[i]) for i in headers
              if lines[i].startswith("[campaign_stage ")]
    choice = rng.randrange(15)
    if choice <= 3 and assignments:  # a value replaced
        i = rng.choice(assignments)
        indent, key, sep, _value = _ASSIGNMENT.match(lines[i]).groups()
        lines[i] = _line(rng, indent + key, value_for(rng, key.strip().lower(), heat))
        return "value"
    if choice == 4 and assignments:
        i = rng.choice(assignments)
        indent, key, sep, value = _ASSIGNMENT.match(lines[i]).groups()
        lines[i] = indent + odd_key(rng, key) + sep + value
        return "key"
    if choice == 5:
        key = rng.choice([*STAGE_KEYS, *CAMPAIGN_KEYS, *JOB_TYPE_KEYS, *LOGIN_SETUP_KEYS, "foo"])
        lines.insert(at + 1, _line(rng, key, value_for(rng, key, heat)))
        return "line added"
    if choice == 6:
        del lines[at: at + rng.choice([1, 1, 2, 5])]
        return "lines removed"
    if choice == 7:
        lines.insert(at, lines[rng.randrange(len(lines))])
        return "line repeated"
    if choice == 8 and headers:
        i = rng.choice(headers)
        inner = lines[i].strip()[1:-1]
        kind, _sp, name = inner.partition(" ")
        odd = _header(rng, kind, name or None) if rng.random() < 0.5 else odd_key(rng, inner)
        lines[i] = f"[{odd}]"
        return "header"
    if choice == 9 and stages:  # a dependency on itself, or a cycle
        a, b = rng.choice(stages), rng.choice(stages)
        lines += ["", f"[dependencies {a}]", f"campaign_stage_7 = {b}", "file_pattern_7 = %",
                  "", f"[dependencies {b}]", f"campaign_stage_8 = {a}", "file_pattern_8 = %"]
        return "cycle"
    if choice == 10:
        key = rng.choice([*STAGE_KEYS, "name", "foo", "host"])
        lines[0:0] = ["[DEFAULT]", _line(rng, key, value_for(rng, key, heat)), ""]
        return "[DEFAULT]"
    if choice == 11:  # an indentation added or taken away
        lines[at] = lines[at].strip() if lines[at][:1] in " \t" else "\t" + lines[at]
        return "indent"
    if choice == 12 and headers:  # a section repeated, or moved
        i = rng.choice(headers)
        j = next((k for k in headers if k > i), len(lines))
        block = lines[i:j]
        if rng.random() < 0.5:
            lines += [""] + block
            return "section twice"
        del lines[i:j]
        lines.insert(rng.randrange(len(lines) + 1), "\n".join(block))
        return "section moved"
    if choice == 13 and stages:  # many copies of a stage
        i = next(k for k in headers if lines[k].startswith("[campaign_stage "))
        j = next((k for k in headers if k > i), len(lines))
        count = rng.choice([20, 20, 20, 200, 600])
        lines += [line.replace(lines[i], f"[campaign_stage copy_{n}]")
                  for n in range(count) for line in lines[i:j]]
        return f"{count} more stages"
    text = "\n".join(lines)
    cut = rng.randrange(len(text) + 1)
    lines[:] = [text[:cut] + trouble(rng) + text[cut:]] if rng.random() < 0.5 else [text[:cut]]
    return "text spliced"


def mutated_file(rng: random.Random) -> tuple[str, list[str]]:
    name = rng.choice(sorted(real_files()))
    lines = real_files()[name].split("\n")
    heat = rng.choice([0.0, 0.1, 0.3, 0.5])
    done = [_mutate(rng, lines, heat) for _ in range(rng.choice([1, 1, 2, 3, 4]))]
    return "\n".join(lines), [f"mutated {name}", f"heat {heat}", *done]


# --- the bytes ----------------------------------------------------------------------------


def _encode(rng: random.Random, text: str, done: list[str]) -> bytes:
    if rng.random() < 0.06:
        ending = rng.choice(["\r\n", "\r", "mixed"])
        done.append(f"line endings {ending!r}")
        if ending == "mixed":
            text = "".join(line + rng.choice(["\n", "\r\n", "\r"])
                           for line in text.split("\n"))
        else:
            text = text.replace("\n", ending)
    if rng.random() < 0.03:
        done.append("BOM")
        text = "\ufeff" + text
    if rng.random() < 0.02:
        done.append("trailing blanks")
        text = text.replace("\n", " \t\n")
    data = text.encode("utf-8", "surrogatepass")
    roll = rng.random()
    if roll < 0.03:
        done.append("bytes not UTF-8")
        at = rng.randrange(len(data) + 1)
        bad = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80", b"\xf8\x88\x80\x80\x80",
                          bytes(rng.randrange(256) for _ in range(8))])
        data = data[:at] + bad + data[at:]
    elif roll < 0.04:
        encoding = rng.choice(["utf-16", "latin-1", "cp1252"])
        done.append(encoding)
        data = text.encode(encoding, "replace")
    return data


def case(seed: int, number: int) -> Case:
    """Case `number` of the run with `seed`: the same bytes every time."""
    rng = random.Random(f"{seed}/{number}")
    text, done = mutated_file(rng) if rng.random() < 0.5 else grammar_file(rng)
    data = _encode(rng, text, done)
    return Case(number, ", ".join(done) or "grammar", data)
