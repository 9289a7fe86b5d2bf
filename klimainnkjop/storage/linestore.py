"""The line store: immutable Parquet files, one per import batch, and raw files archived by hash.

A batch file is written completely (temporary name, then an atomic rename) before the database row
that makes it count is committed, so a killed import leaves at most an orphan file that no reader
sees: readers only open files named by committed ImportBatch rows.
"""
from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.parquet as pq

from klimainnkjop import paths

# The one definition of a spend line on disk.
LINE_SCHEMA = pa.schema(
    [
        ("line_key", pa.string()),        # natural key (hash), unique per organisation
        ("org", pa.string()),             # organisation orgnr
        ("batch", pa.string()),          # ImportBatch.token
        ("source", pa.string()),          # ledger | kostra
        ("row_no", pa.int32()),           # row in the source file (1 = header)
        ("posting_date", pa.date32()),
        ("year", pa.int32()),
        ("month", pa.int32()),            # 0 for annual data (KOSTRA)
        ("account", pa.string()),
        ("art", pa.string()),
        ("function", pa.string()),
        ("unit", pa.string()),
        ("project", pa.string()),
        ("supplier_orgnr", pa.string()),
        ("supplier_name", pa.string()),
        ("amount_ore", pa.int64()),       # NOK excl. VAT, øre
        ("vat_ore", pa.int64()),
        ("currency", pa.string()),        # currency of the source amount
        ("amount_orig_minor", pa.int64()),  # source amount in its currency, hundredths
        ("description", pa.string()),
        ("invoice_no", pa.string()),
        ("voucher", pa.string()),
        ("line_id", pa.string()),
        ("investment", pa.bool_()),
        ("quantity", pa.float64()),       # physical quantity when the source has one (else null)
        ("quantity_unit", pa.string()),   # its unit, canonical name (core.units)
    ]
)

# Columns only invoice lines (EHF/PEPPOL, source "ehf") carry, after the common ones. Batches of other
# sources are written without them and read them as null (readers use union_by_name).
INVOICE_COLUMNS = [
    ("document_type", pa.string()),      # invoice | creditnote
    ("document_id", pa.string()),        # the document's id (BT-1), also in invoice_no
    ("item_name", pa.string()),          # Item/Name
    ("item_description", pa.string()),   # Item/Description
    ("seller_item_id", pa.string()),     # Item/SellersItemIdentification/ID
    ("item_class_scheme", pa.string()),  # cpv (UNCL 7143 STI) | unspsc (TST) | other list id, lower case
    ("item_class_code", pa.string()),    # Item/CommodityClassification/ItemClassificationCode
    ("unit_code", pa.string()),          # the quantity's UN/ECE Rec 20 code as on the invoice
]
INVOICE_LINE_SCHEMA = pa.schema(list(LINE_SCHEMA) + [pa.field(n, t) for n, t in INVOICE_COLUMNS])


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def archive_raw(data: bytes, sha: str) -> Path:
    """Keep the raw imported file, content-addressed; writing the same content twice is a no-op."""
    target = paths.archive_dir() / sha[:2] / sha
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write_bytes(target, data)
    return target


def new_token() -> str:
    return uuid.uuid4().hex


def write_batch(org: str, rows: dict[str, list], token: str, schema: pa.Schema = LINE_SCHEMA) -> Path:
    """Write one batch's lines (LINE_SCHEMA, or a schema that extends it at the end); returns the final path."""
    table = pa.Table.from_pydict(rows, schema=schema)
    return write_batch_file(org, token, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def write_batch_file(org: str, token: str, write: Callable[[Path], None]) -> Path:
    """A batch file written by `write(path)` (LINE_SCHEMA's columns, Parquet) to a temporary name, synced and
    renamed to its final path, which is returned."""
    folder = paths.lines_dir() / org
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{token}.parquet"
    tmp = target.with_suffix(".parquet.tmp")
    write(tmp)
    _fsync(tmp)
    os.replace(tmp, target)
    return target


def relative(path: Path) -> str:
    return str(path.resolve().relative_to(paths.data_dir()))


def absolute(rel: str) -> Path:
    return paths.data_dir() / rel


def read_keys(files: list[Path]) -> set[str]:
    """The natural keys already stored in the given batch files."""
    keys: set[str] = set()
    for file in files:
        if file.exists():
            keys.update(pq.read_table(file, columns=["line_key"]).column(0).to_pylist())
    return keys


def _atomic_write_bytes(target: Path, data: bytes) -> None:
    tmp = target.with_name(target.name + f".{uuid.uuid4().hex}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())
