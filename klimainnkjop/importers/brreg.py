"""Enhetsregisteret's units ("enheter", Brønnøysundregistrene, NLOD) from the bulk download or the API.

The bulk download comes as a JSON array of units (`enheter_alle.json.gz`, each unit as the API gives it:
organisasjonsnummer, navn, organisasjonsform{kode}, naeringskode1..3{kode, beskrivelse},
forretningsadresse{adresse[], postnummer, poststed, kommunenummer, kommune, landkode}, postadresse{…},
slettedato, …) or as CSV with the same fields flattened into dotted column names (organisasjonsnummer,
navn, organisasjonsform.kode, naeringskode1.kode, naeringskode1.beskrivelse, forretningsadresse.adresse,
forretningsadresse.postnummer, forretningsadresse.poststed, forretningsadresse.kommunenummer, …), either
gzip-compressed or not.

The national file has more than a million units, so it is read as a stream: `iter_units` yields one
(position, unit or errors) at a time and never holds the file. For JSON the position is the unit's place
in the array (1 = first), for CSV the line number (1 = the header).
"""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterator

from klimainnkjop.core.errors import reason
from klimainnkjop.importers.errors import RowError, quoted
from klimainnkjop.core.kostra import OrgNumber

NACE = re.compile(r"^\d{2}(\.\d{1,3})?$")
CHUNK = 1 << 20


@dataclass
class Unit:
    orgnr: str
    name: str
    organisation_form: str = ""
    nace: str = ""
    nace_description: str = ""
    nace_secondary: list[str] = field(default_factory=list)
    address: str = ""
    postal_code: str = ""
    postal_place: str = ""
    municipality_number: str = ""
    deleted_on: str = ""

    def fields(self) -> dict:
        """The Supplier fields this unit sets."""
        return {"name": self.name, "organisation_form": self.organisation_form, "nace": self.nace,
                "nace_description": self.nace_description, "nace_secondary": self.nace_secondary,
                "address": self.address, "postal_code": self.postal_code, "postal_place": self.postal_place,
                "municipality_number": self.municipality_number,
                "register_status": "deleted" if self.deleted_on else "active"}


def _get(record: dict, dotted: str):
    """record['a']['b'] for 'a.b' (JSON), or record['a.b'] (CSV)."""
    if dotted in record:
        return record[dotted]
    value = record
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v).strip() for v in value if v not in (None, ""))
    return str(value).strip()


def unit_from_record(record: dict, file_name: str, position: int | None) -> tuple[Unit | None, list[RowError]]:
    """One unit from the API's JSON object or a CSV row (dotted names); every problem as a RowError."""
    errors: list[RowError] = []

    def bad(column: str, reason: str) -> None:
        errors.append(RowError(file_name, position, column, reason))

    orgnr = _text(_get(record, "organisasjonsnummer")).replace(" ", "")
    if not OrgNumber.is_well_formed(orgnr):
        bad("organisasjonsnummer", reason("not a 9-digit organisation number: %(value)s", value=quoted(orgnr)))
    name = _text(_get(record, "navn"))
    deleted_on = _text(_get(record, "slettedato"))
    if not name and not deleted_on:
        bad("navn", reason("the unit has no name"))
    codes = []
    for n in (1, 2, 3):
        code = _text(_get(record, f"naeringskode{n}.kode"))
        if code and not NACE.match(code):
            bad(f"naeringskode{n}.kode", reason("not a NACE code (like 46.391): %(value)s", value=quoted(code)))
        codes.append(code)
    # The business address; units without one (many associations) have a postal address only.
    prefix = "forretningsadresse" if any(_text(_get(record, f"forretningsadresse.{p}"))
                                         for p in ("adresse", "postnummer", "kommunenummer")) else "postadresse"
    municipality = _text(_get(record, f"{prefix}.kommunenummer"))
    if municipality and not (len(municipality) == 4 and municipality.isdecimal()):
        bad(f"{prefix}.kommunenummer",
            reason("not a 4-digit municipality number: %(value)s", value=quoted(municipality)))
    country = _text(_get(record, f"{prefix}.landkode")) or "NO"
    postal_code = _text(_get(record, f"{prefix}.postnummer"))
    if postal_code and country == "NO" and not (len(postal_code) == 4 and postal_code.isdecimal()):
        bad(f"{prefix}.postnummer",
            reason("not a 4-digit Norwegian postal code: %(value)s", value=quoted(postal_code)))
    if errors:
        return None, errors
    return Unit(
        orgnr=orgnr, name=name[:300], organisation_form=_text(_get(record, "organisasjonsform.kode"))[:10],
        nace=codes[0], nace_description=_text(_get(record, "naeringskode1.beskrivelse"))[:300],
        nace_secondary=[c for c in codes[1:] if c], address=_text(_get(record, f"{prefix}.adresse"))[:300],
        postal_code=postal_code[:10], postal_place=_text(_get(record, f"{prefix}.poststed"))[:100],
        municipality_number=municipality, deleted_on=deleted_on,
    ), []


