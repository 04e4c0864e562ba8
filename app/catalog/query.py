"""Dimension syntax trees -> SQLAlchemy conditions over the embedded catalogue's files.

Every value reaches the database as a bound parameter. Each node becomes one boolean
condition on `catalog_file`; parentage, snapshots, projects, `minus` and `with` become
`id IN (SELECT ...)` subqueries, which SQLite and PostgreSQL both plan well with the
indexes in app/models/catalog.py. Files are ordered by id (declaration order), so
`with limit/offset/stride` slices are stable while files are added.

Dimensions understood (anything else is a metadata field in the JSON, e.g.
`Mu2e.description foo` or `file_format art`):

    file_name, file_id, file_size, version, run_number, data_tier, create_date,
    end_time (metadata; create_date for a file without one),
    defname:, ischildof:( ), isparentof:( ), snapshot_id, snapshot_for_project_name,
    project_name [and consumed_status X] [and process_status Y], consumed_status,
    process_status, with limit/offset/stride/availability
"""
from __future__ import annotations

import fnmatch
from datetime import UTC, datetime

from sqlalchemy import and_, case, false, func, not_, or_, select

from app.catalog.dimensions import (
    DefName,
    DimensionError,
    Lineage,
    Modified,
    Node,
    Not,
    Predicate,
    SetOp,
    parse,
)
from app.models.catalog import (
    CatalogDefinition,
    CatalogDelivery,
    CatalogFile,
    CatalogFileParent,
    CatalogLocation,
    CatalogProcess,
    CatalogProject,
    CatalogSnapshotFile,
)

F = CatalogFile
MAX_DEFINITION_DEPTH = 32

# consumed_status values, as SAM spells them, to what the embedded catalogue records.
FILE_STATUSES = ("delivered", "consumed", "failed", "skipped")
PROCESS_STATUSES = ("active", "completed", "bad")


def sam_like(pattern: str) -> str:
    """SAM's wildcards (% any run, ? one character) as a SQL LIKE pattern with escape '\\'."""
    out = []
    for ch in pattern:
        if ch in "\\_":
            out.append("\\" + ch)
        elif ch == "?":
            out.append("_")
        elif ch == "*":
            out.append("%")
        else:
            out.append(ch)
    return "".join(out)


def sam_glob(pattern: str) -> str:
    """SAM's wildcards as a (case-sensitive) SQLite GLOB pattern."""
    out = []
    for ch in pattern:
        if ch in "%*":
            out.append("*")
        elif ch == "?":
            out.append("?")
        elif ch == "[":
            out.append("[[]")
        else:
            out.append(ch)
    return "".join(out)


def _has_wildcard(value: str) -> bool:
    return any(ch in value for ch in "%?*")


def parse_date(value: str) -> datetime:
    """'2026-01-01', '2026-01-01T10:00:00', '2026-01-01 10:00:00+0000', or epoch seconds."""
    text = value.strip()
    if text.replace(".", "", 1).isdigit() and len(text) > 8:
        return datetime.fromtimestamp(float(text), UTC).replace(tzinfo=None)
    text = text.replace("/", "-")
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and "T" in text:
        text = text[:-2] + ":" + text[-2:]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"'{value}' is not a date such as 2026-01-01 or 2026-01-01T10:00:00"
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


class IdSet:
    """A node's files as a SELECT of file ids (snapshots, deliveries, lineage): used as is
    inside another set operation instead of being wrapped in one more scan of the files."""

    def __init__(self, query):
        self.query = query


