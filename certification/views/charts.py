"""Charts drawn on the server as inline SVG: the geometry is worked out here, in plain Python,
and ``templates/partials/chart_*.html`` draw it with presentation attributes and the classes
of ``static/css/app.css`` (our CSP allows no inline style and no script is needed).

Each function returns the template context of one chart: its title, a one-sentence text
summary for screen readers (and for everyone, above the chart), the shapes, and the table of
the numbers drawn, shown in a ``<details>`` after the chart. A chart with nothing to draw says
so instead of drawing empty axes.

    {% include "partials/chart_line.html" with chart=readiness_chart %}
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.utils.text import slugify

WIDTH = 640
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 14, 34
SERIES_STYLES = 6  # .chart__series--0 .. --5 in app.css: colour and dash pattern
EDGE = 24  # a label this close to an edge of the plot is anchored inside it
LABEL_CHAR = 11  # width of a character of an axis label (at 20px, on phones), in user units
LABEL_SPACE = 12  # room between two axis labels
EMPTY_MESSAGE = "No figures to draw yet."

Point = tuple[date, float | None]


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return f"{text}{unit}" if unit == "%" or not unit else f"{text} {unit}"


def _day(value: date) -> str:
    return f"{value.day} {value:%b}"


def _day_long(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def _chart_id(kind: str, title: str, *parts: object) -> str:
    digest = hashlib.blake2s(repr((title, parts)).encode(), digest_size=4).hexdigest()
    return f"chart-{kind}-{slugify(title)[:40]}-{digest}"


def nice_scale(top: float, ticks: int = 4) -> tuple[float, float]:
    """A round maximum at or above ``top`` and the step between ``ticks`` gridlines."""
    if top <= 0:
        return 1.0, 1.0  # nothing to scale: gridlines at 0 and 1
    raw = top / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step * ticks >= top:
            break
    if step < 1 and float(top).is_integer():
        step = 1.0
    return step * math.ceil(top / step), step


def _plot(plot_h: float) -> dict[str, float]:
    return {
        "left": LEFT,
        "top": TOP,
        "right": WIDTH - RIGHT,
        "bottom": TOP + plot_h,
        "label_x": LEFT - 6,
    }


def _y_ticks(y_max: float, step: float, scale: Any, unit: str) -> list[dict[str, Any]]:
    count = round(y_max / step)
    return [
        {"y": round(scale(step * i), 1), "label": _fmt(step * i, unit if unit == "%" else "")}
        for i in range(count + 1)
    ]


def _anchor(x: float) -> str:
    if x - LEFT < EDGE:
        return "start"
    if WIDTH - RIGHT - x < EDGE:
        return "end"
    return "middle"


def _extent(x: float, label: str) -> tuple[float, float]:
    """Where a label's text runs, at the largest font the stylesheet gives it (on phones)."""
    width = len(label) * LABEL_CHAR
    anchor = _anchor(x)
    if anchor == "start":
        return x, x + width
    if anchor == "end":
        return x - width, x
    return x - width / 2, x + width / 2


def _apart(left: tuple[float, str], right: tuple[float, str]) -> bool:
    return _extent(*right)[0] - _extent(*left)[1] >= LABEL_SPACE


def _x_ticks(places: Sequence[tuple[float, str]]) -> list[dict[str, Any]]:
    """Labels along the x axis, left to right, as many as fit without touching; the last
    place (the latest figure) is always labelled, the first whenever there is room."""
    kept: list[tuple[float, str]] = []
    for place in places:
        if not kept or _apart(kept[-1], place):
            kept.append(place)
    if places and kept[-1] != places[-1]:
        while kept and not _apart(kept[-1], places[-1]):
            kept.pop()
        kept.append(places[-1])
    return [{"x": round(x, 1), "label": label, "anchor": _anchor(x)} for x, label in kept]


# Line chart --------------------------------------------------------------------------------


def _trend_sentence(label: str, points: list[Point], unit: str, describe: str) -> str:
    known = [(day, value) for day, value in points if value is not None]
    if not known:
        return f"{label}: no figure yet"
    (first_day, first), (last_day, last) = known[0], known[-1]
    sentence = f"{label}: {_fmt(last, unit)}{describe} on {_day(last_day)}"
    if first_day == last_day:
        return sentence
    if last > first:
        change = "up from"
    elif last < first:
        change = "down from"
    else:
        return f"{sentence}, unchanged since {_day(first_day)}"
    return f"{sentence}, {change} {_fmt(first, unit)} on {_day(first_day)}"


