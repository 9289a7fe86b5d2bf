"""Construction projects and their NS 3720 climate calculations (issue 11 item 5), each write audited.

A project's lines are the organisation's investment lines whose ledger project dimension (`project`) equals the
project's code. When a climate calculation is imported for the project, the engine replaces the spend-based kg of
those lines by the calculation's kg (engine/pipeline.py, `apply_calculations`); the lines keep their spend."""
from __future__ import annotations

import csv
import functools
import hashlib
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from klimainnkjop import paths
from klimainnkjop.core.errors import InvalidInput
from klimainnkjop.importers.climate_calculation import parse_calculation
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.services.audit import record_audit
from klimainnkjop.storage.models import (
    ClimateCalculation,
    ClimateCalculationRow,
    ConstructionProject,
    Organisation,
)

REFERENCES_FILE = "construction_references.csv"  # data/SOURCES.md, "Construction projects"
MAX_FILE_BYTES = 20 * 1024 * 1024


@functools.lru_cache(maxsize=1)
def reference_table() -> dict[str, dict]:
    """building type -> {name_nb, kg_co2e_per_m2, source}: the shipped defaults (placeholders, see SOURCES.md)."""
    with open(paths.SHIPPED_DATA / REFERENCES_FILE, encoding="utf-8") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")), delimiter=";")
        return {r["building_type"]: {"name_nb": r["name_nb"], "kg_co2e_per_m2": float(r["kg_co2e_per_m2"]),
                                     "source": r["source"]} for r in rows}


def project_dict(project: ConstructionProject) -> dict:
    return {"id": project.pk, "org": project.organisation.orgnr, "name": project.name,
            "project_code": project.project_code, "area_m2": project.area_m2, "building_type": project.building_type,
            "phase": project.phase, "reference_kg_per_m2": project.reference_kg_per_m2,
            "reference_source": project.reference_source, "target_cut_percent": project.target_cut_percent}


def _clean(*, name: str, area_m2: Any, building_type: str, phase: str, project_code: str,
           reference_kg_per_m2: Any, target_cut_percent: Any) -> dict:
    name = (name or "").strip()
    if not name:
        raise InvalidInput.at("--name", gettext("must not be empty"))
    if len(name) > 200:
        raise InvalidInput.at("--name", gettext("longer than 200 characters"))
    project_code = (project_code or "").strip()
    if len(project_code) > 60:
        raise InvalidInput.at("--project-code", gettext("longer than 60 characters"))
    if building_type not in ConstructionProject.TYPES:
        raise InvalidInput.at("--type", gettext("%(type)r is not one of %(types)s"), type=building_type,
                              types=", ".join(ConstructionProject.TYPES))
    if phase not in ConstructionProject.PHASES:
        raise InvalidInput.at("--phase", gettext("%(phase)r is not one of %(phases)s"), phase=phase,
                              phases=", ".join(ConstructionProject.PHASES))
    try:
        area = float(area_m2)
    except (TypeError, ValueError):
        raise InvalidInput.at("--area", gettext("%(area)r is not a number of m²"), area=area_m2) from None
    if not 0 < area < 10_000_000:
        raise InvalidInput.at("--area", gettext("%(area)s m² must be above 0 (the heated floor area, BRA)"),
                              area=f"{area:g}")
    source = ""
    if reference_kg_per_m2 is None or reference_kg_per_m2 == "":
        default = reference_table()[building_type]
        reference, source = default["kg_co2e_per_m2"], default["source"]
    else:
        try:
            reference = float(reference_kg_per_m2)
        except (TypeError, ValueError):
            raise InvalidInput.at("--reference", gettext("%(reference)r is not a number of kg CO2e per m²"),
                                  reference=reference_kg_per_m2) from None
        if not 0 < reference < 100_000:
            raise InvalidInput.at("--reference", gettext("%(reference)s kg CO2e per m² must be above 0"),
                                  reference=f"{reference:g}")
    try:
        cut = float(50.0 if target_cut_percent is None or target_cut_percent == "" else target_cut_percent)
    except (TypeError, ValueError):
        raise InvalidInput.at("--target-cut", gettext("%(cut)r is not a percentage"),
                              cut=target_cut_percent) from None
    if not 0 <= cut <= 100:
        raise InvalidInput.at("--target-cut", gettext("%(cut)s must be a percentage between 0 and 100"),
                              cut=f"{cut:g}")
    return {"name": name, "area_m2": area, "building_type": building_type, "phase": phase,
            "project_code": project_code, "reference_kg_per_m2": reference, "target_cut_percent": cut,
            "_default_source": source}