class Compiler:
    """Turns a syntax tree into a condition on CatalogFile for one experiment."""

    def __init__(self, session, experiment: str, text: str = ""):
        self.session = session
        self.experiment = experiment
        self.text = text
        self._depth = 0
        self._definitions: dict[str, Node] = {}
        bind = session.get_bind() if session is not None else None
        self.dialect = bind.dialect.name if bind is not None else ""

    def like(self, column, pattern: str):
        """SAM's `like`: case-sensitive on every database (SQLite's LIKE is not: GLOB is)."""
        if self.dialect == "sqlite":
            return column.op("GLOB", is_comparison=True)(sam_glob(pattern))
        return column.like(sam_like(pattern), escape="\\")

    def error(self, message: str) -> DimensionError:
        return DimensionError(message)

    # -- entry points --
    def ids(self, node: Node):
        """SELECT catalog_file.id of the files the node selects."""
        got = self._compile(node)
        if isinstance(got, IdSet):
            return got.query
        return select(F.id).where(F.experiment == self.experiment, got)

    def condition(self, node: Node):
        got = self._compile(node)
        return F.id.in_(got.query) if isinstance(got, IdSet) else got

    def _compile(self, node: Node):
        method = getattr(self, "_" + type(node).__name__)
        return method(node)

    # -- nodes --
    def _SetOp(self, node: SetOp):
        if node.op == "and":
            folded = self._project_and(node)
            if folded is not None:
                return folded
            return and_(self.condition(node.left), self.condition(node.right))
        if node.op == "or":
            return or_(self.condition(node.left), self.condition(node.right))
        # minus: NOT IN a subquery, so files whose fields are NULL are kept correctly.
        return and_(self.condition(node.left), F.id.not_in(self.ids(node.right)))

    def _Not(self, node: Not):
        return F.id.not_in(self.ids(node.node))

    def _DefName(self, node: DefName):
        name = node.name
        if name not in self._definitions:
            dims = self.session.scalar(
                select(CatalogDefinition.dimensions).where(
                    CatalogDefinition.experiment == self.experiment,
                    CatalogDefinition.name == name,
                )
            )
            if dims is None:
                raise DimensionError(f"no definition named '{name}' in {self.experiment}")
            try:
                self._definitions[name] = parse(dims)
            except DimensionError as err:
                raise DimensionError(f"definition '{name}' does not read: {err}") from None
        self._depth += 1
        if self._depth > MAX_DEFINITION_DEPTH:
            raise DimensionError(f"definition '{name}' refers to itself (directly or not)")
        try:
            return self.condition(self._definitions[name])
        finally:
            self._depth -= 1

    def _Lineage(self, node: Lineage):
        inner = self.ids(node.node)
        link = CatalogFileParent
        if node.relation == "ischildof":
            related = select(link.child_id).where(link.parent_id.in_(inner))
        else:
            related = select(link.parent_id).where(link.child_id.in_(inner))
        return IdSet(related)

    def _Modified(self, node: Modified):
        cond = self.condition(node.node)
        if node.availability is not None:
            if node.availability not in ("anylocation", "physical", "virtual", "default"):
                raise DimensionError(
                    f"availability '{node.availability}' is not anylocation, physical or virtual"
                )
            located = select(CatalogLocation.file_id)
            if node.availability in ("anylocation", "physical"):
                cond = and_(cond, F.id.in_(located))
        if node.limit is None and node.offset is None and node.stride is None:
            return cond
        return F.id.in_(self.sliced_ids(cond, node))

    def sliced_ids(self, cond, node: Modified):
        base = select(F.id).where(F.experiment == self.experiment, cond)
        if node.stride:
            numbered = base.add_columns(
                func.row_number().over(order_by=F.id).label("rn")
            ).subquery()
            offset = node.offset or 0
            query = select(numbered.c.id).where(
                numbered.c.rn > offset, (numbered.c.rn - 1 - offset) % node.stride == 0
            )
            if node.limit is not None:
                query = query.order_by(numbered.c.id).limit(node.limit)
            return query
        query = base.order_by(F.id)
        if node.limit is not None:
            query = query.limit(node.limit)
        if node.offset:
            query = query.offset(node.offset)
        return select(query.subquery().c.id)

    def _Predicate(self, node: Predicate):
        dim = node.dimension
        handler = getattr(self, "_dim_" + dim.replace(".", "_"), None)
        if handler is not None and "." not in dim:
            return handler(node)
        return self._metadata(node)

    # -- dimensions --
    def _strings(self, column, node: Predicate):
        op, values = node.op, node.values
        if op in ("=", "like", "in", "!=", "not like", "not in"):
            positive = op in ("=", "like", "in")
            parts = []
            exact = [v for v in values if not _has_wildcard(v)]
            if exact:
                parts.append(column.in_(exact))
            for value in values:
                if _has_wildcard(value):
                    parts.append(self.like(column, value))
            cond = or_(*parts) if len(parts) > 1 else parts[0]
            return cond if positive else and_(column.is_not(None), not_(cond))
        if len(values) != 1:
            raise DimensionError(f"'{node.dimension} {op}' takes one value")
        return self._compare(column, op, values[0])

    def _compare(self, column, op: str, value):
        if op == "like":
            return self.like(column, str(value))
        if op == "not like":
            return not_(self.like(column, str(value)))
        return _compare(column, op, value)

    def _dim_file_name(self, node):
        return self._strings(F.name, node)

    def _dim_version(self, node):
        return self._strings(F.version, node)

    def _dim_data_tier(self, node):
        return self._strings(F.data_tier, node)

    def _numbers(self, column, node: Predicate, kind: str):
        if node.op in ("=", "in", "!=", "not in"):
            parts = []
            for value in node.values:
                low, sep, high = value.partition("-")
                try:
                    if sep and low:
                        parts.append(column.between(_number(low, kind), _number(high, kind)))
                    else:
                        parts.append(column == _number(value, kind))
                except ValueError:
                    raise DimensionError(
                        f"'{node.dimension}' needs {kind} values or ranges such as 5-9, "
                        f"not '{value}'"
                    ) from None
            cond = or_(*parts) if len(parts) > 1 else parts[0]
            return cond if node.op in ("=", "in") else and_(column.is_not(None), not_(cond))
        if node.op in ("like", "not like") or len(node.values) != 1:
            raise DimensionError(f"'{node.dimension} {node.op}' is not a number comparison")
        try:
            return _compare(column, node.op, _number(node.values[0], kind))
        except ValueError:
            raise DimensionError(
                f"'{node.dimension}' needs a number, not '{node.values[0]}'"
            ) from None

    def _dim_run_number(self, node):
        return self._numbers(F.run_number, node, "run")

    def _dim_file_id(self, node):
        return self._numbers(F.id, node, "whole number")

    def _dim_file_size(self, node):
        return self._numbers(F.size, node, "whole number")

    @staticmethod
    def _one_date(node: Predicate) -> datetime:
        if node.op in ("like", "not like", "in", "not in") or len(node.values) != 1:
            raise DimensionError(f"{node.dimension} takes one date and =, !=, <, >, <= or >=")
        try:
            return parse_date(node.values[0])
        except ValueError as err:
            raise DimensionError(str(err)) from None

    def _dim_create_date(self, node: Predicate):
        return _compare(F.create_date, node.op, self._one_date(node))

    def _dim_end_time(self, node: Predicate):
        """SAM's end_time (file metadata, which the original's `new` split windows by); a
        file declared here without one is taken at its create_date."""
        when = self._one_date(node)
        text = F.file_metadata["end_time"].as_string()
        # ISO text compares as the date does: its first 19 characters, YYYY-MM-DDTHH:MM:SS.
        stamp = func.substr(func.replace(text, " ", "T"), 1, 19)
        return or_(and_(text.is_not(None),
                        _compare(stamp, node.op, when.strftime("%Y-%m-%dT%H:%M:%S"))),
                   and_(text.is_(None), _compare(F.create_date, node.op, when)))

    def _dim_snapshot_id(self, node: Predicate):
        try:
            ids = [int(v) for v in node.values]
        except ValueError:
            raise DimensionError("snapshot_id needs snapshot numbers") from None
        return IdSet(
            select(CatalogSnapshotFile.file_id).where(CatalogSnapshotFile.snapshot_id.in_(ids))
        )

    def _dim_snapshot_for_project_name(self, node: Predicate):
        snapshots = select(CatalogProject.snapshot_id).where(
            CatalogProject.experiment == self.experiment, CatalogProject.name.in_(node.values)
        )
        return IdSet(
            select(CatalogSnapshotFile.file_id).where(
                CatalogSnapshotFile.snapshot_id.in_(snapshots)
            )
        )

    def _dim_project_name(self, node: Predicate, consumed=None, process=None):
        """Files delivered in the project (SAM: project_name P [and consumed_status X])."""
        project_ids = select(CatalogProject.id).where(
            CatalogProject.experiment == self.experiment, CatalogProject.name.in_(node.values)
        )
        return IdSet(self.delivered_ids(project_ids, consumed, process))

    def delivered_ids(self, project_ids, consumed=None, process=None):
        """Files delivered in the projects; with `consumed`, those whose status in the
        project is one of the given ones. A file's status is its best delivery: consumed
        over failed over skipped over delivered (SAM keeps one status per file and
        project). best in S <=> for some s in S: a delivery with s, none ranked above s;
        no GROUP BY over a million deliveries."""
        D = CatalogDelivery

        def having(statuses=None):
            query = select(D.file_id).where(D.project_id.in_(project_ids))
            if statuses is not None:
                query = query.where(D.status.in_(statuses))
            if process is not None:
                query = query.join(CatalogProcess, CatalogProcess.id == D.process_id).where(
                    self._status_match(CatalogProcess.status, process, PROCESS_STATUSES)
                )
            return query

        if consumed is None:
            return having()
        statuses = _expand_statuses(consumed, FILE_STATUSES)
        if not statuses:
            return select(D.file_id).where(false())
        tops = [s for s in statuses if not any(r > _RANK[s] for r in _RANK.values())]
        if tops == statuses:  # only the best status (consumed): no exclusions needed
            return having(statuses)
        parts = []
        for status in statuses:
            above = [s for s, r in _RANK.items() if r > _RANK[status]]
            cond = F.id.in_(having([status]))
            if above:
                cond = and_(cond, F.id.not_in(having(above)))
            parts.append(cond)
        return select(F.id).where(F.experiment == self.experiment, or_(*parts))

    def _status_match(self, column, node: Predicate, known):
        statuses = _expand_statuses(node, known)
        return column.in_(statuses) if statuses else false()

    def _dim_consumed_status(self, node: Predicate):
        # Alone (not beside a project_name): in any project of this experiment.
        projects = select(CatalogProject.id).where(CatalogProject.experiment == self.experiment)
        return IdSet(self.delivered_ids(projects, consumed=node))

    def _dim_process_status(self, node: Predicate):
        projects = select(CatalogProject.id).where(CatalogProject.experiment == self.experiment)
        return IdSet(self.delivered_ids(projects, process=node))

    def _project_and(self, node: SetOp):
        """`project_name P and consumed_status X [and process_status Y]` as one condition."""
        terms: list[Node] = []

        def flatten(n):
            if isinstance(n, SetOp) and n.op == "and":
                flatten(n.left)
                flatten(n.right)
            else:
                terms.append(n)

        flatten(node)
        preds = [t for t in terms if isinstance(t, Predicate)]
        projects = [p for p in preds if p.dimension == "project_name"]
        consumed = [p for p in preds if p.dimension == "consumed_status"]
        process = [p for p in preds if p.dimension == "process_status"]
        if len(projects) != 1 or not (consumed or process):
            return None
        if len(consumed) > 1 or len(process) > 1:
            raise DimensionError("give consumed_status and process_status once each")
        rest = [t for t in terms if t not in (projects + consumed + process)]
        got = self._dim_project_name(
            projects[0], consumed[0] if consumed else None, process[0] if process else None
        )
        if not rest:
            return got
        return and_(F.id.in_(got.query), *[self.condition(t) for t in rest])

    def _metadata(self, node: Predicate):
        """Any other dimension: a field of the file's JSON metadata, compared as text
        (numbers as numbers when the value is one)."""
        field = F.file_metadata[node.dimension]
        text = field.as_string()
        if node.op in ("<", ">", "<=", ">=") and len(node.values) == 1:
            value = node.values[0]
            try:
                number = float(value)
            except ValueError:
                return self._compare(text, node.op, value)
            return _compare(field.as_float(), node.op, number)
        return self._strings(text, node)


