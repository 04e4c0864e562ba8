"""A campaign's stages drawn as a dependency graph, in SVG, by Graphviz.

The SVG is placed inline in the page (so each stage is a link), so it is parsed and
cleaned here: a stage name can never become markup.

Graphviz costs tens of milliseconds a drawing, more than the rest of a page, so each
process keeps the drawings it made, keyed by the DOT text they were drawn from: a drawing
is only reused for exactly what it shows (names, dependencies, links, the overview's
colours and counts), so it can never be stale, and a campaign that changes (a new version
of it, or a stage that changes state on the overview) is drawn afresh on its next view.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
import xml.etree.ElementTree as ET
from collections import OrderedDict
from dataclasses import dataclass

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)


class GraphError(RuntimeError):
    pass


@dataclass
class Node:
    name: str
    url: str
    label: str = ""  # a second line under the name, e.g. the job type
    fill: str = ""  # a fill colour ("#e7f4ea"): the overview colours stages by state


@dataclass
class Edge:
    parent: str
    child: str
    label: str  # the file pattern


def _quote(text: str) -> str:
    """A DOT double-quoted string: only backslash and quote are special inside."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(nodes: list[Node], edges: list[Edge]) -> str:
    ids = {n.name: f"s{i}" for i, n in enumerate(nodes)}
    lines = [
        "digraph campaign {",
        '  graph [rankdir=LR, bgcolor="transparent", fontname="sans-serif"];',
        '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", color="#4a6fa5",'
        ' fontname="sans-serif", fontsize=11];',
        '  edge [color="#666666", fontname="sans-serif", fontsize=9];',
    ]
    for node in nodes:
        label = node.name + (f"\n{node.label}" if node.label else "")
        fill = f", fillcolor={_quote(node.fill)}" if node.fill else ""
        lines.append(
            f"  {ids[node.name]} [label={_quote(label)}, URL={_quote(node.url)}, "
            f'target="_top", tooltip={_quote(node.name)}{fill}];'
        )
    for edge in edges:
        if edge.parent in ids and edge.child in ids:
            lines.append(
                f"  {ids[edge.parent]} -> {ids[edge.child]} [label={_quote(edge.label)}];"
            )
    lines.append("}")
    return "\n".join(lines)


def render_svg(dot: str, timeout: float = 10.0) -> str:
    exe = shutil.which("dot")
    if exe is None:
        raise GraphError("Graphviz is not installed (no `dot` on PATH): apt-get install graphviz")
    try:
        done = subprocess.run(
            [exe, "-Tsvg"], input=dot.encode(), capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise GraphError(f"Graphviz took longer than {timeout:.0f} s") from None
    if done.returncode != 0:
        raise GraphError(f"Graphviz failed: {done.stderr.decode(errors='replace').strip()}")
    return clean_svg(done.stdout)


def clean_svg(raw: bytes) -> str:
    """Parse Graphviz's SVG and drop anything that could run script."""
    root = ET.fromstring(raw)
    for parent in root.iter():
        for child in list(parent):
            if child.tag.rsplit("}", 1)[-1] in ("script", "foreignObject"):
                parent.remove(child)
        for attr in list(parent.attrib):
            name = attr.rsplit("}", 1)[-1].lower()
            value = parent.attrib[attr].strip().lower()
            if name.startswith("on") or (name == "href" and value.startswith("javascript:")):
                del parent.attrib[attr]
    root.set("class", "stage-graph")
    return ET.tostring(root, encoding="unicode")


class DrawingCache:
    """The newest `size` drawings, by the SHA-256 of their DOT text (least recently used
    out first). One per process; gunicorn's threads share it."""

    def __init__(self, size: int = 256):
        self.size = size
        self._drawings: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        self.drawn = 0  # Graphviz runs, for tests and benchmarks to see the cache work

    def svg(self, dot: str) -> str:
        key = hashlib.sha256(dot.encode()).hexdigest()
        with self._lock:
            if key in self._drawings:
                self._drawings.move_to_end(key)
                return self._drawings[key]
        svg = render_svg(dot)  # outside the lock: one slow drawing holds no other page
        with self._lock:
            self.drawn += 1
            self._drawings[key] = svg
            while len(self._drawings) > self.size:
                self._drawings.popitem(last=False)
        return svg


drawings = DrawingCache()


def campaign_svg(nodes: list[Node], edges: list[Edge]) -> str:
    return drawings.svg(to_dot(nodes, edges))
