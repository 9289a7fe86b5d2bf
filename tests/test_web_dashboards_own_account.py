"""Dashboard tests that build an account of their own (tests/test_web_dashboards.py shares one among its tests):
the drill-down list's pages, and the year under way compared with the same months of the year before."""
from __future__ import annotations

import pytest

from klimainnkjop.access import system_scope
from klimainnkjop.selectors import dashboard
from klimainnkjop.services.compute import do_compute
from tests.factories import WEB_HEADER, WEB_PROFILE, import_ledger, kg, make_user, norwegian, page, squash
from tests.test_web_dashboards import KONGSVINGER, drill


@pytest.mark.django_db
def test_the_lines_list_has_pages_of_fifty(reference, org, client):
    text = WEB_HEADER + "".join(f"{1 + i % 28:02d}.0{1 + i % 9}.2024;10000;1100;982463718;Kontorgiganten AS;"
                            f"{1000 + i},00;Papir {i};{100 + i};1;1\n" for i in range(120))
    import_ledger(org, text, "mange.csv", profile=WEB_PROFILE)
    do_compute(actor="test")
    client.force_login(make_user("admin", org, "region-admin"))
    seen = []
    for side in (1, 2, 3):
        found = drill(client, f"/org/{KONGSVINGER}/linjer/?side={side}&sortering=belop")
        seen += found["keys"]
        assert len(found["keys"]) == (50 if side < 3 else 20)
    assert len(set(seen)) == 120 and found["lines"] == "120"
    # a page past the last, of any size, shows the last (was a 500: its offset overflowed the query's integer)
    for side in (4, 10**20):
        assert drill(client, f"/org/{KONGSVINGER}/linjer/?side={side}&sortering=belop")["keys"] == found["keys"]


@pytest.mark.django_db
def test_the_year_under_way_is_compared_with_the_same_months_of_the_year_before(reference, org, client):
    """This year's purchases (to March here) are compared with January to March of the year before, and the page
    says so; the whole of the year before made every year under way look like a cut."""
    import datetime as dt

    from klimainnkjop.reports import data as report_data
    from klimainnkjop.reports import rows as report_rows
    from klimainnkjop.reports.periods import parse_period

    year = dt.date.today().year
    before = year - 1
    rows = "".join(f"15.{m:02d}.{before};10000;1100;982463718;Kontorgiganten AS;{1000 * m},00;Papir;{m};1;1\n"
                   for m in range(1, 13))
    rows += "".join(f"15.{m:02d}.{year};10000;1100;982463718;Kontorgiganten AS;{2000 * m},00;Papir;{20 + m};1;1\n"
                    for m in range(1, 4))
    import_ledger(org, WEB_HEADER + rows, "kontor.csv", profile=WEB_PROFILE)
    do_compute(actor="test")
    overview = dashboard.period_overview(system_scope(), org=KONGSVINGER, period=dashboard.Period(year))
    assert overview.through_month == 3
    first_quarter = sum(kg(1000 * m, "goods.office", before) for m in (1, 2, 3))
    assert overview.previous.kg == pytest.approx(first_quarter, rel=1e-9)
    assert overview.total.kg == pytest.approx(sum(kg(2000 * m, "goods.office", year) for m in (1, 2, 3)), rel=1e-9)
    quarter = dashboard.period_overview(system_scope(), org=KONGSVINGER, period=dashboard.Period(before, "Q", 1))
    assert overview.previous.kg == pytest.approx(quarter.total.kg, rel=1e-12)
    # a past year is compared with the whole year before it, as before
    complete = dashboard.period_overview(system_scope(), org=KONGSVINGER, period=dashboard.Period(before))
    assert complete.through_month is None and complete.total.kg == pytest.approx(
        sum(kg(1000 * m, "goods.office", before) for m in range(1, 13)), rel=1e-9)
    client.force_login(make_user("admin", org, "region-admin"))
    html, tree = page(client, f"/org/{KONGSVINGER}/?periode={year}")
    text = squash(tree.find_all("section", class_="key-figures")[0].text())
    assert f"Nøkkeltall {year} (januar–mars)" in text and f"Endring fra januar–mars {before}" in text
    assert f"Samme periode året før (januar–mars {before}): {norwegian(first_quarter / 1000)} tonn CO2e" in text
    # the measured effect's split of the change compares the same months (a whole year against three months of the
    # next looked like a cut), and its page says so
    from klimainnkjop.selectors import effect

    split = effect.effect_split(system_scope(), period_from=dashboard.Period(before),
                                period_to=dashboard.Period(year), org=KONGSVINGER)
    assert split.through_month == 3
    assert split.kg_from == pytest.approx(first_quarter, rel=1e-9)
    assert split.kg_to == pytest.approx(overview.total.kg, rel=1e-9)
    assert split.volume_kg + split.intensity_kg + split.method_kg == pytest.approx(split.change_kg, rel=1e-9)
    effect_page = client.get(f"/tiltak/effekt/?org={KONGSVINGER}&fra={before}&til={year}").content.decode()
    assert f"{before} (januar–mars)" in effect_page and f"{year} (januar–mars)" in effect_page
    # and so does a measure implemented this year: its measured effect is of the same months of both years
    from klimainnkjop.selectors import measures as measure_selectors
    from klimainnkjop.services import measures as measure_services

    measure = measure_services.do_create_measure(name="Mindre papir", kind=2, mechanism="quantity", percent=10,
                                                 categories=["goods.office"], baseline_year=before, actor="test")
    measure_services.do_change_measure_status(measure=measure, status="implemented", date=dt.date(year, 1, 1),
                                              actor="test")
    measured = measure_selectors.measured_effect(system_scope(), measure)
    assert (measured.from_year, measured.to_year, measured.through_month) == (before, year, 3)
    assert measured.kg_from == pytest.approx(first_quarter, rel=1e-9)
    assert measured.kg_to == pytest.approx(overview.total.kg, rel=1e-9)
    measure_page = client.get(f"/tiltak/{measure.pk}/").content.decode()
    assert f"Fra {before} (januar–mars) til {year} (januar–mars)" in " ".join(measure_page.split())
    # the report of the year under way compares the same months too, and says so
    report = report_data.build(system_scope(), scope_kind="org", period=parse_period(str(year)), orgnr=KONGSVINGER)
    assert report.previous.kg == pytest.approx(first_quarter, rel=1e-9)
    assert report.previous.name == f"{before} (januar–mars)"
    # its range is the combined range of those months too (was the whole year before's), and the summary says so
    assert quarter.combined_range is not None
    assert (report.previous.kg_low, report.previous.kg_high) == pytest.approx(quarter.combined_range, rel=1e-9)
    assert [c.label for c in report_rows.summary(report).columns][2] == f"{before} (januar–mars)"
    assert any(f"sammenlignes med januar–mars {before}" in note for note in report.notes)
    # and so do the funder layout's comparison tables (the year before is the baseline year here)
    funder = report_data.build(system_scope(), scope_kind="org", period=parse_period(str(year)), orgnr=KONGSVINGER,
                               layout="funder", texts={"project": "p", "activities": "a", "deviations": "d",
                                                       "next_steps": "n"})
    (comparison,) = funder.comparisons
    assert comparison.label == f"{before} (januar–mars, basisår)"
    assert comparison.total.kg == pytest.approx(first_quarter, rel=1e-9)
    assert sum(c.kg for c in comparison.by_category.values()) == pytest.approx(first_quarter, rel=1e-9)
    assert sum(p.kg for p in comparison.by_part.values()) == pytest.approx(first_quarter, rel=1e-9)
