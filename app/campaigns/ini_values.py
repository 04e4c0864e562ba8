"""Checking one INI value: text -> the typed value a CampaignSpec holds, plus what to warn.

Each rule follows what the original POMS stores for the key (save_campaign in
webservice/CampaignsPOMS.py, fixup_recoveries in webservice/MiscPOMS.py, the columns of
webservice/poms_model.py). A value the original stores but that will fail later (a
completion type it never completes, an unknown split type, a parameter entry that is no
[key, value] pair) is kept as written with a warning saying what will fail; a value it
cannot store at all (not JSON where it loads JSON, not a number where its column is a
number) is a problem (_Bad). A parser returns (value, warnings).
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

from app.campaigns.ini_reading import did_you_mean
from app.campaigns.spec import COMPLETION_TYPES, MAX_INTEGER, ROLES, STAGE_TYPES

# The recovery types a job type may list (proj_status, the older name of process_status,
# is kept as written): those the recovery file lists know.
from app.catalog.recovery import RECOVERY_TYPES
from app.catalog.splits import parse_split_type

NONE_WORDS = ("None", "none")
# The original's spellings (save_campaign): a stage is active for these.
ACTIVE_WORDS = ("True", "true", "1", "Active")
INACTIVE_WORDS = ("False", "false", "0", "Inactive")
# Other spellings, read as a person means them where the original agrees.
TRUE_WORDS = ("true", "yes", "1", "on")
FALSE_WORDS = ("false", "no", "0", "off")
# Deeper JSON than any campaign value needs is refused before it can exhaust the stack
# (json.loads, copy.deepcopy and the database's JSON encoder all recurse).
MAX_JSON_DEPTH = 32
# Python reads no longer whole number (sys.get_int_max_str_digits); none is needed.
MAX_JSON_DIGITS = 4300

Checked = tuple[Any, list[str]]


class Bad(ValueError):
    """A value that cannot be used; its text is the reason, for a Problem."""


def unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]
    return raw


def _depth_and_bad_text(value: Any) -> tuple[int, str | None]:
    """How deep the JSON value nests, and the first text in it the database cannot store
    (one holding a NUL or half of a surrogate pair), if any."""
    deepest, bad, stack = 0, None, [(value, 1)]
    while stack and bad is None:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item or not _encodable(item):
                bad = item
        elif isinstance(item, list | dict):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                break
            if isinstance(item, dict):
                stack.extend((key, depth + 1) for key in item)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest, bad


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # "\ud800" read from JSON: half a character
        return False
    return True


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise Bad(f"holds the number {text}, too large to store (not a finite number)")
    return number


def _not_json_number(word: str):
    raise Bad(f"holds {word}, which is not a JSON number (the database cannot store it)")


def _whole(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_DIGITS:
        raise Bad(f"holds a number of {len(text.lstrip('-'))} digits; at most "
                  f"{MAX_JSON_DIGITS} are allowed")
    return int(text)


def load_json(raw: str) -> Any:
    """JSON as the original loads it (json.loads), quotes around the whole value allowed.
    What the database's JSON columns cannot hold is refused: NaN, Infinity and numbers too
    large for a float, text with a NUL or half a surrogate pair, deep nesting."""
    text = unquote(raw.strip())
    try:
        value = json.loads(text, parse_constant=_not_json_number, parse_float=_finite,
                           parse_int=_whole)
    except json.JSONDecodeError as err:
        raise Bad(f"is not valid JSON ({err.msg} at character {err.pos + 1}): {raw!r}") from None
    except RecursionError:
        value, depth, bad = None, MAX_JSON_DEPTH + 1, None
    else:
        depth, bad = _depth_and_bad_text(value)
    if depth > MAX_JSON_DEPTH:
        raise Bad(f"is JSON nested more than {MAX_JSON_DEPTH} levels deep; no campaign value "
                  "needs that many")
    if bad is not None and "\x00" in bad:
        raise Bad("holds a NUL character (\\u0000), which the database cannot store")
    if bad is not None:
        raise Bad(f"holds {json.dumps(bad)[:80]}: a \\uD800-\\uDFFF escape that is not half "
                  "of a pair is not a character, and the database cannot store it")
    return value


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_pair(item: Any) -> bool:
    return isinstance(item, list) and len(item) == 2 and all(isinstance(p, str) for p in item)


def check_parameter_list(value: Any, what: str = "") -> Checked:
    """A parameter list: a JSON list, kept as written. Each entry should be a [key, value]
    pair of strings; one that is not is kept, with a warning that launches using it fail
    (the original's launch_jobs turns the list into a dict: any other entry breaks it)."""
    if value is None:
        return [], []
    if not isinstance(value, list):
        raise Bad(f"{what}must be a JSON list of [key, value] pairs, like "
                  f'[["-c ", "file.cfg"]], not {_show(value)}')
    warnings = [
        f"{what}entry {number}, {_show(item)}, is not a [key, value] pair of two strings: it "
        "is kept as written, and every launch that uses it fails until it is fixed"
        for number, item in enumerate(value, start=1) if not _is_pair(item)
    ]
    return value, warnings


def parameter_list(raw: str) -> Checked:
    return check_parameter_list(load_json(raw))


def recoveries(raw: str) -> Checked:
    """[[recovery_type, parameters], ...]: fixup_recoveries stores entry[0] and entry[1]
    of each entry; get_recoveries (its export) gives them back as [name, parameters]."""
    value = load_json(raw)
    if value is None:
        return [], []
    if not isinstance(value, list):
        raise Bad("must be a JSON list of [recovery_type, [[key, value], ...]] entries, "
                  f"not {_show(value)}")
    out, warnings = [], []
    for number, entry in enumerate(value, start=1):
        if isinstance(entry, str):  # the oldest form: just the type name
            entry = [entry, []]
        if not (isinstance(entry, list) and len(entry) >= 2 and isinstance(entry[0], str)):
            raise Bad(f"recovery {number} must be [recovery_type, [[key, value], ...]], "
                      f"not {_show(entry)}")
        kind, params = entry[0], entry[1]
        if kind not in RECOVERY_TYPES:
            raise Bad(f"recovery {number}: unknown recovery type '{kind}'"
                      f"{did_you_mean(kind, RECOVERY_TYPES)}; known types are "
                      f"{', '.join(RECOVERY_TYPES)}")
        if len(entry) > 2:
            warnings.append(f"recovery {number} ({kind}): only its type and parameters are "
                            f"kept; {_show(entry[2:])} after them is ignored, as the "
                            "original POMS ignores it")
        params, said = check_parameter_list(params, f"recovery {number} ({kind}): parameter ")
        out.append([kind, params])
        warnings += said
    return out, warnings


def whole_number(raw: str, what: str) -> int:
    """A whole number its database column holds (MAX_INTEGER either way)."""
    text = raw.strip()
    found = re.fullmatch(r"([+-]?)0*([0-9]+)(?:\.0*)?", text)  # 95.0: a whole number as a real
    if not found:
        raise Bad(f"must be {what}, not {raw!r}")
    sign, digits = found.groups()
    if len(digits) > len(str(MAX_INTEGER)) or int(digits) > MAX_INTEGER:
        raise Bad(f"must be {what} from -{MAX_INTEGER} to {MAX_INTEGER} (what the database "
                  f"holds), not {text if len(text) <= 40 else text[:37] + '...'}")
    return -int(digits) if sign == "-" else int(digits)


def completion_pct(raw: str) -> Checked:
    number = whole_number(raw, "a whole number (a percentage)")
    if 0 <= number <= 100:
        return number, []
    meaning = ("a 'located' stage is Located as soon as it has outputs" if number < 0 else
               "a 'located' stage is Located only when the grace period ends or an operator "
               "forces it")
    return number, [f"{number} is not a percentage from 0 to 100: kept as written; {meaning}"]


def output_ancestor_depth(raw: str) -> Checked:
    number = whole_number(raw, "a whole number")
    if number >= 0:
        return number, []
    return number, [f"{number} is below 0: kept as written, it acts as 0 (outputs are "
                    "matched against the submission's own files)"]


def _original_bool(raw: str, key: str, otherwise: bool) -> Checked:
    """A boolean as save_campaign reads it: `otherwise` unless the value is exactly the
    other one's True/true or False/false. A word that says the other (yes, 0, TRUE...)
    reads as `otherwise` too, with a warning."""
    value = raw.strip()
    exact, words = (("False", "false"), FALSE_WORDS) if otherwise else (("True", "true"),
                                                                         TRUE_WORDS)
    if value in exact:
        return not otherwise, []
    if value.lower() in words or value.lower() not in (*TRUE_WORDS, *FALSE_WORDS):
        return otherwise, [f"{value!r} is read as {otherwise}, as the original POMS reads it: "
                           f"only {exact[0]} or {exact[1]} make {key} {not otherwise}"]
    return otherwise, []


def state(raw: str, ignored_means: str) -> Checked:
    """Active, Inactive, or the original's true/false words; any other word is ignored
    (ignored_means says what the state then is)."""
    value = raw.strip()
    if value in ACTIVE_WORDS or value.lower() in ("active", *TRUE_WORDS):
        return "Active", []
    if value in INACTIVE_WORDS or value.lower() in ("inactive", *FALSE_WORDS):
        return "Inactive", []
    return None, [f"{raw.strip()!r} is neither Active nor Inactive: ignored, {ignored_means}"
                  f"{did_you_mean(value, ('Active', 'Inactive'))}"]


def poms_role(raw: str) -> Checked:
    value = raw.strip()
    if value.lower() in ROLES:
        return value.lower(), []
    return "analysis", [f"{value!r} is not a campaign role: the campaign is taken as an "
                        f"analysis campaign{did_you_mean(value.lower(), ROLES)}"]


def _known_or_kept(raw: str, known: tuple[str, ...], then: str) -> Checked:
    """A word the original gives a meaning to; any other is kept as written, and `then`
    says what it does."""
    value = raw.strip()
    if value in known:
        return value, []
    listed = " nor ".join(f"'{k}'" for k in known) if len(known) == 2 else ", ".join(known)
    return value, [f"'{value}' is {'neither ' if len(known) == 2 else 'not one of '}{listed}"
                   f"{did_you_mean(value, known)}: kept as written; {then}"]


def completion_type(raw: str) -> Checked:
    return _known_or_kept(raw, COMPLETION_TYPES, "as in the original POMS its submissions "
                          "are never Located by themselves, so no recovery or dependent stage "
                          "follows them unless an operator forces Located")


def stage_type(raw: str) -> Checked:
    return _known_or_kept(raw, STAGE_TYPES, "the stage behaves as a regular one")


def split_type(raw: str) -> Checked:
    """The canonical form of a split type the launcher knows; any other text is kept as
    written (the original stores any text and fails when it launches)."""
    try:
        split = parse_split_type(raw)
    except ValueError as err:
        return raw.strip(), [f"{err}: kept as written, and every launch of the stage fails "
                             "until it is fixed"]
    return ("" if split.is_none else str(split)), []


def plain(raw: str) -> Checked:
    value = raw.strip()
    if value in NONE_WORDS:
        return value, [f"'{value}' is kept as the text '{value}', as the original POMS "
                       "stores it"]
    return value, []


def dataset(raw: str) -> Checked:
    value = raw.strip()
    return ("" if value in NONE_WORDS else value), []  # None: the stage reads no dataset


# Each stage key's checker. A typed key written None (which the original cannot store in
# its number or JSON column) is taken as not given: see stage_value.
STAGE_VALUE_CHECKS = {
    "vo_role": plain,
    "software_version": plain,
    "dataset_or_split_data": dataset,
    "cs_split_type": split_type,
    "completion_type": completion_type,
    "completion_pct": completion_pct,
    "param_overrides": parameter_list,
    "test_param_overrides": parameter_list,
    "merge_overrides": lambda raw: _original_bool(raw, "merge_overrides", False),
    "login_setup": lambda raw: (raw.strip(), []),
    "job_type": lambda raw: (raw.strip(), []),
    "stage_type": stage_type,
    "output_ancestor_depth": output_ancestor_depth,
    "default_clear_cronjob": lambda raw: _original_bool(raw, "default_clear_cronjob", True),
    "state": lambda raw: state(raw, "as if not given"),
}
NONE_IS_NOT_GIVEN = ("completion_pct", "param_overrides", "test_param_overrides",
                     "output_ancestor_depth")


def stage_value(key: str, raw: str) -> Checked:
    """The typed value of a stage key written `raw` (never empty here); value None means
    the key counts as not given."""
    if key in NONE_IS_NOT_GIVEN and raw.strip() in NONE_WORDS:
        return None, [f"'{raw.strip()}' is taken as not given, so the default applies (the "
                      "original POMS cannot store None here)"]
    return STAGE_VALUE_CHECKS[key](raw)


def is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))
