"""Limits on what an import may unpack or read: zip files of EHF invoices, XLSX workbooks (zips too), and the
documents of one EHF import. The one place these limits live.

| limit              | default | setting / environment variable          |
|--------------------|---------|-----------------------------------------|
| members            | 20 000  | KLIMAINNKJOP_ARCHIVE_MAX_MEMBERS        |
| one member (MiB)   | 100     | KLIMAINNKJOP_ARCHIVE_MAX_MEMBER_MIB     |
| all members (MiB)  | 512     | KLIMAINNKJOP_ARCHIVE_MAX_TOTAL_MIB      |
| compression ratio  | 100     | KLIMAINNKJOP_ARCHIVE_MAX_RATIO          |

A Django setting of that name wins over the environment variable, which wins over the default. Members counts
the entries of one archive and the documents of one EHF import; one member is the uncompressed size of a zip
entry and the size of a plain file read as an EHF document; all members is the uncompressed total of one
archive and of one EHF import; the ratio (uncompressed ÷ compressed) is checked once a member has given
RATIO_FROM_BYTES, as small members compress unevenly. A zip inside a zip is refused (EHF); an encrypted
member is refused.

Every limit is checked twice: first from the central directory (the declared sizes, before anything is
decompressed: a zip bomb is refused at once) and again while each member is decompressed in chunks of
CHUNK_BYTES, counting the bytes that actually come out (a header that lies is refused as soon as the real data
passes a limit, or by the CRC check). Memory stays within the limits (EHF documents are kept; XLSX members are
only counted), time within what the limits let through.
"""
from __future__ import annotations

import io
import os
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import BinaryIO

from klimainnkjop.core.errors import reason
from klimainnkjop.importers.errors import ImportRejected, RowError

MIB = 1024 * 1024
CHUNK_BYTES = MIB
RATIO_FROM_BYTES = MIB
ZIP_MAGIC = b"PK\x03\x04"
NESTED_SUFFIXES = (".zip", ".jar", ".7z", ".rar", ".gz", ".tgz", ".bz2", ".xz", ".tar")


@dataclass(frozen=True)
class Limits:
    max_members: int = 20_000
    max_member_mib: int = 100
    max_total_mib: int = 512
    max_ratio: int = 100

    @property
    def max_member_bytes(self) -> int:
        return self.max_member_mib * MIB

    @property
    def max_total_bytes(self) -> int:
        return self.max_total_mib * MIB


DEFAULTS = Limits()


def setting_name(field: str) -> str:
    return f"KLIMAINNKJOP_ARCHIVE_{field.upper()}"


def limits() -> Limits:
    """The limits in force: Django setting, else environment variable, else the default."""
    from django.conf import settings

    values = {}
    for field in fields(Limits):
        name = setting_name(field.name)
        value = getattr(settings, name, None) if settings.configured else None
        if value is None:
            value = os.environ.get(name) or None
        values[field.name] = int(value) if value is not None else getattr(DEFAULTS, field.name)
        if values[field.name] < 1:
            raise ValueError(reason("%(setting)s must be a positive whole number, not %(value)r", setting=name,
                                    value=value))
    return Limits(**values)


class ArchiveRefused(ImportRejected):
    """An archive or file over a limit, nested, encrypted or damaged; nothing was read from it."""

    def __init__(self, file: str, why: str):
        super().__init__([RowError(file, None, None, why)])


def _size(n: int) -> str:
    return f"{n / MIB:.1f} MiB" if n >= MIB else f"{n} B"


class Budget:
    """What one import (or one archive) has used of the limits so far."""

    def __init__(self, limit: Limits | None = None):
        self.limits = limit or limits()
        self.members = 0
        self.total = 0

    def count(self, file: str) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise self.too_many(file)

    def add(self, file: str, n: int) -> None:
        self.total += n
        if self.total > self.limits.max_total_bytes:
            raise self.total_too_large(file)

    def too_many(self, file: str) -> ArchiveRefused:
        return ArchiveRefused(file, reason("more than %(limit)s files in one import or archive (the limit, "
                                           "%(setting)s)", limit=self.limits.max_members,
                                           setting=setting_name("max_members")))

    def total_too_large(self, file: str) -> ArchiveRefused:
        return ArchiveRefused(file, reason("more than %(limit)s uncompressed in one import or archive (the limit, "
                                           "%(setting)s)", limit=_size(self.limits.max_total_bytes),
                                           setting=setting_name("max_total_mib")))

    def member_too_large(self, file: str) -> ArchiveRefused:
        limit, setting = _size(self.limits.max_member_bytes), setting_name("max_member_mib")
        return ArchiveRefused(file, reason("larger than %(limit)s uncompressed (the limit per file, %(setting)s)",
                                           limit=limit, setting=setting))

    def ratio_too_high(self, file: str) -> ArchiveRefused:
        return ArchiveRefused(file, reason("compressed more than %(limit)s times (the limit, %(setting)s); a zip "
                                           "bomb?", limit=self.limits.max_ratio, setting=setting_name("max_ratio")))


