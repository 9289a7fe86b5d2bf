"""A construction project's climate calculation per NS 3720 (issue 11 item 5): CSV or XLSX with a header row, one
row per building part (NS 3451 code) and material, with kg CO2e per life-cycle module as columns (A1-A3, A4, A5,
B1-B7, C1-C4, D). Validates the whole file; returns the rows or raises ImportRejected with every error (file, row,
column).

The calculation's total is the sum of every module except D (benefits beyond the system boundary, reported beside
the total by NS 3720, not in it).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from klimainnkjop.core import values
from klimainnkjop.core.errors import reason
from klimainnkjop.importers.errors import ImportRejected, RowError, listing, quoted
from klimainnkjop.importers.tabular import read_table

MODULES = ("A1-A3", "A4", "A5", "B1", "B2", "B3", "B4", "B5", "B6", "B7", "C1", "C2", "C3", "C4", "D")
OUTSIDE_TOTAL = ("D",)
# header name (lower case, spaces removed) -> field
ALIASES = {
    "building_part": "building_part", "bygningsdel": "building_part", "ns3451": "building_part",
    "building_part_name": "building_part_name", "bygningsdelnavn": "building_part_name", "navn": "building_part_name",
    "name": "building_part_name",
    "material": "material", "materiale": "material", "materialkategori": "material",
}
TEXT_LIMITS = {"building_part_name": 200, "material": 200}
MAX_ROWS = 20_000
MAX_KG = 1e12  # no building's module is near a billion tonnes
_PART = re.compile(r"^([2-7][0-9]{0,2})(?:\s+(.*))?$")  # NS 3451: 2 Bygning ... 7 Utendørs, 1-3 digits


def module_of(header: str) -> str | None:
    """'A1–A3', 'a1-a3', 'A1-3', 'A4 (kg CO2e)' -> the module; None for other columns."""
    text = header.strip().upper().replace("\u2013", "-").replace("\u2212", "-").replace(" ", "")
    text = re.sub(r"\(.*\)$", "", text)
    if text in ("A1-A3", "A1-3", "A1A3"):
        return "A1-A3"
    return text if text in MODULES else None


@dataclass
class CalculationRow:
    row_no: int
    building_part: str
    building_part_name: str = ""
    material: str = ""
    modules: dict[str, float] = field(default_factory=dict)

    @property
    def kg_co2e(self) -> float:
        return sum(v for m, v in self.modules.items() if m not in OUTSIDE_TOTAL)


@dataclass
class Calculation:
    rows: list[CalculationRow]

    @property
    def kg_co2e(self) -> float:
        return sum(r.kg_co2e for r in self.rows)

    @property
    def modules(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for row in self.rows:
            for module, kg in row.modules.items():
                out[module] = out.get(module, 0.0) + kg
        return {m: out[m] for m in MODULES if m in out}


def parse_calculation(data: bytes, file_name: str) -> Calculation:
    table = read_table(data, file_name)
    positions: dict[str, int] = {}
    module_positions: dict[str, int] = {}
    unknown = []
    for index, name in enumerate(table.header):
        key = name.strip().lower().replace(" ", "")
        module = module_of(name)
        if module is not None:
            if module in module_positions:
                raise ImportRejected([RowError(file_name, 1, name,
                                               reason("module %(module)s is in two columns", module=module))])
            module_positions[module] = index
        elif key in ALIASES:
            positions[ALIASES[key]] = index
        elif key:
            unknown.append(name.strip())
    errors: list[RowError] = []
    if "building_part" not in positions:
        errors.append(RowError(file_name, 1, "building_part",
                               reason("required column is missing (the NS 3451 building part: 'bygningsdel')")))
    if not module_positions:
        errors.append(RowError(file_name, 1, None,
                               reason("no module column with kg CO2e; expected some of %(modules)s",
                                      modules=", ".join(MODULES))))
    if unknown:
        errors.append(RowError(file_name, 1, None, reason("unknown column(s) %(columns)s; known: building_part "
                                                          "(bygningsdel), building_part_name (navn), material "
                                                          "(materiale), %(modules)s",
                                                          columns=listing(unknown), modules=", ".join(MODULES))))
    if errors:
        raise ImportRejected(errors)
    if not table.rows:
        raise ImportRejected([RowError(file_name, None, None, reason("the file has a header but no rows"))])
    if len(table.rows) > MAX_ROWS:
        raise ImportRejected([RowError(file_name, None, None, reason("more than %(limit)s rows in one calculation",
                                                                     limit=MAX_ROWS))])
    header = table.header
    rows: list[CalculationRow] = []
    for row_no, cells in table.rows:
        def cell(index: int, cells: list[str] = cells) -> str:
            return cells[index].strip() if index < len(cells) else ""

        part_text = cell(positions["building_part"])
        match = _PART.match(part_text)
        row = CalculationRow(row_no, match.group(1) if match else part_text)
        if not part_text:
            errors.append(RowError(file_name, row_no, header[positions["building_part"]], reason("must not be empty")))
        elif match is None:
            errors.append(RowError(file_name, row_no, header[positions["building_part"]],
                                   reason("%(value)s is not an NS 3451 building part (1-3 digits, 2 to 7 "
                                          "first: 2 Bygning, 3 VVS, 4 Elkraft, 5 Tele og automatisering, 6 Andre "
                                          "installasjoner, 7 Utendørs)", value=quoted(part_text))))
        for name in ("building_part_name", "material"):
            if name in positions:
                text = cell(positions[name])
                if len(text) > TEXT_LIMITS[name]:
                    errors.append(RowError(file_name, row_no, header[positions[name]],
                                           reason("longer than %(limit)s characters", limit=TEXT_LIMITS[name])))
                setattr(row, name, text[:TEXT_LIMITS[name]])
        if match is not None and match.group(2) and not row.building_part_name:
            row.building_part_name = match.group(2)[:200]
        for module, index in module_positions.items():
            text = cell(index)
            if not text:
                continue
            try:
                kg = float(values.parse_number(text))
            except ValueError as exc:
                errors.append(RowError(file_name, row_no, header[index],
                                       reason("%(reason)s (kg CO2e)", reason=str(exc))))
                continue
            if not math.isfinite(kg) or abs(kg) >= MAX_KG:
                errors.append(RowError(file_name, row_no, header[index],
                                       reason("%(value)s kg CO2e is out of range", value=quoted(text))))
                continue
            row.modules[module] = kg
        if not any(cell(i) for i in module_positions.values()):
            errors.append(RowError(file_name, row_no, None, reason("no kg CO2e in any module column")))
        rows.append(row)
    calculation = Calculation(rows)
    if not errors and calculation.kg_co2e <= 0:
        errors.append(RowError(file_name, None, None,
                               reason("the calculation's total (every module but D) is %(total)s kg CO2e; "
                                      "it must be above zero", total=format(calculation.kg_co2e, "g"))))
    if errors:
        raise ImportRejected(errors)
    return calculation