def _open(path: Path) -> IO[bytes]:
    raw = open(path, "rb")
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw, mode="rb")
    raw.seek(0)
    return raw


def _first_char(stream: IO[bytes]) -> bytes:
    """The first non-blank byte (after a BOM), without consuming the stream (it is a peekable reader)."""
    head = stream.peek(64)[:64] if hasattr(stream, "peek") else b""
    return head.lstrip(codecs.BOM_UTF8).lstrip()[:1]


def iter_units(path: Path, file_name: str | None = None) -> Iterator[tuple[int, Unit | None, list[RowError]]]:
    """Every unit of the file, one at a time: (position, unit or None, errors). A file that cannot be read
    at all yields a single entry with position 0 and the error."""
    name = file_name or Path(path).name
    with _open(Path(path)) as opened:
        stream = io.BufferedReader(opened, CHUNK) if not hasattr(opened, "peek") else opened
        first = _first_char(stream)
        if first in (b"[", b"{"):
            yield from _iter_json(stream, name)
        elif first:
            yield from _iter_csv(stream, name)
        else:
            yield 0, None, [RowError(name, None, None, reason("the file is empty"))]


def _iter_json(stream: IO[bytes], name: str) -> Iterator[tuple[int, Unit | None, list[RowError]]]:
    """A JSON array of units, decoded incrementally: a window of text, one object at a time."""
    reader = codecs.getincrementaldecoder("utf-8-sig")()
    decoder = json.JSONDecoder()
    buffer = ""
    pos = 0
    eof = False
    position = 0
    started = False

    def fill() -> bool:
        nonlocal buffer, pos, eof
        chunk = stream.read(CHUNK)
        if not chunk:
            eof = True
            buffer = buffer[pos:] + reader.decode(b"", final=True)
        else:
            buffer = buffer[pos:] + reader.decode(chunk)
        pos = 0
        return not eof

    fill()
    while True:
        while pos < len(buffer) and buffer[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(buffer):
            if eof:
                break
            fill()
            continue
        char = buffer[pos]
        if not started:
            if char == "{":  # a single search answer ({"_embedded": {"enheter": [...]}}) or one unit
                rest = buffer[pos:] + "".join(iter(lambda: reader.decode(stream.read(CHUNK)), ""))
                try:
                    document = json.loads(rest)
                except json.JSONDecodeError as exc:
                    yield 0, None, [RowError(name, None, None, reason("not valid JSON: %(error)s at line %(line)s",
                                                                      error=exc.msg, line=exc.lineno))]
                    return
                units = document.get("_embedded", {}).get("enheter") if "_embedded" in document else [document]
                for position, record in enumerate(units or [], start=1):
                    unit, errors = unit_from_record(record, name, position) if isinstance(record, dict) else (
                        None, [RowError(name, position, None, reason("not a JSON object"))])
                    yield position, unit, errors
                return
            if char != "[":
                yield 0, None, [RowError(name, None, None, reason("not a JSON array of units"))]
                return
            started = True
            pos += 1
            continue
        if char == "]":
            return
        try:
            record, end = decoder.raw_decode(buffer, pos)
        except json.JSONDecodeError as exc:
            if not eof:
                fill()  # the object continues in the next chunk
                continue
            yield 0, None, [RowError(name, position + 1, None, reason("not valid JSON after unit %(unit)s: %(error)s",
                                                                      unit=position, error=exc.msg))]
            return
        pos = end
        position += 1
        if not isinstance(record, dict):
            yield position, None, [RowError(name, position, None, reason("not a JSON object"))]
            continue
        unit, errors = unit_from_record(record, name, position)
        yield position, unit, errors
    yield 0, None, [RowError(name, None, None,
                             reason("the JSON array ends without ']' after unit %(unit)s (a cut-off file?)",
                                    unit=position))]


def _iter_csv(stream: IO[bytes], name: str) -> Iterator[tuple[int, Unit | None, list[RowError]]]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    header_line = text.readline()
    delimiter = max(",;\t", key=header_line.count)
    header = next(csv.reader([header_line], delimiter=delimiter))
    header = [h.strip() for h in header]
    if "organisasjonsnummer" not in header:
        yield 1, None, [RowError(name, 1, "organisasjonsnummer",
                                 reason("no column 'organisasjonsnummer' in the header (%(header)s…)",
                                        header=", ".join(header[:8])))]
        return
    reader = csv.reader(text, delimiter=delimiter)
    line = 1
    try:
        for cells in reader:
            line = reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                yield line, None, [RowError(name, line, None, reason("%(count)s fields, the header has %(expected)s",
                                                                     count=len(cells), expected=len(header)))]
                continue
            unit, errors = unit_from_record(dict(zip(header, cells)), name, line)
            yield line, unit, errors
    except (csv.Error, UnicodeDecodeError) as exc:
        yield line, None, [RowError(name, line, None, reason("malformed CSV: %(error)s", error=str(exc)))]
