"""SAM's dimension language: what reads, what is refused (and why), and what it selects."""
import pytest

from app.catalog.dimensions import (
    DefName,
    DimensionError,
    Lineage,
    Modified,
    Not,
    Predicate,
    SetOp,
    parse,
    quote,
)


@pytest.mark.parametrize(
    "text, tree",
    [
        ("defname: mydata", DefName("mydata")),
        ("defname:mydata", DefName("mydata")),
        ("DEFNAME: 'my data'", DefName("my data")),
        ("file_name like 'x%'", Predicate("file_name", "like", ("x%",))),
        ("file_name a.art,b.art", Predicate("file_name", "=", ("a.art", "b.art"))),
        ("version v1", Predicate("version", "=", ("v1",))),
        ("VERSION v1", Predicate("version", "=", ("v1",))),
        ("create_date > '2026-01-01'", Predicate("create_date", ">", ("2026-01-01",))),
        ("create_date >= 2026-01-01T10:00:00", Predicate("create_date", ">=",
                                                         ("2026-01-01T10:00:00",))),
        ("run_number 5-9", Predicate("run_number", "=", ("5-9",))),
        ("run_number in (1, 3)", Predicate("run_number", "in", ("1", "3"))),
        ("file_name not like '%.log'", Predicate("file_name", "not like", ("%.log",))),
        ("consumed_status 'co%'", Predicate("consumed_status", "=", ("co%",))),
        ("Mu2e.description reco", Predicate("Mu2e.description", "=", ("reco",))),
        ("ischildof:( snapshot_for_project_name P )",
         Lineage("ischildof", Predicate("snapshot_for_project_name", "=", ("P",)))),
        ("isparentof:(version v1)", Lineage("isparentof", Predicate("version", "=", ("v1",)))),
        ("not version v1", Not(Predicate("version", "=", ("v1",)))),
        ("defname: a with limit 10", Modified(DefName("a"), limit=10)),
        ("defname: a with stride 4 offset 1", Modified(DefName("a"), stride=4, offset=1)),
        ("defname: a with availability anylocation",
         Modified(DefName("a"), availability="anylocation")),
    ],
)
def test_good_dimensions(text, tree):
    assert parse(text) == tree


def test_and_binds_tighter_than_or_and_minus():
    a, b, c = (Predicate("version", "=", (v,)) for v in "abc")
    assert parse("version a or version b and version c") == SetOp(
        "or", a, SetOp("and", b, c))
    assert parse("version a minus version b and version c") == SetOp(
        "minus", a, SetOp("and", b, c))
    assert parse("(version a minus version b) and version c") == SetOp(
        "and", SetOp("minus", a, b), c)
    assert parse("version a minus version b minus version c") == SetOp(
        "minus", SetOp("minus", a, b), c)


def test_with_applies_to_its_group():
    tree = parse("(defname: a with limit 2) or defname: b")
    assert tree == SetOp("or", Modified(DefName("a"), limit=2), DefName("b"))
    assert parse("defname: a or defname: b with limit 2") == Modified(
        SetOp("or", DefName("a"), DefName("b")), limit=2)


def test_the_original_pending_files_dimensions_read():
    text = (
        "snapshot_for_project_name p1 minus (  isparentof:( isparentof:(  version v1_0 and "
        "file_name like %.art and create_date > '2026-01-01T10:00:00+0000' )) and "
        "isparentof:( isparentof:( version v1_0 and file_name like %.log and "
        "create_date > '2026-01-01T10:00:00+0000' )) )"
    )
    tree = parse(text)
    assert isinstance(tree, SetOp) and tree.op == "minus"


@pytest.mark.parametrize(
    "text, message, position",
    [
        ("", "empty dimensions", None),
        ("version", "expected a value after 'version'", 8),
        ("version v1 and", "the dimensions end where a dimension was expected", 15),
        ("(version v1", "expected ')' to close the '(' opened at position 1", 12),
        ("version v1)", "')' without a matching '('", 11),
        ("version v1 run_number 3", "unexpected 'run_number'", 12),
        ("defname:", "expected a definition name after 'defname'", 9),
        ("ischildof: version v1", "expected '(' after 'ischildof:'", 12),
        ("file_name 'abc", "unclosed quote '", 11),
        ("defname: a with", "expected limit, offset, stride or availability after 'with'", 12),
        ("defname: a with limit ten", "'limit' needs a whole number", 23),
        ("defname: a with limit 1 limit 2", "'limit' is given twice", 31),
        ("and version v1", "expected a dimension, found 'and'", 1),
        ("version v1 ; drop table", "unexpected character ';'", 12),
        ("file_name a,", "expected another value of 'file_name' after ','", 13),
    ],
)
def test_bad_dimensions_say_what_and_where(text, message, position):
    with pytest.raises(DimensionError) as err:
        parse(text)
    assert message in str(err.value)
    if position is not None:
        assert f"(at position {position})" in str(err.value)
        # the caret points under the place
        lines = str(err.value).splitlines()
        assert lines[-1].index("^") - 2 == position - 1


def test_quote():
    assert quote("a b") == "'a b'"
    assert quote("it's") == '"it\'s"'


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_ALPHABET = st.sampled_from(list("ab_%?() ,:'\"=<>!.-") + ["and", "or", "minus", "with",
                                                           "limit", "defname", "version",
                                                           "ischildof:", "not", "like", "1"])


@settings(max_examples=150, deadline=None)
@given(st.lists(_ALPHABET, max_size=12).map(" ".join))
def test_any_text_reads_or_is_refused_with_a_position(text):
    try:
        parse(text)
    except DimensionError as err:
        assert err.message
        if err.position is not None:
            assert 0 <= err.position <= len(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1,
               max_size=30).filter(lambda s: not ("'" in s and '"' in s)))
def test_any_quoted_value_reads_back(value):
    assert parse(f"file_name {quote(value)}") == Predicate("file_name", "=", (value,))
