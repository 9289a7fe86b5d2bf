"""The figures of one report: an organisation, a unit (with its sub-units) or the region, for one period.

Everything is read through selectors.results.totals (the same function the dashboard and `klimainnkjop
totals` use), filtered to the period's months, so a report's totals are the selectors' totals. They are summed
by core.figures.Figures, the one figures type the dashboards use too (money in integer øre, as the engine keeps
it).

Two layouts share these figures: the standard report, and the funder's progress or final report
(Framdriftsrapport / Sluttrapport to Klimasats, Miljødirektoratet): the same period's results compared with
the same period a year before and with a baseline year, and the author's texts (activities carried out,
deviations from plan, experiences, further work), checked by `clean_layout`.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db.models import Max
from django.utils import translation
from django.utils.translation import gettext

from klimainnkjop import access
from klimainnkjop.access import Scope
from klimainnkjop.reports.periods import Period
from klimainnkjop.selectors import dashboard, measures, results
from klimainnkjop.core.errors import InvalidInput
from klimainnkjop.core.figures import Figures, grouped, total as total_of
from klimainnkjop.storage.models import Category, FactorSet, ImportBatch, Organisation, Region, Report, Unit

SCOPE_ORG, SCOPE_UNIT, SCOPE_REGION = "org", "unit", "region"
METHOD_NAMES = {"supplier": "Leverandørspesifikk", "activity": "Aktivitetsbasert", "spend": "Utgiftsbasert",
                None: "Uten faktor", "": "Uten faktor"}
QUALITY_NAMES = {1: "1 (best: verifisert leverandørdata)", 2: "2", 3: "3", 4: "4", 5: "5 (svakest: grove anslag)",
                 None: "Uten faktor"}
TOP_CATEGORIES = 5

LAYOUT_STANDARD, LAYOUT_FUNDER = Report.LAYOUT_STANDARD, Report.LAYOUT_FUNDER
LAYOUTS = (LAYOUT_STANDARD, LAYOUT_FUNDER)
# The funder layout's free texts: key -> (heading in the report, most characters). The order is the report's.
TEXT_FIELDS = {
    "project": ("Prosjekt", 300),
    "activities": ("Gjennomførte aktiviteter", 5000),
    "deviations": ("Avvik fra plan", 5000),
    "experiences": ("Erfaringer", 5000),
    "next_steps": ("Videre arbeid", 5000),
}
# Choices kept with the texts (so the archived Report row says what it was): progress or final report, and
# the baseline year to compare with (default: the first year with figures).
KIND_PROGRESS, KIND_FINAL = "progress", "final"
KIND_TITLES = {KIND_PROGRESS: "Framdriftsrapport", KIND_FINAL: "Sluttrapport"}
OPTION_FIELDS = ("kind", "baseline_year")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_layout(layout: str | None, texts: dict | None, period: Period | None = None) -> tuple[str, dict[str, str]]:
    """The layout and its texts, checked: a known layout, texts only for the funder layout, known keys, short
    strings without control characters, a baseline year not after the period. Line ends become a newline,
    ends are stripped, empty texts dropped. Raises InvalidInput naming the field."""
    layout = layout or LAYOUT_STANDARD
    if layout not in LAYOUTS:
        raise InvalidInput.at("--layout", gettext("%(layout)r must be one of %(layouts)s"), layout=layout,
                              layouts=", ".join(LAYOUTS))
    if texts is None:
        texts = {}
    if not isinstance(texts, dict):
        raise InvalidInput.at("texts", gettext("must be a mapping of field to text, not %(type)s"),
                              type=type(texts).__name__)
    if texts and layout != LAYOUT_FUNDER:
        raise InvalidInput.at("texts", gettext("only the %(funder)s layout takes texts; this report's layout is "
                                               "%(layout)s"), funder=LAYOUT_FUNDER, layout=layout)
    cleaned: dict[str, str] = {}
    for key, value in texts.items():
        if key not in TEXT_FIELDS and key not in OPTION_FIELDS:
            raise InvalidInput.at("texts", gettext("unknown field %(key)r; choose among %(fields)s"), key=key,
                                  fields=", ".join([*TEXT_FIELDS, *OPTION_FIELDS]))
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidInput.at("texts", gettext("%(key)r must be text, not %(type)s"), key=key,
                                  type=type(value).__name__)
        value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
        if _CONTROL.search(value):
            raise InvalidInput.at("texts", gettext("%(key)r (%(label)s) contains a control character"), key=key,
                                  label=TEXT_FIELDS.get(key, (key,))[0])
        if key == "kind":
            if value and value not in KIND_TITLES:
                raise InvalidInput.at("texts", gettext("'kind' %(value)r must be %(progress)s or %(final)s"),
                                      value=value, progress=KIND_PROGRESS, final=KIND_FINAL)
        elif key == "baseline_year":
            if value and not re.fullmatch(r"(19|2\d)\d\d", value):
                raise InvalidInput.at("--baseline-year", gettext("%(year)r is not a year"), year=value)
            if value and period is not None and int(value) > period.year:
                raise InvalidInput.at("--baseline-year", gettext("%(year)s is after the report's period %(period)s"),
                                      year=value, period=period.code)
        elif len(value) > TEXT_FIELDS[key][1]:
            raise InvalidInput.at("texts", gettext("%(key)r (%(label)s) has %(length)s characters; at most %(limit)s"),
                                  key=key, label=TEXT_FIELDS[key][0], length=len(value), limit=TEXT_FIELDS[key][1])
        if value:
            cleaned[key] = value
    return layout, cleaned


@dataclass
class FactorSetInfo:
    label: str
    name: str
    version: str
    publisher: str
    licence: str
    attribution: str
    gwp_basis: str
    role: str


@dataclass
class Comparison:
    """The same months of an earlier year (the year before, or the baseline year), for the funder layout."""

    period: Period
    label: str  # column heading, e.g. "2024H1" or "2021H1 (basisår)"
    baseline: bool
    total: Figures
    by_category: dict = field(default_factory=dict)  # key -> Figures
    by_part: dict = field(default_factory=dict)  # key -> Figures
    annual_lines: int = 0  # month-0 lines of that year, outside a part-year comparison


@dataclass
class ReportData:
    scope_kind: str
    period: Period
    title: str
    subject: str  # who: the organisation, unit or region name
    orgnr: str | None
    unit_code: str | None
    consolidated: bool
    run_id: int
    run_created_at: dt.datetime
    factor_set: str
    factor_sets: list[FactorSetInfo]
    data_as_of: dt.datetime | None
    generated_at: dt.datetime
    total: Figures
    previous: Figures
    annual_left_out: Figures  # month-0 (annual KOSTRA) lines of the year, not in a part-year report
    by_category: list[Figures] = field(default_factory=list)
    by_part: list[Figures] = field(default_factory=list)  # per unit (org, unit reports) or per organisation (region)
    part_label: str = "Enhet"
    by_month: list[Figures] = field(default_factory=list)
    by_method: list[Figures] = field(default_factory=list)
    by_quality: list[Figures] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    layout: str = LAYOUT_STANDARD
    texts: dict[str, str] = field(default_factory=dict)  # the funder layout's texts (clean_layout)
    baseline_year: int | None = None  # funder layout: the year compared with, when before the period
    through_month: int | None = None  # the year under way: its last month (dashboard.under_way_through)
    comparisons: list[Comparison] = field(default_factory=list)  # funder layout: year before, baseline year
    measures: list[dict] = field(default_factory=list)  # selectors.measures.measure_rows of the subject (issue 10)
    packages: list[dict] = field(default_factory=list)  # selectors.measures.package_rows (region and org reports)
    kpis: list = field(default_factory=list)  # selectors.kpis.KpiRow: the KPIs against their targets, as on the pages

    @property
    def final(self) -> bool:
        return self.texts.get("kind") == KIND_FINAL

    @property
    def top_categories(self) -> list[Figures]:
        return [s for s in self.by_category if s.kg > 0][:TOP_CATEGORIES]


def _units_below(orgnr: str, code: str) -> set[str]:
    unit = Unit.objects.filter(organisation__orgnr=orgnr, code=code).first()
    if unit is None:
        raise InvalidInput(f"--unit: organisation {orgnr} has no unit {code!r}")
    codes, frontier = {unit.code}, [unit.pk]
    while frontier:
        children = list(Unit.objects.filter(parent_id__in=frontier).values_list("pk", "code"))
        frontier = [pk for pk, _ in children]
        codes.update(c for _, c in children)
    return codes


class _Reader:
    """results.totals for the report's subject, limited to a period's months (and a unit's codes)."""

    def __init__(self, scope: Scope, orgnr: str | None, units: set[str] | None):
        self.scope, self.orgnr, self.units = scope, orgnr, units
        self.document: dict | None = None

    def rows(self, year: int, months: tuple[int, ...], by: list[str]) -> list[dict]:
        keys = ["month", "investment"] + [k for k in by if k not in ("month", "investment")]
        if self.units is not None and "unit" not in keys:
            keys.append("unit")
        document = results.totals(self.scope, org=self.orgnr, year=year, by=keys)
        self.document = self.document or document
        wanted = set(months)
        return [r for r in document["rows"] if r["month"] in wanted and (self.units is None or r["unit"] in self.units)]

    def years(self) -> list[int]:
        """The years with purchase lines for the report's subject."""
        keys = ["year"] + (["unit"] if self.units is not None else [])
        rows = results.totals(self.scope, org=self.orgnr, by=keys)["rows"]
        return sorted({r["year"] for r in rows if r["lines"] and (self.units is None or r["unit"] in self.units)})


def _grouped(rows: list[dict], key, names: dict | None = None) -> list[Figures]:
    return grouped(rows, key, lambda k: str((names or {}).get(k, k if k not in (None, "") else "–")))


MONTHS_NB = {1: "januar", 2: "februar", 3: "mars", 4: "april", 5: "mai", 6: "juni", 7: "juli", 8: "august",
             9: "september", 10: "oktober", 11: "november", 12: "desember"}


def _so_far(through: int) -> tuple[tuple[int, ...], str]:
    """The months of a year under way up to `through` (dashboard.so_far), and how the report names them."""
    return dashboard.so_far(through), f"januar–{MONTHS_NB[through]}"


def _total(rows: list[dict], name: str = "") -> Figures:
    return total_of(rows, None, name)


def _parts(reader: _Reader, year: int, months: tuple[int, ...], scope_kind: str, orgnr: str | None,
           names: dict) -> list[Figures]:
    """Per organisation (region) or per unit (organisation, unit), largest first."""
    if scope_kind == SCOPE_REGION:
        rows = reader.rows(year, months, ["org"])
        return sorted(_grouped(rows, lambda r: r["org"], names), key=lambda s: -s.kg)
    rows = reader.rows(year, months, ["unit"])
    return sorted(_grouped(rows, lambda r: r["unit"] or "", {**names, "": "Uten enhet"}), key=lambda s: -s.kg)


def _categories(rows: list[dict], names: dict) -> list[Figures]:
    """Per category, largest first."""
    return sorted(_grouped(rows, lambda r: r["category"] or "", {**names, "": "Uten kategori"}), key=lambda s: -s.kg)


@translation.override("nb")  # the report is written in bokmål, whichever face asks for it (the CLI speaks English)
def build(scope: Scope, *, scope_kind: str, period: Period, orgnr: str | None = None,
          unit_code: str | None = None, layout: str = LAYOUT_STANDARD, texts: dict | None = None) -> ReportData:
    """The figures of a report. Raises OutsideScope / PermissionError / InvalidInput / results.NoResults.

    layout "funder" adds the comparisons with the year before and the baseline year and carries the texts."""
    layout, texts = clean_layout(layout, texts, period)
    if scope_kind not in (SCOPE_ORG, SCOPE_UNIT, SCOPE_REGION):
        raise InvalidInput(f"scope: {scope_kind!r} must be org, unit or region")
    units: set[str] | None = None
    if scope_kind != SCOPE_REGION and not orgnr:
        raise InvalidInput("--org: an organisation number is needed")
    if scope_kind == SCOPE_UNIT and not unit_code:
        raise InvalidInput("--unit: a unit code is needed for a unit report")
    access.check_report_subject(scope, scope_kind=scope_kind, orgnr=orgnr, unit_code=unit_code)
    if scope_kind == SCOPE_REGION:
        orgnr = None
        regions = list(Region.objects.values_list("name", flat=True)[:2])
        subject = regions[0] if len(regions) == 1 else "Regionen"
    else:
        org = Organisation.objects.filter(orgnr=orgnr).first()
        if org is None:
            raise InvalidInput(f"--org: no organisation with orgnr {orgnr}")
        subject = org.name
        if scope_kind == SCOPE_UNIT:
            units = _units_below(orgnr, unit_code)
            name = Unit.objects.filter(organisation__orgnr=orgnr, code=unit_code).values_list("name", flat=True).first()
            subject = f"{org.name}, {unit_code} {name or ''}".strip()
    reader = _Reader(scope, orgnr, units)
    months = period.months
    current = reader.rows(period.year, months, ["category"])
    # the year under way is compared with the same months of the year before (as the dashboards do)
    through = dashboard.under_way_through(period.year, max((r["month"] for r in current if r["lines"]), default=0)) \
        if period.full_year else None
    previous = reader.rows(period.year - 1, _so_far(through)[0] if through else months, [])
    document = reader.document
    run = results.latest_run()
    if run is None or document is None:
        raise RuntimeError("no computed results or no report document to read")

    category_names = dict(Category.objects.values_list("code", "name_nb"))
    by_category = _categories(current, category_names)
    if scope_kind == SCOPE_REGION:
        part_names = dict(Organisation.objects.values_list("orgnr", "name"))
        part_label = "Organisasjon"
    else:
        part_names = {code: f"{code} {name}".strip()
                      for code, name in Unit.objects.filter(organisation__orgnr=orgnr).values_list("code", "name")}
        part_label = "Enhet"
    by_part = _parts(reader, period.year, months, scope_kind, orgnr, part_names)
    month_names = {0: "Hele året (årslinjer, KOSTRA)", **{m: f"{m:02d}" for m in range(1, 13)}}
    by_month = sorted(_grouped(current, lambda r: r["month"], month_names), key=lambda s: s.key)
    method_rows = reader.rows(period.year, months, ["method", "quality"])
    by_method = sorted(_grouped(method_rows, lambda r: r["method"], METHOD_NAMES), key=lambda s: -s.kg)
    by_quality = sorted(_grouped(method_rows, lambda r: r["quality"], QUALITY_NAMES),
                        key=lambda s: (s.key is None, s.key or 0))
    annual = [] if period.full_year else reader.rows(period.year, (0,), [])

    sets = {fs.label: fs for fs in FactorSet.objects.filter(
        name__in=[label.partition(":")[0] for label in run.run.factor_sets])}
    factor_sets = [FactorSetInfo(label, fs.name, fs.version, fs.publisher, fs.licence, fs.attribution, fs.gwp_basis,
                                 fs.role)
                   for label in run.run.factor_sets if (fs := sets.get(label)) is not None]
    orgs = [orgnr] if orgnr else list(scope.organisations().values_list("orgnr", flat=True))
    with access.activate(scope):  # the report reads in its own scope, whoever generates it
        as_of = ImportBatch.objects.filter(pk__in=run.run.batch_ids, organisation__orgnr__in=orgs) \
            .aggregate(latest=Max("created_at"))["latest"]

    kind_word = {SCOPE_ORG: "Klimaregnskap for innkjøp", SCOPE_UNIT: "Klimaregnskap for innkjøp",
                 SCOPE_REGION: "Klimaregnskap for innkjøp i regionen"}[scope_kind]
    if layout == LAYOUT_FUNDER:
        kind_word = KIND_TITLES[texts.get("kind", KIND_PROGRESS)]
    data = ReportData(
        scope_kind=scope_kind, period=period, title=f"{kind_word}: {subject}, {period.code}", subject=subject,
        orgnr=orgnr, unit_code=unit_code if scope_kind == SCOPE_UNIT else None,
        consolidated=bool(document["consolidated"]), run_id=run.run.pk, run_created_at=run.run.created_at,
        factor_set=run.factor_set_label, factor_sets=factor_sets, data_as_of=as_of,
        generated_at=dt.datetime.now(dt.timezone.utc),
        total=_total(current, "Totalt"),
        previous=_total(previous, period.previous_year().code
                        + (f" ({_so_far(through)[1]})" if through else "")),
        annual_left_out=_total(annual), by_category=by_category, by_part=by_part, part_label=part_label,
        by_month=by_month, by_method=by_method, by_quality=by_quality, layout=layout, texts=texts,
        through_month=through,
    )
    if period.full_year:
        data.notes.append("Årsrapporten tar med linjer uten måned (KOSTRA-tall for hele året, måned 0).")
    if through:
        data.notes.append(f"Året {period.year} er ikke avsluttet: tallene går til og med {MONTHS_NB[through]}, og "
                          f"de sammenlignes med {_so_far(through)[1]} {period.year - 1}, ikke med hele året.")
    else:
        left_out = f"{data.annual_left_out.kg / 1000:.1f}".replace(".", ",")
        data.notes.append("KOSTRA-tall gjelder hele året og har ingen måned; de er bare med i årsrapporter."
                          + (f" For {period.year} utgjør de {left_out} tonn CO2e som ikke er med her."
                             if data.annual_left_out.lines else ""))
    if data.consolidated:
        data.notes.append("Konsolidert: kjøp mellom organisasjoner i regionen er holdt utenfor, fordi selgerens "
                          "egne innkjøp allerede er med.")
    combined = _combine_ranges(data, scope, orgnr, units, months, run)
    data.notes.append("Tallene er anslag: utgift × utslippsfaktor. " + (
        "Intervallet lav–høy for totalen og for hver kategori er et 95 %-intervall satt sammen av linjenes "
        "usikkerhet (linjer med samme faktor varierer sammen, ulike faktorer uavhengig); for de andre radene er det "
        "summen av faktorenes usikkerhet." if combined else
        "Intervallet lav–høy er summen av faktorenes usikkerhet."))
    if layout == LAYOUT_FUNDER:
        _add_comparisons(data, reader, category_names, part_names)
        if scope_kind == SCOPE_REGION:
            _name_partial_years(data, scope, run)
    data.kpis = kpi_rows(scope, period, orgnr, unit_code if scope_kind == SCOPE_UNIT else None, run)
    if scope_kind != SCOPE_UNIT:  # measures apply to organisations and the region, not to units
        _add_measures(data, scope, orgnr)
    return data


def _combine_ranges(data: ReportData, scope: Scope, orgnr: str | None, units: set[str] | None,
                    months: tuple[int, ...], run: results.Run) -> bool:
    """The total's, the year before's and each category's low-high as the combined 95 % range of the lines'
    lognormal spreads (selectors.results.combined_range), where the run keeps the moments; False otherwise."""
    unit_list = sorted(units) if units is not None else None
    now = results.combined_range(scope, org=orgnr, year=data.period.year, months=list(months), units=unit_list,
                                 by=["category"], run=run)
    if now is None:
        return False
    total = results.combined_range(scope, org=orgnr, year=data.period.year, months=list(months), units=unit_list,
                                   run=run) or {}
    # the year before over the months it is compared by (for a year under way, January to its last month)
    months_before = _so_far(data.through_month)[0] if data.through_month else months
    before = results.combined_range(scope, org=orgnr, year=data.period.year - 1, months=list(months_before),
                                    units=unit_list, run=run) or {}
    for target, ranged in ((data.total, total.get(())), (data.previous, before.get(()))):
        if ranged is not None:
            target.kg_low, target.kg_high = ranged
    for row in data.by_category:
        ranged = now.get((row.key or None,)) or now.get((row.key,))
        if ranged is not None:
            row.kg_low, row.kg_high = ranged
    return True


def _add_measures(data: ReportData, scope: Scope, orgnr: str | None) -> None:
    """The subject's measures and the packages, with their expected effect on the subject's own purchases."""
    data.measures = measures.measure_rows(scope, org=orgnr)
    if data.measures:
        rows = measures.package_rows(scope, org=orgnr)
        if orgnr is not None:
            rows = [r for r in rows if any(a["orgnr"] == orgnr for a in r["adopted_by"])]
        data.packages = rows


def _name_partial_years(data: ReportData, scope: Scope, run: results.Run) -> None:
    """An honest baseline (issue 11): an earlier year compared with in a region report, in which some organisation
    has no figures at all, is labelled partial in its column and named in a note."""
    from klimainnkjop.selectors import kpis

    for comparison in data.comparisons:
        missing = kpis.missing_organisations(scope, comparison.period.year, run)
        if not missing:
            continue
        label = comparison.label
        comparison.label = label[:-1] + ", ufullstendig)" if label.endswith(")") else label + " (ufullstendig)"
        comparison.total.name = comparison.label
        who = "én organisasjon" if len(missing) == 1 else f"{len(missing)} organisasjoner"
        data.notes.append(f"{comparison.period.year} er ufullstendig: {who} har ingen tall for året "
                          f"({', '.join(missing)}), så endringen mot {comparison.period.year} sammenligner ikke det "
                          f"samme.")


def kpi_rows(scope: Scope, period: Period, orgnr: str | None, unit_code: str | None, run: results.Run) -> list:
    """The KPIs of the report's subject against their targets: the same follow-up the pages show."""
    from klimainnkjop.selectors import dashboard, kpis

    same = dashboard.Period(period.year, "" if period.kind == "Y" else period.kind,
                            0 if period.kind == "Y" else period.number)
    return kpis.follow_up(scope, kpis.Subject(org=orgnr, unit=unit_code), same, run)


def _comparison(reader: _Reader, data: ReportData, year: int, baseline: bool, category_names: dict,
                part_names: dict) -> Comparison:
    """The report's months in an earlier year, in total, per category and per organisation or unit (for the year
    under way, the months it has so far)."""
    period = Period(year, data.period.kind, data.period.number)
    months, so_far = _so_far(data.through_month) if data.through_month else (period.months, "")
    said = [w for w in (so_far, "basisår" if baseline else "") if w]
    label = period.code + (f" ({', '.join(said)})" if said else "")
    rows = reader.rows(year, months, ["category"])
    parts = _parts(reader, year, months, data.scope_kind, data.orgnr, part_names)
    annual = 0 if period.full_year else _total(reader.rows(year, (0,), [])).lines
    return Comparison(period=period, label=label, baseline=baseline, total=_total(rows, label),
                      by_category={s.key: s for s in _categories(rows, category_names)},
                      by_part={s.key: s for s in parts}, annual_lines=annual)


def _add_comparisons(data: ReportData, reader: _Reader, category_names: dict, part_names: dict) -> None:
    """The funder layout: the same months a year before, and in the baseline year (the author's, or the first
    year with figures) when that is earlier still."""
    period = data.period
    years = [y for y in reader.years() if y < period.year]
    chosen = data.texts.get("baseline_year")
    if chosen:
        baseline = int(chosen)
    else:
        baseline = years[0] if years else period.year
    data.baseline_year = baseline if baseline < period.year else None
    data.comparisons.append(_comparison(reader, data, period.year - 1, baseline == period.year - 1, category_names,
                                        part_names))
    if baseline < period.year - 1:
        data.comparisons.append(_comparison(reader, data, baseline, True, category_names, part_names))
    if data.baseline_year is None:
        data.notes.append(f"Ingen tall fra før {period.year}, så ingen basisår å sammenligne med.")
    else:
        how = "valgt av forfatteren" if chosen else "første år med tall i systemet"
        data.notes.append(f"Basisår: {baseline} ({how}). Sammenligningene gjelder de samme månedene som "
                          f"rapportperioden.")
    for comparison in data.comparisons:
        if comparison.annual_lines and not comparison.total.lines:
            data.notes.append(f"{comparison.period.year} har bare årstall (KOSTRA, uten måned) i dette "
                              f"utvalget; sammenlign med {comparison.period.year} i en årsrapport.")
