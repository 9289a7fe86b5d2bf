"""Construction projects against FutureBuilt (issue 11 item 5):

klimainnkjop construction add --org ORGNR --name N --area M2 --type T [--project-code C] [--phase P]
                              [--reference KG_PER_M2 [--reference-source TEXT]] [--target-cut PERCENT]
klimainnkjop construction import-calculation ID FILE [--phase P]   # an NS 3720 climate calculation, CSV or XLSX
klimainnkjop construction list [--org ORGNR] [--format json|csv|table]
"""
from __future__ import annotations

from klimainnkjop.cli.output import EXIT_OK, emit, find_org, read_file

TYPES = ("school", "kindergarten", "nursing_home", "office", "housing", "sports", "culture", "health", "other")
PHASES = ("planning", "design", "construction", "in_use")


def add_parsers(sub) -> None:
    construction = sub.add_parser("construction", help="construction projects: kg CO2e per m² against FutureBuilt")
    construction.set_defaults(handler=run)
    csub = construction.add_subparsers(dest="construction_command", required=True)
    add = csub.add_parser("add", help="add a construction project")
    add.add_argument("--org", required=True, help="organisation number")
    add.add_argument("--name", required=True)
    add.add_argument("--area", required=True, help="heated floor area, BRA, m²")
    add.add_argument("--type", required=True, choices=TYPES, help="building type")
    add.add_argument("--project-code", default="",
                     help="the ledger's project dimension of the project's investment lines")
    add.add_argument("--phase", choices=PHASES, default="planning")
    add.add_argument("--reference", default=None,
                     help="the reference building's kg CO2e per m² (default: the building type's, data/SOURCES.md)")
    add.add_argument("--reference-source", default="", help="where the reference comes from")
    add.add_argument("--target-cut", default=None, help="percent below the reference (default 50, FutureBuilt)")
    calc = csub.add_parser("import-calculation", help="import the project's NS 3720 climate calculation")
    calc.add_argument("id", type=int, help="the project's id (construction list)")
    calc.add_argument("file", help="CSV or XLSX: building part (NS 3451), material, kg CO2e per module")
    calc.add_argument("--phase", choices=PHASES, default="", help="the phase it was made in (default: the project's)")
    listing = csub.add_parser("list", help="the projects with kg CO2e per m², reference and target")
    listing.add_argument("--org", default=None, help="organisation number (default: every organisation)")
    listing.add_argument("--format", choices=["json", "csv", "table"], default="table")


def run(args) -> int:
    from klimainnkjop.access import system_scope
    from klimainnkjop.selectors import construction as selectors
    from klimainnkjop.services import construction as services
    from klimainnkjop.services.organisations import InvalidInput

    scope = system_scope()  # the command line acts with the operator's full rights
    if args.construction_command == "add":
        org = find_org(args.org)
        project = services.do_add_construction_project(
            organisation=org, name=args.name, area_m2=args.area.replace(",", "."), building_type=args.type,
            phase=args.phase, project_code=args.project_code,
            reference_kg_per_m2=args.reference.replace(",", ".") if args.reference else None,
            reference_source=args.reference_source,
            target_cut_percent=args.target_cut.replace(",", ".") if args.target_cut else None, actor="cli")
        print(f"construction project {project.pk} added: {project.name} ({project.area_m2:g} m² BRA, reference "
              f"{project.reference_kg_per_m2:g} kg CO2e/m², target −{project.target_cut_percent:g} %)")
        return EXIT_OK
    if args.construction_command == "import-calculation":
        try:
            project = selectors.project(scope, pk=args.id)
        except selectors.NotFound:
            raise InvalidInput(f"ID: no construction project {args.id}; see `klimainnkjop construction list`") \
                from None
        data, name = read_file(args.file)
        calculation = services.do_import_climate_calculation(project=project, data=data, file_name=name,
                                                             phase=args.phase, actor="cli")
        print(f"climate calculation {calculation.pk} of {project.name}: {calculation.rows} rows, "
              f"{calculation.kg_co2e:,.0f} kg CO2e".replace(",", " ")
              + "; it replaces the spend estimate of the project's lines from the next compute")
        return EXIT_OK
    if args.org:
        find_org(args.org)
    rows = [f.as_dict() for f in selectors.figures(scope, selectors.projects(scope, org=args.org))]
    if args.format != "json":
        rows = [{k: r[k] for k in ("id", "org", "name", "project_code", "area_m2", "building_type", "phase", "kg_co2e",
                                   "kg_per_m2", "reference", "target", "cut_percent", "calculation_kg_co2e")}
                for r in rows]
    emit(rows, args.format)
    return EXIT_OK
