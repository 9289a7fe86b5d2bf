"""Charts: one Altair (Vega-Lite) definition, rendered server-side to SVG with vl-convert.

The one place charts are made, so a PDF export can reuse `bar_chart_spec` / `render_svg` (vl-convert also
renders PNG and PDF from the same spec). Inputs are small aggregated rows, never lines. The SVG is meant to
be inlined inside an element with role="img" and a Norwegian label; its own internals are hidden from
assistive technology, and every chart is shown next to a table with the same numbers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import altair as alt
import vl_convert as vlc

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
    """A (stacked) bar chart with the formatted total printed by each bar."""
    names = [b.name for b in bars]
    parts = [{"name": b.name, "series": s, "value": float(b.values.get(s, 0.0)), "order": i}
             for b in bars for i, s in enumerate(series)]
    totals = [{"name": b.name, "total": float(sum(b.values.get(s, 0.0) for s in series)), "label": b.label}
              for b in bars]
    highest = max([t["total"] for t in totals] + [0.0])
    lowest = min([t["total"] for t in totals] + [0.0])
    # room beyond the longest bar for its printed value
    value_scale = alt.Scale(domain=[lowest * 1.15, highest * (1.25 if horizontal else 1.12) or 1.0], nice=True)
    category = alt.X if not horizontal else alt.Y
    value = alt.Y if not horizontal else alt.X
    cat_axis = alt.Axis(title=None, labelLimit=260, labelFontSize=12, **({} if horizontal else {"labelAngle": 0}))
    val_axis = alt.Axis(title=value_title, format=",~r", grid=True, labelFontSize=11, tickCount=5)
    color = alt.Color("series:N", scale=alt.Scale(domain=series, range=PALETTE[:len(series)]),
                      sort=series, legend=alt.Legend(title=legend_title or None, orient="top", labelFontSize=12)
                      if len(series) > 1 else None)
    bar_layer = alt.Chart(alt.Data(values=parts)).mark_bar().encode(
        category("name:N", sort=names, axis=cat_axis),
        value("value:Q", stack="zero", axis=val_axis, scale=value_scale),
        color,
        order=alt.Order("order:Q"),
    )
    text_layer = alt.Chart(alt.Data(values=totals)).mark_text(
        align="left" if horizontal else "center", baseline="middle" if horizontal else "bottom",
        dx=4 if horizontal else 0, dy=0 if horizontal else -3, fontSize=12, color="#1a1a1a",
    ).encode(
        category("name:N", sort=names),
        value("total:Q"),
        text="label:N",
    )
    chart = alt.layer(bar_layer, text_layer)
    if horizontal:
        chart = chart.properties(width=480, height=max(60, 26 * len(bars)))
    else:
        chart = chart.properties(width=max(420, min(720, 90 * len(bars))), height=260)
    spec = chart.configure(font=FONT, aria=False).configure_view(stroke=None).to_dict()
    spec.pop("$schema", None)
    return spec


_ROOT_SVG = re.compile(r"<svg\b")


def render_svg(spec: dict, *, language: str = "nb") -> str:
    """SVG text for inlining: hidden from assistive technology (the wrapper carries the label)."""
    locale = FORMAT_LOCALES["nb" if language.startswith(("nb", "no")) else "en"]
    svg = vlc.vegalite_to_svg(spec, format_locale=locale)
    return _ROOT_SVG.sub('<svg aria-hidden="true" focusable="false"', svg, count=1)


def bar_chart_svg(bars: list[Bar], *, series: list[str], value_title: str, horizontal: bool = False,
                  legend_title: str = "", language: str = "nb") -> str:
    return render_svg(bar_chart_spec(bars, series=series, value_title=value_title, horizontal=horizontal,
                                     legend_title=legend_title), language=language)
