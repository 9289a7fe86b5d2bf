"""Charts of measures (Vega-Lite dicts, drawn like the dashboards' by web/static/web/charts.js and by the PDF):
the marginal abatement cost curve and the trajectory to a target year. Inputs are the few rows of
selectors.measures (one per measure or per year), never lines; every chart is shown beside a table of the same
numbers."""
from __future__ import annotations

from klimainnkjop.reports.charts import FONT, PALETTE, chart_payload

CONFIG = {"view": {"continuousWidth": 300, "continuousHeight": 300, "stroke": None}, "aria": False, "font": FONT}


def abatement_curve_spec(bars: list[dict], *, x_title: str, y_title: str, kind_title: str,
                         kind_labels: dict[int, str]) -> dict:
    """One rectangle per measure: from x0 to x1 (tonnes per year, cumulated, cheapest first), height NOK per
    tonne (below zero: a measure that saves money). `bars`: selectors.measures.abatement_curve rows."""
    values = [{"name": b["name"], "kind": kind_labels.get(b["kind"], str(b["kind"])), "x0": b["x0"], "x1": b["x1"],
               "cost": b["nok_per_tonne"]} for b in bars]
    domain = [kind_labels[k] for k in sorted(kind_labels)]
    return _curve(values, domain, x_title, y_title, kind_title)


def _curve(values: list[dict], domain: list[str], x_title: str, y_title: str, kind_title: str) -> dict:
    return {
        "config": CONFIG, "width": 640, "height": 300,
        "data": {"values": [v | {"zero": 0.0} for v in values]},
        "mark": {"type": "rect", "stroke": "#ffffff", "strokeWidth": 1},
        "encoding": {
            "x": {"field": "x0", "type": "quantitative", "title": x_title, "axis": {"format": ",~r", "grid": True}},
            "x2": {"field": "x1"},
            "y": {"field": "zero", "type": "quantitative", "title": y_title, "axis": {"format": ",~r", "grid": True}},
            "y2": {"field": "cost"},
            "color": {"field": "kind", "type": "nominal", "title": kind_title,
                      "scale": {"domain": domain, "range": PALETTE[:len(domain)]}, "legend": {"orient": "top"}},
        },
    }


def abatement_curve(bars: list[dict], *, x_title: str, y_title: str, kind_title: str, kind_labels: dict[int, str],
                    language: str = "nb") -> dict:
    return chart_payload(abatement_curve_spec(bars, x_title=x_title, y_title=y_title, kind_title=kind_title,
                                              kind_labels=kind_labels), language=language)


def trajectory_spec(rows: list[dict], *, y_title: str, scenario_labels: dict[str, str]) -> dict:
    """Tonnes CO2e per year, one line per scenario (business as usual, with the package)."""
    values = [{"year": str(r["year"]), "scenario": scenario_labels.get(r["scenario"], r["scenario"]),
               "tonnes": r["kg_co2e"] / 1000.0} for r in rows]
    domain = [scenario_labels[k] for k in scenario_labels]
    return {
        "config": CONFIG, "width": 640, "height": 280,
        "data": {"values": values},
        "mark": {"type": "line", "point": True, "strokeWidth": 3},
        "encoding": {
            "x": {"field": "year", "type": "ordinal", "title": None, "axis": {"labelAngle": 0}},
            "y": {"field": "tonnes", "type": "quantitative", "title": y_title, "scale": {"zero": True},
                  "axis": {"format": ",~r", "grid": True}},
            "color": {"field": "scenario", "type": "nominal", "title": None,
                      "scale": {"domain": domain, "range": PALETTE[:len(domain)]}, "legend": {"orient": "top"}},
            "strokeDash": {"field": "scenario", "type": "nominal", "legend": None,
                           "scale": {"domain": domain, "range": [[6, 4], [1, 0], [2, 2]][:len(domain)]}},
        },
    }


def trajectory(rows: list[dict], *, y_title: str, scenario_labels: dict[str, str], language: str = "nb") -> dict:
    return chart_payload(trajectory_spec(rows, y_title=y_title, scenario_labels=scenario_labels), language=language)


def effect_split_spec(steps: list[dict], *, y_title: str, kind_labels: dict[str, str]) -> dict:
    """The change between two periods as a waterfall: the first period's tonnes, the volume part and the intensity
    part (each from where the one before ended), the second period's tonnes. `steps`: label, kind ('total',
    'volume', 'intensity'), start and end in tonnes."""
    values = [{"step": s["label"], "kind": kind_labels.get(s["kind"], s["kind"]), "start": s["start"],
               "end": s["end"], "order": i} for i, s in enumerate(steps)]
    domain = [kind_labels[k] for k in kind_labels]
    return {
        "config": CONFIG, "width": 480, "height": 280,
        "data": {"values": values},
        "mark": {"type": "bar"},
        "encoding": {
            "x": {"field": "step", "type": "nominal", "title": None, "sort": {"field": "order"},
                  "axis": {"labelAngle": 0}},
            "y": {"field": "start", "type": "quantitative", "title": y_title, "scale": {"zero": True},
                  "axis": {"format": ",~r", "grid": True}},
            "y2": {"field": "end"},
            "color": {"field": "kind", "type": "nominal", "title": None,
                      "scale": {"domain": domain, "range": PALETTE[:len(domain)]}, "legend": {"orient": "top"}},
        },
    }


def effect_split(steps: list[dict], *, y_title: str, kind_labels: dict[str, str], language: str = "nb") -> dict:
    return chart_payload(effect_split_spec(steps, y_title=y_title, kind_labels=kind_labels), language=language)
