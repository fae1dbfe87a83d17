"""Writing the daily report as `<day>.json` and `<day>.html` in the reports folder.

The HTML page is self-contained: a table and a bar chart in inline SVG, no script,
so it opens from disk or an e-mail attachment as it is.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import jinja2

from project.reports.model import DailyReport

# Outcome -> bar colour, in the order the bars stack.
COLOURS = {
    "succeeded": "#2e7d32",
    "retried": "#f9a825",
    "failed": "#c62828",
    "dead_lettered": "#6a1b9a",
}
BAR_HEIGHT = 18
BAR_GAP = 8
LABEL_WIDTH = 180
CHART_WIDTH = 360


@dataclass(frozen=True, slots=True)
class Segment:
    outcome: str
    x: float
    width: float
    colour: str
    count: int


@dataclass(frozen=True, slots=True)
class Bar:
    task: str
    y: int
    segments: list[Segment]


def chart_bars(report: DailyReport) -> list[Bar]:
    """One stacked bar per task, scaled to the busiest task."""
    busiest = max((line.totals.events for line in report.tasks), default=0) or 1
    bars = []
    for row, line in enumerate(report.tasks):
        x = float(LABEL_WIDTH)
        segments = []
        for outcome, colour in COLOURS.items():
            count = int(getattr(line.totals, outcome))
            width = CHART_WIDTH * count / busiest
            if count:
                segments.append(Segment(outcome, x, width, colour, count))
            x += width
        bars.append(Bar(line.task, row * (BAR_HEIGHT + BAR_GAP), segments))
    return bars


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("project.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(report: DailyReport, app_name: str) -> str:
    bars = chart_bars(report)
    return (
        _environment()
        .get_template("daily.html")
        .render(
            report=report,
            app_name=app_name,
            bars=bars,
            colours=COLOURS,
            bar_height=BAR_HEIGHT,
            chart_height=max(len(bars), 1) * (BAR_HEIGHT + BAR_GAP),
            chart_width=LABEL_WIDTH + CHART_WIDTH + 60,
        )
    )


def _write(path: Path, text: str) -> None:
    # Written whole, then renamed: a reader never sees half a report.
    partial = path.with_name(path.name + ".part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def write_report(report: DailyReport, folder: Path, app_name: str) -> tuple[Path, Path]:
    """Write `<day>.json` and `<day>.html` under `folder`; return both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / f"{report.day.isoformat()}.json"
    html_path = folder / f"{report.day.isoformat()}.html"
    _write(json_path, report.model_dump_json(indent=2) + "\n")
    _write(html_path, render_html(report, app_name))
    return json_path.resolve(), html_path.resolve()