_RANK = {"delivered": 1, "skipped": 2, "failed": 3, "consumed": 4}


def _status_rank(column):
    return case({k: v for k, v in _RANK.items()}, value=column, else_=0)


def _expand_statuses(node: Predicate, known) -> list[str]:
    """consumed_status 'co%', consumed,skipped, completed (a synonym of consumed) ..."""
    out: list[str] = []
    positive = node.op in ("=", "like", "in")
    for value in node.values:
        v = value.lower()
        if v == "completed" and "consumed" in known:
            v = "consumed"
        pattern = v.replace("%", "*").replace("?", "?")
        out.extend(s for s in known if fnmatch.fnmatchcase(s, pattern))
    if not positive:
        out = [s for s in known if s not in out]
    return sorted(set(out))


def _number(value: str, kind: str):
    if kind == "run":
        # run.subrun: the run part
        return int(value.split(".", 1)[0])
    return int(value)


def _compare(column, op: str, value):
    if op in ("like", "not like"):
        raise DimensionError(f"'{op}' compares text, not numbers or dates")
    return {
        "=": lambda: column == value,
        "!=": lambda: column != value,
        "<": lambda: column < value,
        ">": lambda: column > value,
        "<=": lambda: column <= value,
        ">=": lambda: column >= value,
        "in": lambda: column == value,
        "not in": lambda: column != value,
    }[op]()