def line_chart(
    title: str,
    series: Sequence[tuple[str, Sequence[Point]]],
    y_max: float | None = 100,
    unit: str = "%",
    *,
    describe: str = "",
    empty_message: str = EMPTY_MESSAGE,
) -> dict[str, Any]:
    """A line per series over dates. ``y_max`` None scales to the data; a None value leaves a
    gap in its line. ``describe`` follows each value in the summary (" ready")."""
    clean = [(label, sorted(points)) for label, points in series]
    days = sorted({day for _label, points in clean for day, _value in points})
    values = [value for _label, points in clean for _day_, value in points if value is not None]
    chart: dict[str, Any] = {
        "kind": "line",
        "id": _chart_id("line", title, [label for label, _points in clean], days[-1:]),
        "title": title,
        "width": WIDTH,
        "height": HEIGHT,
        "empty": not values,
        "empty_message": empty_message,
    }
    if not values:
        chart["summary"] = empty_message
        return chart
    if y_max is None:
        y_max, step = nice_scale(max(values))
    else:
        step = y_max / 4
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = (days[-1] - days[0]).days

    def x_of(day: date) -> float:
        if not span:
            return LEFT + plot_w / 2
        return LEFT + (day - days[0]).days / span * plot_w

    def y_of(value: float) -> float:
        return TOP + plot_h - min(max(value, 0), y_max) / y_max * plot_h

    drawn = []
    for index, (label, points) in enumerate(clean):
        segments: list[list[str]] = [[]]
        dots = []
        for day, value in points:
            if value is None:
                segments.append([])
                continue
            x, y = round(x_of(day), 1), round(y_of(value), 1)
            segments[-1].append(f"{x},{y}")
            dots.append({"x": x, "y": y, "label": f"{label}: {_fmt(value, unit)} on {_day(day)}"})
        drawn.append(
            {
                "label": label,
                "style": index % SERIES_STYLES,
                "paths": [" ".join(segment) for segment in segments if len(segment) > 1],
                "dots": dots,
            }
        )
    by_day = {label: dict(points) for label, points in clean}
    chart.update(
        plot=_plot(plot_h),
        y_ticks=_y_ticks(y_max, step, y_of, unit),
        x_ticks=_x_ticks([(x_of(day), _day(day)) for day in days]),
        series=drawn,
        summary="; ".join(_trend_sentence(label, points, unit, describe) for label, points in clean)
        + ".",
        table={
            "headers": ["Date", *(label for label, _points in clean)],
            "rows": [
                [_day_long(day), *(_fmt(by_day[label].get(day), unit) for label, _p in clean)]
                for day in days
            ],
        },
    )
    return chart


# Bar chart ---------------------------------------------------------------------------------

BAR_ROW = 30
BAR_LABEL_WIDTH = 190
BAR_VALUE_WIDTH = 64
BAR_LABEL_CHARS = 28


