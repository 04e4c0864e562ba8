"""cs_split_type text: what parse_split_type accepts, what it refuses and why."""
import pytest

from app.catalog.splits import SplitType, duration_seconds, parse_split_type


@pytest.mark.parametrize("text", ["", "None", "none", "  None  ", None])
def test_no_split_is_none(text):
    split = parse_split_type(text)
    assert split.name == "none"
    assert split.is_none
    assert str(split) == "none"


@pytest.mark.parametrize(
    "text, name, params, canonical",
    [
        ("nfiles(10000)", "nfiles", {"n": 10000}, "nfiles(10000)"),
        ("nfiles( 25 )", "nfiles", {"n": 25}, "nfiles(25)"),
        ("mod(4)", "mod", {"n": 4}, "mod(4)"),
        ("limitn(7)", "limitn", {"n": 7}, "limitn(7)"),
        ("drainingn(100)", "drainingn", {"n": 100}, "drainingn(100)"),
        ("stagedfiles(3)", "stagedfiles", {"n": 3}, "stagedfiles(3)"),
        ("list", "list", {}, "list"),
        ("draining", "draining", {}, "draining"),
        ("multiparam", "multiparam", {}, "multiparam"),
        ("byexistingruns", "byexistingruns", {}, "byexistingruns"),
        ("byexistingruns()", "byexistingruns", {}, "byexistingruns"),
        ("byrun(low=2,high=4)", "byrun", {"low": 2, "high": 4}, "byrun(low=2,high=4)"),
        ("byrun(high=40, low=3)", "byrun", {"low": 3, "high": 40}, "byrun(low=3,high=40)"),
        ("byrun(low=5)", "byrun", {"low": 5}, "byrun(low=5)"),
        # the original accepts it (and launches nothing: tests/launching/test_splits.py)
        ("byrun(low=9,high=2)", "byrun", {"low": 9, "high": 2}, "byrun(low=9,high=2)"),
        ("new", "new", {}, "new"),
        ("new()", "new", {}, "new"),
        ("new(window=6h)", "new", {"window": "6h"}, "new(window=6h)"),
        (
            "new(firsttime=1497934800, window=1w)",
            "new",
            {"firsttime": "1497934800", "window": "1w"},
            "new(window=1w,firsttime=1497934800)",
        ),
        (
            "new(window=1d,round=1h,fts=30m,localtime=1,firsttime=100,lasttime=200)",
            "new",
            {"window": "1d", "round": "1h", "fts": "30m", "localtime": "1",
             "firsttime": "100", "lasttime": "200"},
            "new(window=1d,round=1h,fts=30m,localtime=1,firsttime=100,lasttime=200)",
        ),
        ("new_local", "new_local", {}, "new_local"),
        ("new_local(window=2h)", "new_local", {"window": "2h"}, "new_local(window=2h)"),
    ],
)
def test_good_split_types(text, name, params, canonical):
    split = parse_split_type(text)
    assert split == SplitType(name, params)
    assert str(split) == canonical
    # the canonical text reads back to the same thing
    assert parse_split_type(str(split)) == split


@pytest.mark.parametrize(
    "text, reason",
    [
        ("nfile(10)", "unknown split type 'nfile' (did you mean 'nfiles'?)"),
        ("chunks(3)", "unknown split type 'chunks'"),
        ("nfiles", "needs exactly one positive whole number"),
        ("nfiles()", "needs exactly one positive whole number"),
        ("nfiles(0)", "needs a positive whole number, not '0'"),
        ("nfiles(-5)", "needs a positive whole number, not '-5'"),
        ("nfiles(ten)", "needs a positive whole number, not 'ten'"),
        ("mod(1.5)", "needs a positive whole number, not '1.5'"),
        ("mod(2,3)", "needs exactly one positive whole number"),
        ("draining(5)", "takes no arguments"),
        ("list(a)", "takes no arguments"),
        ("byrun(low=1,hi=4)", "has no argument 'hi' (did you mean 'high'?)"),
        ("byrun(low=x)", "low must be a run number"),
        ("byrun(3)", "takes name=value arguments"),
        ("byrun(low=1,low=2)", "is given 'low' twice"),
        ("new(windw=6h)", "has no argument 'windw' (did you mean 'window'?)"),
        ("new(window=6x)", "window: '6x' is not a number with an optional unit"),
        ("new(window=0)", "window must be at least one second"),
        ("new(round=)", "'round=' needs a value"),
        ("nfiles(10", "is not a split type"),
        ("nfiles(10) extra", "is not a split type"),
    ],
)
def test_bad_split_types_say_why(text, reason):
    with pytest.raises(ValueError) as err:
        parse_split_type(text)
    assert reason in str(err.value)


def test_unknown_type_lists_the_known_ones():
    with pytest.raises(ValueError) as err:
        parse_split_type("bogus")
    for name in ("nfiles", "byrun", "new_local", "stagedfiles", "multiparam"):
        assert name in str(err.value)


def test_split_type_is_hashable_and_frozen():
    split = parse_split_type("nfiles(3)")
    assert {split: 1}[parse_split_type("nfiles(3)")] == 1
    with pytest.raises(AttributeError):
        split.name = "mod"  # type: ignore[misc]


@pytest.mark.parametrize(
    "value, seconds", [("6h", 21600), ("1w", 604800), ("30m", 1800), ("90", 90), ("1.5d", 129600)]
)
def test_durations(value, seconds):
    assert duration_seconds(value) == seconds
