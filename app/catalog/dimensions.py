"""SAM's dimension language (the subset POMS speaks), read into a small syntax tree.

Grammar (keywords are case-insensitive; `%` and `?` are SAM's wildcards):

    query     := union [ 'with' modifier+ ]
    union     := inter ( ('or' | 'union' | 'minus') inter )*       left to right
    inter     := unary ( ('and' | 'intersect') unary )*
    unary     := 'not' unary | primary
    primary   := '(' query ')'
               | 'defname:' NAME | 'defname' NAME
               | 'ischildof:' '(' query ')' | 'isparentof:' '(' query ')'
               | 'snapshot_id' N[,N...] | 'snapshot_for_project_name' NAME
               | 'project_name' NAME[,NAME...]
               | DIMENSION [op] VALUE[,VALUE...]
    op        := '=' | '!=' | '<' | '>' | '<=' | '>=' | 'like' | 'not like' | 'in' | 'not in'
    modifier  := 'limit' N | 'offset' N | 'stride' N | 'availability' WORD

`and` binds tighter than `or` and `minus`; write parentheses when in doubt (POMS itself
always does). `with` applies to the whole query or parenthesised group it ends, after the
set operations. Values are bare words or quoted with ' or ". `run_number` takes single runs
(`5`), run.subrun (`5.0001`: the run part is used) and ranges (`5-9`).

parse(text) -> Node, or DimensionError naming the position and what was expected.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

KEYWORDS = {"and", "or", "minus", "union", "intersect", "not", "with"}
OPERATORS = ("=", "!=", "<", ">", "<=", ">=", "like", "not like", "in", "not in")
MODIFIERS = ("limit", "offset", "stride", "availability")
BUILTIN_DIMENSIONS = {
    "file_name", "file_id", "file_size", "version", "run_number", "data_tier", "create_date",
    "end_time",
    "snapshot_id", "snapshot_for_project_name", "project_name", "consumed_status",
    "process_status",
}
# Prefix forms SAM writes with a colon.
_COLON_FORMS = ("defname", "ischildof", "isparentof")


class DimensionError(ValueError):
    """A dimension string that cannot be read: says where and why."""

    def __init__(self, message: str, text: str = "", position: int | None = None):
        self.message = message
        self.text = text
        self.position = position
        if position is None:
            full = message
        else:
            full = f"{message} (at position {position + 1})\n  {text}\n  {' ' * position}^"
        super().__init__(full)


# --- the syntax tree -------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    pass


@dataclass(frozen=True)
class SetOp(Node):
    op: str  # and, or, minus
    left: Node
    right: Node


@dataclass(frozen=True)
class Not(Node):
    node: Node


@dataclass(frozen=True)
class DefName(Node):
    name: str


@dataclass(frozen=True)
class Lineage(Node):
    relation: str  # ischildof (children of the inner files) or isparentof (their parents)
    node: Node


@dataclass(frozen=True)
class Predicate(Node):
    """`dimension op values`: file_name like 'a%', version v1, run_number 3-5 ..."""

    dimension: str
    op: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Modified(Node):
    node: Node
    limit: int | None = None
    offset: int | None = None
    stride: int | None = None
    availability: str | None = None
    extra: tuple = field(default=())


# --- tokens ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # word, string, op, punct, end
    value: str
    pos: int

    @property
    def lower(self) -> str:
        return self.value.lower()


_WORD = re.compile(r"[A-Za-z0-9_.%?*\-+/@~:#]+")
_OPS = ("<=", ">=", "!=", "=", "<", ">")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "(),":
            tokens.append(Token("punct", ch, i))
            i += 1
            continue
        op = next((o for o in _OPS if text.startswith(o, i)), None)
        if op:
            tokens.append(Token("op", op, i))
            i += len(op)
            continue
        if ch in "'\"":
            end = text.find(ch, i + 1)
            if end < 0:
                raise DimensionError(f"unclosed quote {ch}", text, i)
            tokens.append(Token("string", text[i + 1 : end], i))
            i = end + 1
            continue
        match = _WORD.match(text, i)
        if not match:
            raise DimensionError(f"unexpected character {ch!r}", text, i)
        word = match.group(0)
        # defname:NAME, ischildof:( ... ): split the prefix from what follows the colon.
        head, colon, rest = word.partition(":")
        if colon and head.lower() in _COLON_FORMS:
            tokens.append(Token("word", head, i))
            if rest:
                tokens.append(Token("word", rest, i + len(head) + 1))
        else:
            tokens.append(Token("word", word, i))
        i = match.end()
    tokens.append(Token("end", "", n))
    return tokens


# --- the parser ------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def take(self) -> Token:
        tok = self.tok
        self.i += 1
        return tok

    def error(self, message: str, tok: Token | None = None):
        tok = tok or self.tok
        return DimensionError(message, self.text, tok.pos)

    def is_word(self, *words: str) -> bool:
        return self.tok.kind == "word" and self.tok.lower in words

    def expect_punct(self, ch: str, context: str) -> Token:
        if self.tok.kind == "punct" and self.tok.value == ch:
            return self.take()
        found = "the end" if self.tok.kind == "end" else repr(self.tok.value)
        raise self.error(f"expected '{ch}' {context}, found {found}")

    # grammar
    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise self.error("empty dimensions: nothing to select")
        node = self.query()
        if self.tok.kind != "end":
            if self.tok.kind == "punct" and self.tok.value == ")":
                raise self.error("')' without a matching '('")
            raise self.error(
                f"unexpected {self.tok.value!r}: expected and, or, minus or with"
            )
        return node

    def query(self) -> Node:
        node = self.union()
        if self.is_word("with"):
            with_tok = self.take()
            mods: dict = {}
            while self.is_word(*MODIFIERS):
                key = self.take().lower
                if key in mods:
                    raise self.error(f"'{key}' is given twice in one with clause")
                if key == "availability":
                    if self.tok.kind not in ("word", "string"):
                        raise self.error("expected a location kind after 'availability'")
                    mods[key] = self.take().lower
                else:
                    mods[key] = self.count(key)
            if not mods:
                raise self.error(
                    "expected limit, offset, stride or availability after 'with'", with_tok
                )
            node = Modified(node, **mods)
        return node

    def count(self, key: str) -> int:
        tok = self.tok
        if tok.kind == "word" and tok.value.isdigit():
            self.take()
            return int(tok.value)
        raise self.error(f"'{key}' needs a whole number")

    def union(self) -> Node:
        node = self.inter()
        while self.is_word("or", "union", "minus"):
            op = self.take().lower
            op = "or" if op == "union" else op
            node = SetOp(op, node, self.inter())
        return node

    def inter(self) -> Node:
        node = self.unary()
        while self.is_word("and", "intersect"):
            self.take()
            node = SetOp("and", node, self.unary())
        return node

    def unary(self) -> Node:
        if self.is_word("not") and not (
            self.peek().kind == "word" and self.peek().lower in ("like", "in")
        ):
            self.take()
            return Not(self.unary())
        return self.primary()

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind == "punct" and tok.value == "(":
            self.take()
            node = self.query()
            self.expect_punct(")", "to close the '(' opened at position " + str(tok.pos + 1))
            return node
        if tok.kind == "end":
            raise self.error("the dimensions end where a dimension was expected")
        if tok.kind != "word" or tok.lower in KEYWORDS:
            raise self.error(f"expected a dimension, found {tok.value!r}")
        raw = self.take().value
        name = raw.lower()
        if name == "defname" or name == "dataset_def_name":
            return DefName(self.value("a definition name", name))
        if name in ("ischildof", "isparentof"):
            self.expect_punct("(", f"after '{name}:'")
            inner = self.query()
            self.expect_punct(")", f"to close '{name}:('")
            return Lineage(name, inner)
        # Built-in dimensions in lower case; metadata fields keep their spelling.
        return self.predicate(name if name in BUILTIN_DIMENSIONS else raw, tok)

    def value(self, what: str, after: str) -> str:
        tok = self.tok
        if tok.kind in ("word", "string") and not (tok.kind == "word" and tok.lower in KEYWORDS):
            self.take()
            return tok.value
        raise self.error(f"expected {what} after '{after}'")

    def predicate(self, name: str, name_tok: Token) -> Node:
        op = "="
        if self.tok.kind == "op":
            op = self.take().value
        elif self.is_word("like", "in"):
            op = self.take().lower
        elif self.is_word("not") and self.peek().kind == "word" and self.peek().lower in (
            "like",
            "in",
        ):
            self.take()
            op = "not " + self.take().lower
        if op in ("in", "not in") and self.tok.kind == "punct" and self.tok.value == "(":
            self.take()
            values = self.values(name)
            self.expect_punct(")", f"to close the list of {name}")
        else:
            values = self.values(name)
        return Predicate(name, op, tuple(values))

    def values(self, name: str) -> list[str]:
        if self.tok.kind not in ("word", "string") or (
            self.tok.kind == "word" and self.tok.lower in KEYWORDS
        ):
            raise self.error(f"expected a value after '{name}'")
        values = [self.take().value]
        while self.tok.kind == "punct" and self.tok.value == ",":
            self.take()
            if self.tok.kind not in ("word", "string"):
                raise self.error(f"expected another value of '{name}' after ','")
            values.append(self.take().value)
        return values


def parse(text: str) -> Node:
    """Read a dimension string into a syntax tree; DimensionError says what is wrong."""
    if text is None:
        raise DimensionError("empty dimensions: nothing to select")
    return _Parser(text).parse()


def quote(value: str) -> str:
    """A value as a dimension string literal."""
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise ValueError(f"{value!r} holds both quote characters and cannot be written")
