"""The demo's construction projects against FutureBuilt (issue 11 item 5), registered through the services before the
account is computed: Kongsvinger's new Langeland school (ledger project 1101) with the contractor's NS 3720 climate
calculation, and the rehabilitation of Roverud nursing home (project 1102) without one.

The calculation is written into the demo folder (bygg/) as the contractor would deliver it and imported through the
real import path. Its figures are round so that they can be checked by hand: at scale 1, 910 000 kg CO2e (A1-A3
850 000, A4 33 000, A5 27 000; module D, −20 000, is reported but not counted) over 4 550 m² BRA = 200 kg CO2e per m²,
50 % below the school reference of 400: exactly FutureBuilt's target. Like the ledgers, the buildings follow the
demo's scale (floor areas and the calculation's kg times the scale), so kg per m² stays 200 at any scale."""
from __future__ import annotations

from pathlib import Path
from typing import Any

CALCULATION_FILE = "bygg/langeland-skole-klimagassberegning.csv"
# building part (NS 3451), name, material, A1-A3, A4, A5, D (kg CO2e)
CALCULATION_ROWS = [
    ("21", "Grunn og fundamenter", "Lavkarbonbetong klasse B", 150_000, 6_000, 4_000, 0),
    ("22", "Bæresystemer", "Limtre og massivtre", 120_000, 5_000, 3_000, -20_000),
    ("23", "Yttervegger", "Trestender, isolasjon, kledning", 110_000, 4_000, 6_000, 0),
    ("24", "Innervegger", "Gips og stålstendere", 70_000, 3_000, 3_000, 0),
    ("25", "Dekker", "Hulldekker av betong", 180_000, 8_000, 4_000, 0),
    ("26", "Yttertak", "Takelementer og membran", 90_000, 3_000, 3_000, 0),
    ("31", "Sanitær", "Rør og utstyr", 40_000, 1_000, 1_000, 0),
    ("36", "Luftbehandling", "Aggregater og kanaler", 60_000, 2_000, 2_000, 0),
    ("44", "Lys", "Armaturer", 30_000, 1_000, 1_000, 0),
]
CALCULATION_KG = 910_000.0
PROJECTS = [  # org key, name, project code, BRA m², building type, phase, with the calculation
    ("kongsvinger", "Ny Langeland skole", "1101", 4_550.0, "school", "in_use", True),
    ("kongsvinger", "Rehabilitering Roverud sykehjem", "1102", 3_200.0, "nursing_home", "construction", False),
]


def _scaled(value: float, scale: float) -> str:
    return f"{round(value * scale, 3):g}"


def calculation_csv(scale: float = 1.0) -> bytes:
    lines = ["Bygningsdel;Navn;Materiale;A1-A3;A4;A5;D"]
    lines += [";".join([*row[:3], *(_scaled(v, scale) for v in row[3:])]) for row in CALCULATION_ROWS]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def load_demo_construction(organisations: dict, directory: Path, scale: float = 1.0, actor: Any = None) -> int:
    """The projects and the calculation; returns how many projects were made (none that exist already: loading the
    demo again adds nothing)."""
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors.construction import projects
    from klimainnkjop.services.construction import do_add_construction_project, do_import_climate_calculation

    path = directory / CALCULATION_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(calculation_csv(scale))
    made = 0
    for org_key, name, code, area, building_type, phase, calculated in PROJECTS:
        org = organisations[org_key]
        if any(p.project_code == code for p in projects(system_scope(), org=org.orgnr)):
            continue
        made += 1
        project = do_add_construction_project(organisation=org, name=name, project_code=code,
                                              area_m2=area * scale, building_type=building_type, phase=phase,
                                              actor=actor)
        if calculated:
            do_import_climate_calculation(project=project, data=path.read_bytes(), file_name=path.name,
                                          phase=phase, actor=actor)
    return made
