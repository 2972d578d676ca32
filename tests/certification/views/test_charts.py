"""Server-drawn charts: values map to coordinates, summaries say what moved, empty data gives
a message, and the partials render accessible SVG without inline styles."""

from __future__ import annotations

import re
from datetime import date, timedelta
from itertools import pairwise

import pytest
from django.template.loader import render_to_string

from certification.views.charts import (
    BAR_LABEL_WIDTH,
    BAR_VALUE_WIDTH,
    BOTTOM,
    HEIGHT,
    LEFT,
    RIGHT,
    TOP,
    WIDTH,
    _extent,
    bar_chart,
    line_chart,
    nice_scale,
    stacked_bars,
)

D1, D2, D3 = date(2026, 8, 30), date(2026, 10, 11), date(2026, 11, 22)
PLOT_BOTTOM = HEIGHT - BOTTOM
PLOT_H = HEIGHT - TOP - BOTTOM


def test_line_values_map_to_coordinates():
    chart = line_chart("Ready", [("Acme Cloud", [(D1, 0), (D3, 100), (D2, 50)])])
    (series,) = chart["series"]
    points = [tuple(map(float, p.split(","))) for p in series["paths"][0].split()]
    # sorted by date; first at the left edge and bottom, last at the right edge and top
    assert points[0] == (LEFT, PLOT_BOTTOM)
    assert points[2] == (WIDTH - RIGHT, TOP)
    # 11 Oct is 42 of 84 days along, and 50 % is half-way up
    assert points[1] == (LEFT + (WIDTH - LEFT - RIGHT) / 2, TOP + PLOT_H / 2)
    assert [tick["label"] for tick in chart["y_ticks"]] == ["0%", "25%", "50%", "75%", "100%"]
    assert chart["x_ticks"][0]["label"] == "30 Aug"


def test_line_summary_says_what_moved():
    chart = line_chart(
        "Customer ready",
        [
            ("Acme Cloud", [(D1, 40), (D3, 62)]),
            ("Acme Secure", [(D1, 50), (D3, 45)]),
            ("Acme Analytics", [(D1, 10), (D3, 10)]),
        ],
        describe=" ready",
    )
    assert chart["summary"] == (
        "Acme Cloud: 62% ready on 22 Nov, up from 40% on 30 Aug; "
        "Acme Secure: 45% ready on 22 Nov, down from 50% on 30 Aug; "
        "Acme Analytics: 10% ready on 22 Nov, unchanged since 30 Aug."
    )
    assert chart["table"]["headers"] == ["Date", "Acme Cloud", "Acme Secure", "Acme Analytics"]
    assert chart["table"]["rows"][0] == ["30 Aug 2026", "40%", "50%", "10%"]


def test_a_missing_value_breaks_the_line():
    chart = line_chart("Ready", [("A", [(D1, 10), (D2, None), (D3, 30)])])
    (series,) = chart["series"]
    assert series["paths"] == []  # two single points: nothing to join
    assert len(series["dots"]) == 2
    assert chart["table"]["rows"][1] == ["11 Oct 2026", "—"]


def test_counts_scale_to_a_round_maximum():
    chart = line_chart("Expiring", [("Expiring", [(D1, 3), (D3, 7)])], y_max=None, unit="")
    assert [tick["label"] for tick in chart["y_ticks"]] == ["0", "2", "4", "6", "8"]
    assert nice_scale(0) == (1.0, 1.0)
    assert nice_scale(3) == (3, 1)
    assert nice_scale(940) == (1000, 250)


@pytest.mark.parametrize("series", [[], [("A", [])], [("A", [(D1, None)])]])
def test_nothing_to_draw_gives_a_message(series):
    chart = line_chart("Ready", series, empty_message="No snapshot yet.")
    assert chart["empty"]
    html = render_to_string("partials/chart_line.html", {"chart": chart})
    assert "No snapshot yet." in html
    assert "<svg" not in html


