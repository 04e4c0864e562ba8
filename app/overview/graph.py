"""A campaign's dependency graph coloured by each stage's latest state, with its counts on
the node (app/campaigns/graph.py draws it)."""
from __future__ import annotations

from collections.abc import Callable

from app import states
from app.campaigns.graph import Edge, GraphError, Node, campaign_svg
from app.overview.grid import StageRow

# The same colours as the pages' state badges (app/static/poms.css).
FILL = {
    states.RUNNING: "#cfe2fb", states.IDLE: "#e8f1fb", states.NEW: "#e8f1fb",
    states.COMPLETED: "#d4eddb", states.LOCATED: "#b9e2c5",
    states.FAILED: "#f6c9cb", states.LAUNCH_FAILED: "#f6c9cb",
    states.HELD: "#ffe9a8", states.AWAITING_APPROVAL: "#ffe9a8",
    states.REMOVED: "#e0e0e0", states.CANCELLED: "#e0e0e0",
}
NEVER = "#ffffff"


def node_label(row: StageRow) -> str:
    parts = [row.latest_state or "not launched"]
    if row.active:
        parts.append(f"{row.active} active")
    if row.failed:
        parts.append(f"{row.failed} failed")
    if row.held_why:
        parts.append("held")
    return " · ".join(parts)


def coloured_svg(rows: list[StageRow], url_of: Callable[[StageRow], str]
                 ) -> tuple[str | None, str | None]:
    """(svg, None), or (None, why it cannot be drawn)."""
    nodes = [Node(name=r.stage.name, url=url_of(r), label=node_label(r),
                  fill=FILL.get(r.latest_state, NEVER)) for r in rows]
    edges = [Edge(parent=link.parent.name, child=r.stage.name, label=link.file_pattern)
             for r in rows for link in r.stage.parent_links]
    try:
        return campaign_svg(nodes, edges), None
    except GraphError as err:
        return None, str(err)
