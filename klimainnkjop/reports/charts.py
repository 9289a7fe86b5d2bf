"""Charts: one Vega-Lite definition (the dict Altair would write), drawn as SVG in the browser and as an image
in the PDF.

The one place charts are made. A page embeds the spec (`chart_payload`) and web/static/web/charts.js draws it
with Vega-Embed inside an element with role="img" and a Norwegian label, hiding the SVG's own internals from
assistive technology; the PDF reports render the same spec with vl-convert (reports/pdf.py). Drawing in the
browser keeps the page's server time free of chart rendering (about 0.13 s per chart with vl-convert). Inputs
are small aggregated rows, never lines, and every chart is shown next to a table with the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

# Okabe & Ito (2008), distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]

# d3-format locales: Norwegian uses a (non-breaking) space for thousands and a decimal comma.
FORMAT_LOCALES = {
    "nb": {"decimal": ",", "thousands": "\u00a0", "grouping": [3], "currency": ["", "\u00a0kr"], "minus": "\u2212"},
    "en": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["", " NOK"]},
}
FONT = "Inter, Arial, Helvetica, sans-serif"


@dataclass(frozen=True)
class Bar:
    name: str  # the category on the axis
    values: dict[str, float]  # series label -> value (stacked in the order of `series`)
    label: str  # the total as shown in the table (already formatted), printed at the end of the bar


def bar_chart_spec(bars: list[Bar], *, series: list[str], value_title: str, horizontal: bool = False,
                   legend_title: str = "") -> dict:
    """A (stacked) bar chart with the formatted total printed by each bar, as a Vega-Lite dict.

    Written out as the dict Altair would produce (tests/test_web_dashboards.py compares the two), without
    Altair's schema validation, which cost most of a page's time."""
    names = [b.name for b in bars]
    parts = [{"name": b.name, "series": s, "value": float(b.values.get(s, 0.0)), "order": i}
             for b in bars for i, s in enumerate(series)]
    totals = [{"name": b.name, "total": float(sum(b.values.get(s, 0.0) for s in series)), "label": b.label}
              for b in bars]
    highest = max([t["total"] for t in totals] + [0.0])
    lowest = min([t["total"] for t in totals] + [0.0])
    # room beyond the longest bar for its printed value
    value_scale = {"domain": [lowest * 1.15, highest * (1.25 if horizontal else 1.12) or 1.0], "nice": True}
    category, value = ("y", "x") if horizontal else ("x", "y")
    cat_axis = {"title": None, "labelLimit": 260, "labelFontSize": 12, **({} if horizontal else {"labelAngle": 0})}
    val_axis = {"title": value_title, "format": ",~r", "grid": True, "labelFontSize": 11, "tickCount": 5}
    legend = ({"title": legend_title or None, "orient": "top", "labelFontSize": 12} if len(series) > 1 else None)
    color = {"field": "series", "type": "nominal", "scale": {"domain": list(series), "range": PALETTE[:len(series)]},
             "sort": list(series), "legend": legend}
    bar_layer = {
        "data": {"values": parts}, "mark": {"type": "bar"},
        "encoding": {
            category: {"field": "name", "type": "nominal", "sort": names, "axis": cat_axis},
            value: {"field": "value", "type": "quantitative", "stack": "zero", "axis": val_axis, "scale": value_scale},
            "color": color,
            "order": {"field": "order", "type": "quantitative"},
        },
    }
    text_layer = {
        "data": {"values": totals},
        "mark": {"type": "text", "align": "left" if horizontal else "center",
                 "baseline": "middle" if horizontal else "bottom", "dx": 4 if horizontal else 0,
                 "dy": 0 if horizontal else -3, "fontSize": 12, "color": "#1a1a1a"},
        "encoding": {
            category: {"field": "name", "type": "nominal", "sort": names},
            value: {"field": "total", "type": "quantitative"},
            "text": {"field": "label", "type": "nominal"},
        },
    }
    if horizontal:
        size = {"width": 480, "height": max(60, 26 * len(bars))}
    else:
        size = {"width": max(420, min(720, 90 * len(bars))), "height": 260}
    return {"config": {"view": {"continuousWidth": 300, "continuousHeight": 300, "stroke": None}, "aria": False,
                       "font": FONT},
            "layer": [bar_layer, text_layer], **size}


def locale_code(language: str) -> str:
    return "nb" if language.startswith(("nb", "no")) else "en"


def chart_payload(spec: dict, *, language: str = "nb") -> dict:
    """What a page embeds (as JSON in a script element of type application/json) for the browser to draw:
    the spec and the number format of the page's language. web/static/web/charts.js draws it as SVG with
    Vega-Embed; the PDF draws the same spec with vl-convert (reports/pdf.py)."""
    return {"spec": spec, "locale": FORMAT_LOCALES[locale_code(language)]}


def bar_chart(bars: list[Bar], *, series: list[str], value_title: str, horizontal: bool = False,
              legend_title: str = "", language: str = "nb") -> dict:
    return chart_payload(bar_chart_spec(bars, series=series, value_title=value_title, horizontal=horizontal,
                                        legend_title=legend_title), language=language)
