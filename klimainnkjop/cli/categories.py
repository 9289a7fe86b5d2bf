"""Category commands: the taxonomy and the mappings from other code schemes to it."""
from __future__ import annotations

from klimainnkjop.cli.output import EXIT_OK, emit
from klimainnkjop.core.actors import CLI


def add_parsers(sub) -> None:
    categories_parser = sub.add_parser("categories", help="the category taxonomy and its mappings")
    categories_parser.set_defaults(handler=cmd_categories)
    categories = categories_parser.add_subparsers(dest="categories_command", required=True)
    listing = categories.add_parser("list")
    listing.add_argument("--format", choices=["json", "csv", "table"], default="table")
    add = categories.add_parser("add")
    add.add_argument("code", help="e.g. goods.food.rice")
    add.add_argument("name_nb", help="Norwegian name")
    add.add_argument("--name-en", default="")
    add.add_argument("--parent", default=None, help="parent category code")
    mapping = categories.add_parser("map", help="map a code of another scheme to a category (longest prefix wins)")
    mapping.add_argument("scheme", choices=["kostra_art", "kostra_function", "cpv", "unspsc", "nace"])
    mapping.add_argument("code", help="kostra_function: ART:FUNCTION:SIDE, e.g. 375:355: (side I investment, "
                                      "D operating, empty either)")
    mapping.add_argument("category")
    mapping.add_argument("--note", default="")
    mappings = categories.add_parser("mappings")
    mappings.add_argument("--scheme", default=None)
    mappings.add_argument("--format", choices=["json", "csv", "table"], default="table")


def cmd_categories(args) -> int:
    from klimainnkjop.services.factors import do_add_category, do_set_category_mapping
    from klimainnkjop.selectors import factors as factor_selectors

    if args.categories_command == "add":
        category = do_add_category(code=args.code, name_nb=args.name_nb, name_en=args.name_en,
                                   parent_code=args.parent, actor=CLI)
        print(f"added category {category.code}")
    elif args.categories_command == "map":
        do_set_category_mapping(scheme=args.scheme, code=args.code, category_code=args.category, note=args.note,
                                actor=CLI)
        print(f"{args.scheme} {args.code} → {args.category}")
    elif args.categories_command == "list":
        emit([{"code": c.code, "parent": c.parent.code if c.parent else None, "name_nb": c.name_nb,
               "name_en": c.name_en} for c in factor_selectors.categories()],
             args.format)
    else:
        rows = factor_selectors.category_mappings(args.scheme)
        emit([{"scheme": m.scheme, "code": m.code, "category": m.category.code, "note": m.note} for m in rows],
             args.format)
    return EXIT_OK