def _code_free(organisation: Organisation, code: str, exclude: int | None = None) -> None:
    if code and ConstructionProject.objects.filter(organisation=organisation, project_code=code) \
            .exclude(pk=exclude).exists():
        raise InvalidInput.at("--project-code", gettext("%(orgnr)s has a construction project with code %(code)r "
                                                        "already"), orgnr=organisation.orgnr, code=code)


def do_add_construction_project(*, organisation: Organisation, name: str, area_m2: Any, building_type: str = "other",
                                phase: str = "planning", project_code: str = "", reference_kg_per_m2: Any = None,
                                reference_source: str = "", target_cut_percent: Any = None,
                                actor: Any = None) -> ConstructionProject:
    """A new construction project; without a reference, the shipped default of its building type."""
    data = _clean(name=name, area_m2=area_m2, building_type=building_type, phase=phase, project_code=project_code,
                  reference_kg_per_m2=reference_kg_per_m2, target_cut_percent=target_cut_percent)
    source = (reference_source or "").strip()[:300] or data.pop("_default_source") or "given"
    data.pop("_default_source", None)
    with transaction.atomic():
        _code_free(organisation, data["project_code"])
        project = ConstructionProject.objects.create(
            organisation=organisation, reference_source=source,
            created_by=actor if getattr(actor, "is_authenticated", False) else None, **data)
        record_audit(actor=actor, action=Action.ADD_CONSTRUCTION_PROJECT, obj=project, organisation=organisation,
                     after=project_dict(project))
    return project


def do_update_construction_project(*, project: ConstructionProject, name: str, area_m2: Any, building_type: str,
                                   phase: str, project_code: str, reference_kg_per_m2: Any,
                                   reference_source: str = "", target_cut_percent: Any = None,
                                   actor: Any = None) -> ConstructionProject:
    """Change a project; an empty reference takes the building type's default again."""
    data = _clean(name=name, area_m2=area_m2, building_type=building_type, phase=phase, project_code=project_code,
                  reference_kg_per_m2=reference_kg_per_m2, target_cut_percent=target_cut_percent)
    default_source = data.pop("_default_source")
    with transaction.atomic():
        _code_free(project.organisation, data["project_code"], exclude=project.pk)
        before = project_dict(project)
        for key, value in data.items():
            setattr(project, key, value)
        given = (reference_source or "").strip()[:300]
        unchanged = data["reference_kg_per_m2"] == before["reference_kg_per_m2"]
        project.reference_source = default_source or given or (project.reference_source if unchanged else "given")
        project.save()
        record_audit(actor=actor, action=Action.UPDATE_CONSTRUCTION_PROJECT, obj=project,
                     organisation=project.organisation, before=before, after=project_dict(project))
    return project


def do_import_climate_calculation(*, project: ConstructionProject, data: bytes, file_name: str, phase: str = "",
                                  actor: Any = None) -> ClimateCalculation:
    """Validate the whole NS 3720 file (ImportRejected with every error by file, row and column), then store it as
    the project's calculation in one transaction; an earlier calculation of the project is set inactive (kept)."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput.at(None, gettext("%(file)s: larger than %(mb)s MB"), file=file_name,
                              mb=MAX_FILE_BYTES // (1024 * 1024))
    phase = phase or project.phase
    if phase not in ConstructionProject.PHASES:
        raise InvalidInput.at("--phase", gettext("%(phase)r is not one of %(phases)s"), phase=phase,
                              phases=", ".join(ConstructionProject.PHASES))
    parsed = parse_calculation(data, file_name)
    with transaction.atomic():
        earlier = list(project.calculations.filter(active=True).values_list("pk", flat=True))
        project.calculations.filter(active=True).update(active=False)
        calculation = ClimateCalculation.objects.create(
            project=project, file_name=file_name[:500], file_sha256=hashlib.sha256(data).hexdigest(), phase=phase,
            rows=len(parsed.rows), kg_co2e=parsed.kg_co2e, modules=parsed.modules,
            created_by=actor if getattr(actor, "is_authenticated", False) else None)
        ClimateCalculationRow.objects.bulk_create([
            ClimateCalculationRow(calculation=calculation, row_no=r.row_no, building_part=r.building_part,
                                  building_part_name=r.building_part_name, material=r.material, modules=r.modules,
                                  kg_co2e=r.kg_co2e) for r in parsed.rows])
        record_audit(actor=actor, action=Action.IMPORT_CLIMATE_CALCULATION, obj=calculation,
                     organisation=project.organisation,
                     before={"active_calculations": earlier} if earlier else None,
                     after={"project": project.pk, "file": file_name, "sha256": calculation.file_sha256,
                            "phase": phase, "rows": calculation.rows, "kg_co2e": calculation.kg_co2e,
                            "modules": calculation.modules})
    return calculation