def compile_dimensions(session, experiment: str, dims: str):
    """(condition, top-level Modified or None) for a dimension string."""
    node = parse(dims)
    compiler = Compiler(session, experiment, dims)
    if isinstance(node, Modified):
        inner = compiler.condition(node.node)
        return compiler, node, inner
    return compiler, None, compiler.condition(node)


def file_query(session, experiment: str, dims: str, columns=(F.name,)):
    """SELECT columns FROM catalog_file for the files the dimensions select, by id."""
    compiler, top, cond = compile_dimensions(session, experiment, dims)
    query = select(*columns).where(F.experiment == experiment)
    if top is None:
        return query.where(cond).order_by(F.id)
    # Top-level modifiers go straight onto the outer query (fast path for `with limit`).
    if top.availability in ("anylocation", "physical"):
        cond = and_(cond, F.id.in_(select(CatalogLocation.file_id)))
    elif top.availability not in (None, "virtual", "default"):
        raise DimensionError(
            f"availability '{top.availability}' is not anylocation, physical or virtual"
        )
    if top.stride:
        return query.where(F.id.in_(compiler.sliced_ids(cond, top))).order_by(F.id)
    query = query.where(cond).order_by(F.id)
    if top.limit is not None:
        query = query.limit(top.limit)
    if top.offset:
        query = query.offset(top.offset)
    return query


def count_query(session, experiment: str, dims: str):
    inner = file_query(session, experiment, dims, columns=(F.id,)).order_by(None)
    compiler, top, _ = compile_dimensions(session, experiment, dims)
    if top is not None and (top.limit is not None or top.offset):
        # LIMIT/OFFSET need the ordering to pick the same files a listing picks.
        inner = file_query(session, experiment, dims, columns=(F.id,))
    return select(func.count()).select_from(inner.subquery())


__all__ = [
    "Compiler",
    "DimensionError",
    "compile_dimensions",
    "count_query",
    "file_query",
    "parse_date",
    "sam_like",
]
