"""The factor library: factor sets (immutable once published), categories and mappings, supplier factors."""
from __future__ import annotations


from django.db import transaction
from django.utils.translation import gettext

from klimainnkjop.core.errors import reason
from klimainnkjop.importers.errors import ImportRejected, RowError
from klimainnkjop.importers.factors import parse_factor_set
from klimainnkjop.services.audit import record_audit
from klimainnkjop.services.organisations import InvalidInput
from klimainnkjop.storage import linestore
from klimainnkjop.storage.models import Category, CategoryMapping, Factor, FactorSet, SupplierFactor
from klimainnkjop.core.kostra import KOSTRA_FUNCTION_SCHEME, OrgNumber, parse_art_function_code
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.actors import ActorLike


class PublishedSetIsImmutable(InvalidInput):
    pass


def _set_dict(fs: FactorSet) -> dict:
    return {"name": fs.name, "version": fs.version, "status": fs.status, "role": fs.role,
            "licence": fs.licence, "factors": fs.factors.count()}


def do_import_factor_set(*, data: bytes, file_name: str, actor: ActorLike = None) -> tuple[FactorSet, bool]:
    """Returns (set, created). The same file again is a no-op; a changed published set is refused."""
    categories = {c.code: c for c in Category.objects.all()}
    parsed = parse_factor_set(data, file_name, set(categories))
    sha = linestore.sha256_bytes(data)
    meta = parsed.meta
    with transaction.atomic():
        existing = FactorSet.objects.filter(name=meta["name"], version=meta["version"]).first()
        if existing is not None:
            if existing.file_sha256 == sha:
                return existing, False
            if existing.status == FactorSet.STATUS_PUBLISHED:
                raise PublishedSetIsImmutable(
                    f"{file_name}: factor set {meta['name']} {meta['version']} is published and never changes; "
                    "give the corrected set a new version")
            before = _set_dict(existing)
            existing.delete()
        else:
            before = None
        factor_set = FactorSet.objects.create(
            name=meta["name"], version=meta["version"], publisher=meta["publisher"], licence=meta["licence"],
            attribution=meta["attribution"], gwp_basis=meta.get("gwp_basis") or "AR5 GWP100",
            description=meta.get("description", ""), role=meta.get("role", ""),
            status=meta.get("status") or FactorSet.STATUS_PUBLISHED, file_sha256=sha)
        Factor.objects.bulk_create([
            Factor(factor_set=factor_set, category=categories[r.key], basis=r.basis, unit=r.unit,
                   price_year=r.price_year, price_type=r.price_type, value=r.value, low=r.low, high=r.high,
                   region=r.region, valid_from_year=r.valid_from, valid_to_year=r.valid_to, quality=r.quality,
                   source_ref=r.source_ref, note=r.note)
            for r in parsed.rows
        ])
        linestore.archive_raw(data, sha)
        record_audit(actor=actor, action=Action.IMPORT_FACTOR_SET, obj=factor_set, before=before,
                     after=_set_dict(factor_set) | {"file": file_name, "sha256": sha})
    return factor_set, True


def do_publish_factor_set(*, factor_set: FactorSet, actor: ActorLike = None) -> FactorSet:
    with transaction.atomic():
        if factor_set.status == FactorSet.STATUS_PUBLISHED:
            return factor_set
        before = _set_dict(factor_set)
        factor_set.status = FactorSet.STATUS_PUBLISHED
        factor_set.save(update_fields=["status"])
        record_audit(actor=actor, action=Action.PUBLISH_FACTOR_SET, obj=factor_set, before=before,
                     after=_set_dict(factor_set))
    return factor_set


def do_add_category(*, code: str, name_nb: str, name_en: str = "", parent_code: str | None = None,
                    actor: ActorLike = None) -> Category:
    code = code.strip()
    if not code or " " in code:
        raise InvalidInput.at("code", gettext("%(code)r must be a non-empty code without spaces, e.g. goods.food.rice"),
                              code=code)
    with transaction.atomic():
        if Category.objects.filter(code=code).exists():
            raise InvalidInput.at("code", gettext("category %(code)s exists already"), code=code)
        parent = None
        if parent_code:
            parent = Category.objects.filter(code=parent_code).first()
            if parent is None:
                raise InvalidInput.at("parent", gettext("no category %(code)s"), code=parent_code)
        category = Category.objects.create(code=code, name_nb=name_nb, name_en=name_en or name_nb, parent=parent)
        record_audit(actor=actor, action=Action.ADD_CATEGORY, obj=category,
                     after={"code": code, "parent": parent_code, "name_nb": name_nb})
    return category


def do_set_category_mapping(*, scheme: str, code: str, category_code: str, note: str = "",
                            actor: ActorLike = None) -> CategoryMapping:
    schemes = [*dict(CategoryMapping.SCHEMES), KOSTRA_FUNCTION_SCHEME]
    if scheme not in schemes:
        raise InvalidInput.at("scheme", gettext("%(scheme)r must be one of %(schemes)s"), scheme=scheme,
                              schemes=", ".join(schemes))
    if scheme == KOSTRA_FUNCTION_SCHEME:
        try:
            parse_art_function_code(code)
        except ValueError as exc:
            raise InvalidInput(f"code: {exc}") from None
    category = Category.objects.filter(code=category_code).first()
    if category is None:
        raise InvalidInput.at("category", gettext("no category %(code)s"), code=category_code)
    with transaction.atomic():
        existing = CategoryMapping.objects.filter(scheme=scheme, code=code).select_related("category").first()
        before = {"category": existing.category.code} if existing else None
        mapping, _ = CategoryMapping.objects.update_or_create(
            scheme=scheme, code=code, defaults={"category": category, "note": note})
        record_audit(actor=actor, action=Action.SET_CATEGORY_MAPPING, obj=mapping, before=before,
                     after={"scheme": scheme, "code": code, "category": category_code})
    return mapping


def do_add_supplier_factor(*, supplier_orgnr: str, value: float, price_year: int, valid_from_year: int,
                           valid_to_year: int, evidence: str, low: float | None = None, high: float | None = None,
                           currency: str = "NOK", quality: int = 2, actor: ActorLike = None) -> SupplierFactor:
    problems = []
    if not OrgNumber.is_well_formed(supplier_orgnr):
        problems.append(RowError("supplier factor", None, "supplier_orgnr", reason("must be 9 digits")))
    if value <= 0:  # a supplier's factor applies to all its spend: 0 would count every purchase of it as nothing
        problems.append(RowError("supplier factor", None, "value", reason(
            "must be above zero (a zero would count all the supplier's purchases as no emissions)")))
    if not evidence.strip():
        problems.append(RowError("supplier factor", None, "evidence", reason("say what documents the figure")))
    low = value * 0.8 if low is None else low
    high = value * 1.2 if high is None else high
    if not low <= value <= high:
        problems.append(RowError("supplier factor", None, "low", reason("the range must contain the value")))
    if problems:
        raise ImportRejected(problems)
    with transaction.atomic():
        factor = SupplierFactor.objects.create(
            supplier_orgnr=supplier_orgnr, value=value, low=low, high=high, currency=currency, price_year=price_year,
            valid_from_year=valid_from_year, valid_to_year=valid_to_year, quality=quality, evidence=evidence)
        record_audit(actor=actor, action=Action.ADD_SUPPLIER_FACTOR, obj=factor, after={
            "supplier_orgnr": supplier_orgnr, "value": value, "price_year": price_year, "evidence": evidence})
    return factor
