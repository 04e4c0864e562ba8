"""A small SVG writer and the results plots, rendered on the server.

Every piece of text and every attribute value goes through html.escape (quote=True), so a
stage, site or signature name cannot break out of the drawing. Plots return one string,
an <svg> element with a <title> and role="img", to be inlined in a page (mark it safe there:
it is built escaped here) or served as image/svg+xml.
"""
from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

STATE_COLOURS = {
    "New": "#9e9e9e", "Idle": "#90caf9", "Running": "#1e88e5", "Held": "#fb8c00",
    "Completed": "#66bb6a", "Located": "#2e7d32", "Failed": "#e53935",
    "Removed": "#6d4c41", "Cancelled": "#bdbdbd", "LaunchFailed": "#b71c1c",
    "Launch Failed": "#b71c1c", "Awaiting Approval": "#ab47bc",
}


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


class Svg:
    """Elements appended in order; str() is the document."""

    def __init__(self, width: int, height: int, title: str, css_class: str = "plot"):
        self.width, self.height = width, height
        self.parts: list[str] = [f"<title>{esc(title)}</title>"]
        self.title = title
        self.css_class = css_class

    def _attrs(self, attrs: dict) -> str:
        out = []
        for key, value in attrs.items():
            if value is None:
                continue
            name = key.rstrip("_").replace("_", "-")
            if isinstance(value, float):
                value = _num(value)
            out.append(f' {name}="{esc(value)}"')
        return "".join(out)

    def rect(self, x, y, w, h, **attrs) -> str:
        return f"<rect{self._attrs({'x': x, 'y': y, 'width': w, 'height': h, **attrs})}/>"

    def line(self, x1, y1, x2, y2, **attrs) -> str:
        return f"<line{self._attrs({'x1': x1, 'y1': y1, 'x2': x2, 'y2': y2, **attrs})}/>"

    def text(self, x, y, content, **attrs) -> str:
        return f"<text{self._attrs({'x': x, 'y': y, **attrs})}>{esc(content)}</text>"

    def add(self, *elements: str) -> None:
        self.parts.extend(elements)

    def link(self, href: str, inner: str, label: str = "") -> str:
        return (f'<a{self._attrs({"href": href, "aria_label": label or None})}>'
                f"{inner}</a>")

    def tip(self, element: str, tip: str) -> str:
        """An element with a hover title (the element must be a self-closing tag)."""
        return element[:-2] + f"><title>{esc(tip)}</title></{element[1:].split(' ')[0]}>"

    def __str__(self) -> str:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" '
                f'class="{esc(self.css_class)}" width="{self.width}" height="{self.height}" '
                f'viewBox="0 0 {self.width} {self.height}" aria-label="{esc(self.title)}">'
                + "".join(self.parts) + "</svg>")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 10 ** len(str(int(value))) / 10
    for mult in (1, 2, 2.5, 5, 10):
        if value <= step * mult:
            return step * mult
    return value


def _y_axis(svg: Svg, left: int, top: int, height: int, top_value: float, label: str) -> None:
    for i in range(5):
        value = top_value * i / 4
        y = top + height - height * i / 4
        svg.add(svg.line(left - 4, y, left, y, stroke="#555"),
                svg.text(left - 6, y + 4, _num(value), text_anchor="end", font_size=11))
    svg.add(svg.line(left, top, left, top + height, stroke="#555"),
            svg.text(12, top + height / 2, label, font_size=11,
                     transform=f"rotate(-90 12 {_num(top + height / 2)})",
                     text_anchor="middle"))