def read_file(path: Path, budget: Budget, *, name: str | None = None) -> bytes:
    """A plain file's bytes, read no further than the per-file limit (the size on disk is not trusted)."""
    name = name or path.name
    if not path.is_file():
        raise ArchiveRefused(name, reason("not a regular file"))
    budget.count(name)
    with path.open("rb") as fh:
        data = fh.read(budget.limits.max_member_bytes + 1)
    if len(data) > budget.limits.max_member_bytes:
        raise budget.member_too_large(name)
    budget.add(name, len(data))
    return data


def _check_directory(archive: zipfile.ZipFile, name: str, size: int, budget: Budget, *, nested: bool) -> None:
    """Every limit against the central directory's declared sizes, before anything is decompressed."""
    infos = archive.infolist()
    if budget.members + len(infos) > budget.limits.max_members:
        raise budget.too_many(name)
    declared = 0
    for info in infos:
        where = f"{name}!{info.filename}"
        if info.is_dir():
            continue
        if not nested and info.filename.lower().endswith(NESTED_SUFFIXES):
            raise ArchiveRefused(where, reason("an archive inside an archive is not accepted; unpack it first"))
        if info.flag_bits & 0x1:
            raise ArchiveRefused(where, reason("encrypted; not accepted"))
        if info.header_offset + info.compress_size > size or info.compress_size < 0 or info.file_size < 0:
            raise ArchiveRefused(where, reason("the archive's directory gives sizes beyond the end of the file; "
                                               "damaged or forged"))
        if info.file_size > budget.limits.max_member_bytes:
            raise budget.member_too_large(where)
        if info.file_size > RATIO_FROM_BYTES and info.file_size > budget.limits.max_ratio * max(info.compress_size, 1):
            raise budget.ratio_too_high(where)
        declared += info.file_size
        if budget.total + declared > budget.limits.max_total_bytes:
            raise budget.total_too_large(where)


def _stream(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, budget: Budget,
            keep: bool, *, nested: bool) -> bytes:
    """A member decompressed chunk by chunk, its real output counted against the limits."""
    chunks: list[bytes] = []
    produced = 0
    with archive.open(info) as fh:
        while True:
            chunk = fh.read(CHUNK_BYTES)
            if not chunk:
                break
            if produced == 0 and not nested and chunk.startswith(ZIP_MAGIC):
                raise ArchiveRefused(where, reason("an archive inside an archive is not accepted; unpack it first"))
            produced += len(chunk)
            if produced > budget.limits.max_member_bytes:
                raise budget.member_too_large(where)
            if produced > RATIO_FROM_BYTES and produced > budget.limits.max_ratio * max(info.compress_size, 1):
                raise budget.ratio_too_high(where)
            budget.add(where, len(chunk))
            if keep:
                chunks.append(chunk)
    return b"".join(chunks)


def read_zip(source: Path | bytes, name: str, budget: Budget | None = None, *,
             wanted: Callable[[str], bool] = lambda member: True, nested: bool = False,
             keep: bool = True) -> list[tuple[str, bytes]]:
    """(archive!member, bytes) of the wanted members in name order, within the limits, or ArchiveRefused.

    nested=False refuses any archive member (by name or by content); members not wanted are not decompressed,
    but count towards the number of members. keep=False decompresses and counts the wanted members but keeps
    nothing (their bytes come back empty).
    """
    budget = budget or Budget()
    fh: BinaryIO
    try:
        if isinstance(source, bytes):
            fh, size = io.BytesIO(source), len(source)
        else:
            fh, size = source.open("rb"), source.stat().st_size
        with fh, zipfile.ZipFile(fh) as archive:
            _check_directory(archive, name, size, budget, nested=nested)
            out = []
            for info in sorted(archive.infolist(), key=lambda i: i.filename):
                if info.is_dir():
                    continue
                where = f"{name}!{info.filename}"
                budget.count(where)
                if wanted(info.filename):
                    out.append((where, _stream(archive, info, where, budget, keep, nested=nested)))
            return out
    except ImportRejected:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError, OSError) as exc:
        raise ArchiveRefused(name, reason("not a readable zip archive (%(error)s)", error=str(exc)[:200])) from None


def check_zip(data: bytes, name: str) -> None:
    """An XLSX workbook (or any zip) checked against the limits before a library unpacks it: the directory, then
    every member decompressed, counted and thrown away. Archives inside are allowed here (embedded objects)."""
    read_zip(data, name, nested=True, keep=False)