def test_bars_are_as_long_as_their_value():
    chart = bar_chart("Ready", [("Cloud", 50, "/gaps/?o=1"), ("Secure", 100, None)], unit="%")
    cloud, secure = chart["bars"]
    full = WIDTH - BAR_LABEL_WIDTH - BAR_VALUE_WIDTH
    assert secure["width"] == full
    assert cloud["width"] == full / 2
    assert cloud["y"] < secure["y"]
    assert chart["summary"] == "Cloud 50%, Secure 100%."
    fixed = bar_chart("Ready", [("Cloud", 50, None)], max_value=100)
    assert fixed["bars"][0]["width"] == full / 2


def test_no_bars_gives_a_message():
    chart = bar_chart("Tiers", [])
    html = render_to_string("partials/chart_bars.html", {"chart": chart})
    assert chart["empty"]
    assert "No figures to draw yet." in html


def test_stacked_segments_pile_up_in_category_order():
    categories = [("gold", "Gold"), ("silver", "Silver"), ("none", "No tier")]
    chart = stacked_bars(
        "Tiers",
        categories,
        [("30 Aug", {"gold": 1, "none": 3}), ("22 Nov", {"gold": 2, "silver": 2})],
    )
    first, last = chart["columns"]
    gold, none = first["segments"]
    assert [s["key"] for s in first["segments"]] == ["gold", "none"]
    # a scale of 0..4: gold is the bottom quarter, no tier the three quarters above it
    assert gold["y"] + gold["height"] == pytest.approx(PLOT_BOTTOM)
    assert gold["height"] == pytest.approx(PLOT_H / 4, abs=0.1)
    assert none["y"] == pytest.approx(TOP)
    assert first["x"] < last["x"]
    assert (
        chart["summary"]
        == "22 Nov: 2 gold, 2 silver, 0 no tier; 30 Aug: 1 gold, 0 silver, 3 no tier."
    )
    assert chart["table"]["rows"][0] == ["30 Aug", "1", "0", "3"]


def test_all_zero_columns_give_a_message():
    assert stacked_bars("Tiers", [("gold", "Gold")], [("1 Nov", {"gold": 0})])["empty"]
    assert stacked_bars("Tiers", [("gold", "Gold")], [])["empty"]


@pytest.mark.parametrize(
    ("template", "chart"),
    [
        ("partials/chart_line.html", line_chart("Ready <now>", [("A & B", [(D1, 40), (D3, 62)])])),
        ("partials/chart_bars.html", bar_chart("Bars", [("A", 3, "/x/")])),
        (
            "partials/chart_bars.html",
            stacked_bars("Stack", [("gold", "Gold")], [("1 Nov", {"gold": 4})]),
        ),
    ],
)
def test_the_partials_draw_accessible_svg_without_inline_style(template, chart):
    html = render_to_string(template, {"chart": chart})
    assert 'role="img"' in html
    assert f'aria-labelledby="{chart["id"]}-title"' in html
    assert re.search(rf'<title id="{chart["id"]}-title">', html)
    assert "<details" in html
    assert "<table>" in html
    assert "style=" not in html
    assert "<style" not in html
    assert "<now>" not in html  # escaped


def test_axis_labels_never_touch_and_the_latest_day_is_labelled():
    end = date(2026, 11, 22)
    days = sorted(
        {end - timedelta(weeks=w) for w in range(14)} | {end - timedelta(days=d) for d in range(14)}
    )
    chart = line_chart("Ready", [("A", [(day, 10) for day in days])])
    ticks = chart["x_ticks"]
    assert ticks[0] == {"x": LEFT, "label": "23 Aug", "anchor": "start"}
    assert ticks[-1] == {"x": WIDTH - RIGHT, "label": "22 Nov", "anchor": "end"}
    spans = [_extent(tick["x"], tick["label"]) for tick in ticks]
    assert all(right[0] - left[1] > 0 for left, right in pairwise(spans))