def efficiency_histogram(counts: Sequence[int], link: Callable[[int], str] | None = None,
                         title: str = "CPU efficiency of finished jobs") -> str:
    """Bars for [0,10%) ... [90%,...) of CPU/wall; each bar links to its jobs."""
    width, height, left, top, bottom = 520, 240, 50, 16, 40
    svg = Svg(width, height, title, "plot efficiency-histogram")
    plot_h = height - top - bottom
    plot_w = width - left - 10
    top_value = _nice_max(max(counts) if counts else 0)
    bar_w = plot_w / max(1, len(counts))
    _y_axis(svg, left, top, plot_h, top_value, "jobs")
    svg.add(svg.line(left, top + plot_h, left + plot_w, top + plot_h, stroke="#555"))
    for i, n in enumerate(counts):
        x = left + i * bar_w
        h = plot_h * n / top_value if top_value else 0
        label = f"{i * 10}–{(i + 1) * 10}%" if i < len(counts) - 1 else f"≥{i * 10}%"
        bar = svg.rect(x + 2, top + plot_h - h, bar_w - 4, max(h, 0.0),
                       fill="#1e88e5" if i >= 5 else "#fb8c00", class_="bar",
                       data_bin=i, data_jobs=n)
        bar = svg.tip(bar, f"{n} job(s) at {label} CPU efficiency")
        if link and n:
            bar = svg.link(link(i), bar, f"{n} jobs at {label} efficiency")
        svg.add(bar, svg.text(x + bar_w / 2, top + plot_h + 14, f"{i * 10}%",
                              text_anchor="middle", font_size=10))
        if n:
            svg.add(svg.text(x + bar_w / 2, top + plot_h - h - 3, n, text_anchor="middle",
                             font_size=10))
    svg.add(svg.text(left + plot_w / 2, height - 6, "CPU time / wall time", font_size=11,
                     text_anchor="middle"))
    return str(svg)


def memory_plot(points: Sequence[tuple[float, float, int]], requested: Sequence[float],
                title: str = "Peak memory used against requested") -> str:
    """Jobs by peak resident memory (bars) with the request(s) drawn as dashed lines."""
    width, height, left, top, bottom = 520, 240, 50, 16, 40
    svg = Svg(width, height, title, "plot memory-plot")
    plot_h, plot_w = height - top - bottom, width - left - 10
    by_used: dict[float, int] = {}
    for _req, used, n in points:
        by_used[used] = by_used.get(used, 0) + n
    top_x = _nice_max(max([*by_used, *requested, 1.0]) * 1.05)
    top_y = _nice_max(max(by_used.values()) if by_used else 0)
    _y_axis(svg, left, top, plot_h, top_y, "jobs")
    svg.add(svg.line(left, top + plot_h, left + plot_w, top + plot_h, stroke="#555"))
    for i in range(5):
        value = top_x * i / 4
        x = left + plot_w * i / 4
        svg.add(svg.text(x, top + plot_h + 14, f"{_num(value)}", text_anchor="middle",
                         font_size=10))
    # The buckets are a twentieth of the largest peak (app/results/aggregate.py).
    step = max([*by_used, 20.0]) / 20
    bar_w = max(3.0, plot_w * step / top_x * 0.8)
    for used, n in sorted(by_used.items()):
        x = left + plot_w * used / top_x - bar_w / 2
        h = plot_h * n / top_y if top_y else 0
        over = any(used > r for r in requested) if requested else False
        svg.add(svg.tip(svg.rect(max(left, x), top + plot_h - h, bar_w, h,
                                 fill="#e53935" if over else "#66bb6a", class_="bar",
                                 data_used_mb=round(used), data_jobs=n),
                        f"{n} job(s) peaking near {used:.0f} MB"))
    for r in requested:
        x = left + plot_w * r / top_x
        svg.add(svg.line(x, top, x, top + plot_h, stroke="#000", stroke_dasharray="4 3",
                         class_="requested"),
                svg.text(x + 3, top + 10, f"requested {r:.0f} MB", font_size=10))
    svg.add(svg.text(left + plot_w / 2, height - 6, "peak resident memory (MB)",
                     font_size=11, text_anchor="middle"))
    return str(svg)


@dataclass
class Bar:
    label: str
    start: datetime
    end: datetime
    state: str
    href: str = ""
    tip: str = ""


