"""The demo's targets and climate budgets (issue 11), set through the services after the account is computed:
the steering document's targets adopted for the region, two targets of Kongsvinger kommune whose KPIs the account
has (emissions and the share of spend with measured figures), and climate budgets for Kongsvinger and its largest
units, proposed from the previous year's actual less 5 %."""
from __future__ import annotations


from klimainnkjop.demo import region as R
from klimainnkjop.core.actors import ActorLike

BASELINE_YEAR = R.START_YEAR  # the demo's first year with ledgers for every organisation
TARGET_YEAR = 2030  # for the steering document's targets without a year
BUDGET_CUT_PERCENT = 5.0
BUDGET_UNITS = ("1000", "3200", "4100", "4200")  # Kongsvinger's units with budgets of their own
KONGSVINGER_TARGETS = (  # kpi, kind, value, target year
    ("tonnes_co2e", "cut", 30.0, 2030),
    ("measured_share", "level", 10.0, 2030),
)


def load_targets_and_budgets(organisations: dict, year: int, actor: ActorLike = None) -> dict:
    """Targets and the budgets of `year` (the demo's current year); returns how many of each were made."""
    from klimainnkjop.services.budgets import do_set_budget
    from klimainnkjop.services.targets import do_adopt_target_templates, do_set_target

    adopted = do_adopt_target_templates(baseline_year=BASELINE_YEAR, target_year=TARGET_YEAR, actor=actor)
    kongsvinger = organisations["kongsvinger"]
    made = len(adopted)
    for kpi, kind, value, target_year in KONGSVINGER_TARGETS:
        do_set_target(organisation=kongsvinger, kpi=kpi, kind=kind, value=value, baseline_year=BASELINE_YEAR,
                      target_year=target_year, actor=actor)
        made += 1
    budgets = 0
    for unit in ("",) + BUDGET_UNITS:
        do_set_budget(organisation=kongsvinger, unit_code=unit, year=year, cut_percent=BUDGET_CUT_PERCENT,
                      note="Demo: forrige års utslipp minus 5 %", actor=actor)
        budgets += 1
    return {"targets": made, "budgets": budgets}