def bar_chart(
    title: str,
    bars: Sequence[tuple[str, float | None, str | None]],
    unit: str = "",
    *,
    max_value: float | None = None,
    empty_message: str = EMPTY_MESSAGE,
) -> dict[str, Any]:
    """Horizontal bars, one per ``(label, value, link)``; ``link`` (or None) is where the bar's
    figure is explained (the reps behind it). ``max_value`` fixes the full length (100 for
    percentages); by default the longest bar fills the width."""
    values = [value for _label, value, _link in bars if value is not None]
    chart: dict[str, Any] = {
        "kind": "bars",
        "id": _chart_id("bars", title, [label for label, _value, _link in bars]),
        "title": title,
        "width": WIDTH,
        "empty": not bars,
        "empty_message": empty_message,
    }
    if not bars:
        chart.update(height=BAR_ROW, summary=empty_message)
        return chart
    top = max_value if max_value is not None else max([*values, 0])
    scale_to = top or 1
    bar_x = BAR_LABEL_WIDTH
    bar_w = WIDTH - BAR_LABEL_WIDTH - BAR_VALUE_WIDTH
    drawn = []
    for index, (label, value, link) in enumerate(bars):
        length = 0.0 if value is None else min(max(value, 0), scale_to) / scale_to * bar_w
        short = label if len(label) <= BAR_LABEL_CHARS else label[: BAR_LABEL_CHARS - 1] + "…"
        y = index * BAR_ROW
        drawn.append(
            {
                "label": label,
                "short_label": short,
                "value": value,
                "value_label": _fmt(value, unit),
                "link": link or "",
                "y": y + 5,
                "text_y": y + BAR_ROW / 2 + 4,
                "height": BAR_ROW - 10,
                "width": round(length, 1),
                "value_x": round(bar_x + length + 6, 1),
            }
        )
    listed = ", ".join(f"{label} {_fmt(value, unit)}" for label, value, _link in bars[:12])
    more = len(bars) - 12
    chart.update(
        height=len(bars) * BAR_ROW,
        bar_x=bar_x,
        label_x=bar_x - 8,
        bars=drawn,
        summary=f"{listed}{f', and {more} more' if more > 0 else ''}.",
        table={
            "headers": ["", "Value"],
            "rows": [
                {"label": bar["label"], "value": bar["value_label"], "link": bar["link"]}
                for bar in drawn
            ],
        },
    )
    return chart


# Stacked bars ------------------------------------------------------------------------------


def _column_sentence(
    label: str, values: dict[str, float], categories: Sequence[tuple[str, str]]
) -> str:
    parts = ", ".join(f"{_fmt(values.get(key, 0))} {name.lower()}" for key, name in categories)
    return f"{label}: {parts}"


def stacked_bars(
    title: str,
    categories: Sequence[tuple[str, str]],
    columns: Sequence[tuple[str, dict[str, float]]],
    unit: str = "",
    *,
    empty_message: str = EMPTY_MESSAGE,
) -> dict[str, Any]:
    """Vertical bars, one per ``(label, {category: value})`` column (a day), stacked in the
    order of ``categories`` (``(key, label)``, bottom first); each segment has the class
    ``chart__seg--<key>``."""
    totals = [sum(values.get(key, 0) for key, _name in categories) for _label, values in columns]
    chart: dict[str, Any] = {
        "kind": "stacked",
        "id": _chart_id("stack", title, [label for label, _values in columns[-1:]], categories),
        "title": title,
        "width": WIDTH,
        "height": HEIGHT,
        "empty": not columns or not any(totals),
        "empty_message": empty_message,
        "legend": [{"key": key, "label": name} for key, name in categories],
    }
    if chart["empty"]:
        chart["summary"] = empty_message
        return chart
    y_max, step = nice_scale(max(totals))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(columns)
    bar_w = max(min(slot * 0.7, 48), 1)

    def y_of(value: float) -> float:
        return TOP + plot_h - value / y_max * plot_h

    drawn = []
    for index, (label, values) in enumerate(columns):
        x = LEFT + slot * index + (slot - bar_w) / 2
        base = 0.0
        segments = []
        for key, name in categories:
            value = values.get(key, 0)
            if value > 0:
                top_y, bottom_y = y_of(base + value), y_of(base)
                segments.append(
                    {
                        "key": key,
                        "y": round(top_y, 1),
                        "height": round(bottom_y - top_y, 1),
                        "label": f"{label}: {_fmt(value, unit)} {name.lower()}",
                    }
                )
            base += value
        drawn.append({"label": label, "x": round(x, 1), "segments": segments})
    sentences = [_column_sentence(columns[-1][0], columns[-1][1], categories)]
    if len(columns) > 1:
        sentences.append(_column_sentence(columns[0][0], columns[0][1], categories))
    chart.update(
        bar_width=round(bar_w, 1),
        plot=_plot(plot_h),
        y_ticks=_y_ticks(y_max, step, y_of, unit),
        x_ticks=_x_ticks([(column["x"] + bar_w / 2, column["label"]) for column in drawn]),
        columns=drawn,
        summary="; ".join(sentences) + ".",
        table={
            "headers": ["", *(name for _key, name in categories)],
            "rows": [
                [label, *(_fmt(values.get(key, 0)) for key, _name in categories)]
                for label, values in columns
            ],
        },
    )
    return chart