def time_bars(bars: Sequence[Bar], title: str = "Submissions over time") -> str:
    """One bar per submission from launch to its last job's end, coloured by state."""
    row_h, left, top, width = 18, 170, 24, 760
    height = top + row_h * max(1, len(bars)) + 30
    svg = Svg(width, height, title, "plot time-bars")
    if not bars:
        svg.add(svg.text(left, top + 12, "No submissions yet.", font_size=12))
        return str(svg)
    start = min(b.start for b in bars)
    end = max(b.end for b in bars)
    span = max((end - start).total_seconds(), 60.0)
    plot_w = width - left - 10

    def x_of(when: datetime) -> float:
        return left + plot_w * (when - start).total_seconds() / span

    stamp = "%H:%M:%S" if span < 3600 else "%m-%d %H:%M"
    for i in range(5):
        when = start + timedelta(seconds=span * i / 4)
        x = left + plot_w * i / 4
        svg.add(svg.line(x, top - 4, x, height - 26, stroke="#ddd"),
                svg.text(x, height - 12, when.strftime(stamp), font_size=10,
                         text_anchor="end" if i == 4 else "middle"))
    for n, bar in enumerate(bars):
        y = top + n * row_h
        x1, x2 = x_of(bar.start), x_of(bar.end)
        rect = svg.rect(x1, y + 2, max(2.0, x2 - x1), row_h - 4,
                        fill=STATE_COLOURS.get(bar.state, "#757575"), class_="bar",
                        data_state=bar.state)
        rect = svg.tip(rect, bar.tip or f"{bar.label}: {bar.state}")
        if bar.href:
            rect = svg.link(bar.href, rect, f"{bar.label}: {bar.state}")
        svg.add(svg.text(left - 6, y + row_h - 5, bar.label, text_anchor="end",
                         font_size=11), rect)
    legend_x = left
    for state in sorted({b.state for b in bars}):
        svg.add(svg.rect(legend_x, 4, 10, 10, fill=STATE_COLOURS.get(state, "#757575")),
                svg.text(legend_x + 14, 13, state, font_size=10))
        legend_x += 14 + 7 * len(state) + 12
    return str(svg)


def calendar(per_day: dict[date, int], link: Callable[[date], str] | None = None,
             title: str = "Submissions per day", weeks: int = 26,
             today: date | None = None) -> str:
    """A GitHub-style calendar: one square per day (columns are weeks), darker for more."""
    today = today or date.today()
    cell, left, top = 13, 30, 20
    last_monday = today - timedelta(days=today.weekday())
    first = last_monday - timedelta(weeks=weeks - 1)
    width, height = left + cell * weeks + 10, top + cell * 7 + 10
    svg = Svg(width, height, title, "plot calendar")
    peak = max(per_day.values(), default=0)
    for row, name in ((0, "Mon"), (2, "Wed"), (4, "Fri")):
        svg.add(svg.text(0, top + row * cell + 10, name, font_size=9))
    month_seen = None
    for week in range(weeks):
        monday = first + timedelta(weeks=week)
        if monday.month != month_seen:
            month_seen = monday.month
            svg.add(svg.text(left + week * cell, 12, monday.strftime("%b"), font_size=9))
        for day in range(7):
            when = monday + timedelta(days=day)
            if when > today:
                continue
            n = per_day.get(when, 0)
            shade = "#ebedf0" if not n else ["#9be9a8", "#40c463", "#30a14e", "#216e39"][
                min(3, int(4 * n / (peak + 1)))]
            square = svg.tip(svg.rect(left + week * cell, top + day * cell, cell - 2, cell - 2,
                                      fill=shade, class_="day", data_date=when.isoformat(),
                                      data_count=n),
                             f"{when.isoformat()}: {n} submission(s)")
            if link and n:
                square = svg.link(link(when), square, f"{n} submissions on {when}")
            svg.add(square)
    return str(svg)
