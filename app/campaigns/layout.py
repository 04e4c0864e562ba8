"""Where the campaign editor draws each stage: its place from [node_positions] (the centre
of its box, as the original's editor stores it), else a place by its depth in the
dependency graph; and where an arrow between two boxes starts and ends.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.campaigns.spec import CampaignSpec

NODE_WIDTH, NODE_HEIGHT = 180, 48
COLUMN, ROW = 240, 90  # the step between depths, and between stages of one depth
MARGIN = 40


@dataclass(frozen=True)
class Placed:
    name: str
    x: float
    y: float
    stored: bool  # from [node_positions]


def _depths(spec: CampaignSpec) -> dict[str, int]:
    """Each stage's longest chain of parents (a cycle the importer kept counts once)."""
    parents: dict[str, list[str]] = {s.name: [] for s in spec.stages}
    for dep in spec.dependencies:
        if dep.child in parents and dep.parent in parents and dep.child != dep.parent:
            parents[dep.child].append(dep.parent)
    depths: dict[str, int] = {}

    def depth(name: str, seen: frozenset) -> int:
        if name in depths:
            return depths[name]
        above = [depth(p, seen | {name}) + 1 for p in parents[name] if p not in seen]
        depths[name] = max(above, default=0)
        return depths[name]

    for name in parents:
        depth(name, frozenset())
    return depths


def place_stages(spec: CampaignSpec) -> list[Placed]:
    """Every stage with its place: stored ones where they are, the others by depth (left to
    right), below everything stored so none lands on a stored box."""
    stored = {
        name: where for name, where in spec.node_positions.items()
        if spec.stage(name) is not None and isinstance(where, dict)
    }
    below = max((float(w["y"]) for w in stored.values()), default=-ROW) + ROW
    depths = _depths(spec)
    rows: dict[int, int] = {}
    placed = []
    for stage in spec.stages:
        if stage.name in stored:
            where = stored[stage.name]
            placed.append(Placed(stage.name, float(where["x"]), float(where["y"]), True))
            continue
        depth = depths[stage.name]
        row = rows.get(depth, 0)
        rows[depth] = row + 1
        x = MARGIN + NODE_WIDTH / 2 + depth * COLUMN
        y = (below if stored else MARGIN + NODE_HEIGHT / 2) + row * ROW
        placed.append(Placed(stage.name, x, y, False))
    return placed


def view_box(placed: list[Placed]) -> tuple[float, float, float, float]:
    """(left, top, width, height) holding every box with a margin round it."""
    if not placed:
        return (0, 0, 2 * MARGIN + NODE_WIDTH, 2 * MARGIN + NODE_HEIGHT)
    left = min(p.x for p in placed) - NODE_WIDTH / 2 - MARGIN
    top = min(p.y for p in placed) - NODE_HEIGHT / 2 - MARGIN
    right = max(p.x for p in placed) + NODE_WIDTH / 2 + MARGIN
    bottom = max(p.y for p in placed) + NODE_HEIGHT / 2 + MARGIN
    return (left, top, right - left, bottom - top)


def _edge_of_box(cx: float, cy: float, dx: float, dy: float) -> tuple[float, float]:
    """Where a line from the box's centre in direction (dx, dy) leaves the box."""
    if dx == 0 and dy == 0:
        return cx, cy
    scale = min(NODE_WIDTH / 2 / abs(dx) if dx else float("inf"),
                NODE_HEIGHT / 2 / abs(dy) if dy else float("inf"))
    return cx + dx * scale, cy + dy * scale


def arrow(parent: Placed, child: Placed) -> tuple[float, float, float, float]:
    """(x1, y1, x2, y2): from the parent's box to the child's box."""
    dx, dy = child.x - parent.x, child.y - parent.y
    x1, y1 = _edge_of_box(parent.x, parent.y, dx, dy)
    x2, y2 = _edge_of_box(child.x, child.y, -dx, -dy)
    return x1, y1, x2, y2
