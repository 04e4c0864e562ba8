"""Plain-text output: aligned tables and progress bars (no dependencies)."""
from __future__ import annotations


def table(headers: list[str], rows: list[list]) -> str:
    if not rows:
        return "(none)"
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths).rstrip())
    return "\n".join(lines)


def bar(done: int, failed: int, total: int, width: int = 20) -> str:
    """[#####xx.......]  done # , failed x, the rest waiting or running."""
    if total <= 0:
        return "[" + " " * width + "]"
    full = round(width * done / total)
    bad = min(width - full, round(width * failed / total))
    return "[" + "#" * full + "x" * bad + "." * (width - full - bad) + "]"


def size(count: int) -> str:
    """Bytes for people: 512 bytes, 2.1 KiB, 10.0 MiB."""
    if count < 1024:
        return f"{count} byte{'s' if count != 1 else ''}"
    value = float(count)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return f"{value:.1f} {unit}"


def impact_lines(impact: dict) -> list[str]:
    """What a change does to the launches (the API's `impact`), a stage a line, each
    changed script's unified diff under it."""
    if impact.get("error"):
        return [f"refused: {impact['error']}"]
    lines = []
    for stage in impact["stages"]:
        if stage["status"] == "same":
            continue
        said = f"impact: stage {stage['stage']}: {stage['status']}"
        if stage.get("schedule"):
            said += f"; scheduled launches {stage['schedule']}"
        for sub in stage.get("under_way", []):
            said += f"; submission {sub['id']} {sub['state']}"
            said += " (recovery)" if sub["recovery"] else ""
        lines.append(said)
        if stage.get("script_diff"):
            lines.append(stage["script_diff"].rstrip("\n"))
    return lines or ["impact: no stage's next launch changes"]
