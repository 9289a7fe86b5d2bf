"""Limits on archives and uploads (issue 19, part 3; importers/archives.py): zip bombs, too many members, too much
in total, nesting and lying headers are refused quickly with exit 2, a message naming the file and the limit,
and nothing stored."""
from __future__ import annotations

import random
import struct
import time
import zipfile
from pathlib import Path

import pytest

from klimainnkjop import paths
from klimainnkjop.importers import archives
from klimainnkjop.importers.errors import ImportRejected
from klimainnkjop.importers.tabular import read_table
from klimainnkjop.services.invoices import do_import_ehf, read_inputs
from klimainnkjop.services.organisations import do_create_organisation
from klimainnkjop.storage.models import ImportBatch

NORWEGIAN = Path(__file__).resolve().parent / "data" / "ehf" / "Norwegian-example-1.xml"
BUYER = "987654325"
MIB = 1024 * 1024
QUICK_SECONDS = 10  # generous on a shared 2-core machine; unguarded, the 200 MB bomb is read in full


@pytest.fixture
def buyer(db):
    return do_create_organisation(orgnr=BUYER, name="Buyercompany ASA", actor="test")


@pytest.fixture
def cli(monkeypatch, capsys):
    """The CLI in-process; its first-run load of reference data is not what these tests are about."""
    from klimainnkjop.cli import main

    monkeypatch.setattr("klimainnkjop.services.reference.do_load_reference_data", lambda **kwargs: None)

    def run(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse
            code = exc.code
        captured = capsys.readouterr()
        return code, captured.out + captured.err
    return run


def zeros_member(archive: zipfile.ZipFile, name: str, mib: int) -> None:
    """`mib` MiB of zeros written through zipfile's streaming writer (never all in memory)."""
    chunk = bytes(MIB)
    with archive.open(name, "w") as member:
        for _ in range(mib):
            member.write(chunk)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """200 MiB of zeros in a zip of a few hundred kB."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        zeros_member(archive, "bomb.xml", 200)
    assert path.stat().st_size < 1 * MIB
    return path


def lying_zip(path: Path, *, real_mib: int, declared_size: int | None = None,
              declared_compressed: int | None = None) -> Path:
    """A zip of one member of zeros whose central directory and local header state other sizes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        zeros_member(archive, "lie.xml", real_mib)
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    if declared_compressed is not None:
        struct.pack_into("<I", data, central + 20, declared_compressed)
        struct.pack_into("<I", data, 18, declared_compressed)
    if declared_size is not None:
        struct.pack_into("<I", data, central + 24, declared_size)
        struct.pack_into("<I", data, 22, declared_size)
    path.write_bytes(bytes(data))
    return path


def assert_nothing_stored():
    assert not ImportBatch.objects.with_scopes_disabled().exists()
    assert not list(paths.data_dir().rglob("*.parquet"))
    assert not paths.archive_dir().exists() or not any(p.is_file() for p in paths.archive_dir().rglob("*"))


def refused_by_cli(cli, *argv: str) -> str:
    began = time.perf_counter()
    code, output = cli(*argv)
    assert time.perf_counter() - began < QUICK_SECONDS
    assert code == 2, output
    assert "Traceback" not in output
    assert_nothing_stored()
    return output


def test_a_zip_bomb_is_refused_from_its_directory_by_the_service_quickly(buyer, bomb):
    began = time.perf_counter()
    with pytest.raises(ImportRejected) as refused:
        do_import_ehf(documents=read_inputs([bomb]), actor="test")
    assert time.perf_counter() - began < QUICK_SECONDS
    message = str(refused.value)
    assert "bomb.zip!bomb.xml" in message and "100.0 MiB" in message and "KLIMAINNKJOP_ARCHIVE_MAX_MEMBER_MIB" in message
    assert_nothing_stored()


def test_a_zip_bomb_is_refused_by_the_cli_with_exit_2_naming_the_file_and_the_limit(buyer, bomb, cli):
    output = refused_by_cli(cli, "import", "ehf", str(bomb), "--org", BUYER)
    assert "bomb.zip!bomb.xml" in output and "100.0 MiB" in output


def test_a_member_under_the_size_limit_but_compressed_a_thousandfold_is_refused_for_its_ratio(buyer, tmp_path, cli):
    path = tmp_path / "dense.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        zeros_member(archive, "dense.xml", 20)
    output = refused_by_cli(cli, "import", "ehf", str(path), "--org", BUYER)
    assert "dense.zip!dense.xml" in output and "100" in output and "KLIMAINNKJOP_ARCHIVE_MAX_RATIO" in output


def test_too_many_members_are_refused_before_any_is_read(buyer, tmp_path, cli, settings):
    settings.KLIMAINNKJOP_ARCHIVE_MAX_MEMBERS = 20
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(21):
            archive.writestr(f"invoice-{index:02}.xml", NORWEGIAN.read_bytes())
    output = refused_by_cli(cli, "import", "ehf", str(path), "--org", BUYER)
    assert "many.zip" in output and "20" in output and "KLIMAINNKJOP_ARCHIVE_MAX_MEMBERS" in output


def test_members_each_within_the_limit_but_too_much_together_are_refused(buyer, tmp_path, cli, settings):
    settings.KLIMAINNKJOP_ARCHIVE_MAX_TOTAL_MIB = 1
    noise = random.Random(19).randbytes(700 * 1024)  # incompressible, so the ratio is not what refuses it
    path = tmp_path / "heavy.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.xml", noise)
        archive.writestr("b.xml", noise)
    output = refused_by_cli(cli, "import", "ehf", str(path), "--org", BUYER)
    assert "heavy.zip!b.xml" in output and "1.0 MiB" in output and "KLIMAINNKJOP_ARCHIVE_MAX_TOTAL_MIB" in output


def test_the_total_limit_counts_every_file_and_zip_of_one_import(buyer, tmp_path, settings):
    settings.KLIMAINNKJOP_ARCHIVE_MAX_TOTAL_MIB = 1
    noise = random.Random(19).randbytes(700 * 1024)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.xml").write_bytes(noise)
    with zipfile.ZipFile(tmp_path / "in" / "b.zip", "w") as archive:
        archive.writestr("b.xml", noise)
    with pytest.raises(ImportRejected, match="b.zip!b.xml"):
        read_inputs([tmp_path / "in"])


def test_a_zip_inside_a_zip_is_refused(buyer, tmp_path, cli):
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("invoice.xml", NORWEGIAN.read_bytes())
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as archive:
        archive.write(inner, "inner.zip")
    output = refused_by_cli(cli, "import", "ehf", str(outer), "--org", BUYER)
    assert "outer.zip!inner.zip" in output


def test_a_zip_inside_a_zip_under_an_xml_name_is_refused_by_its_content(buyer, tmp_path, cli):
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("invoice.xml", NORWEGIAN.read_bytes())
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as archive:
        archive.write(inner, "disguised.xml")
    output = refused_by_cli(cli, "import", "ehf", str(outer), "--org", BUYER)
    assert "outer.zip!disguised.xml" in output


def test_a_header_that_understates_the_size_is_refused_without_trusting_it(buyer, tmp_path, cli):
    path = lying_zip(tmp_path / "liar.zip", real_mib=50, declared_size=1000)
    output = refused_by_cli(cli, "import", "ehf", str(path), "--org", BUYER)
    assert "liar.zip" in output


def test_a_header_that_claims_more_compressed_bytes_than_the_file_has_is_refused(buyer, tmp_path, cli):
    path = lying_zip(tmp_path / "liar.zip", real_mib=50, declared_size=50 * MIB, declared_compressed=40 * MIB)
    output = refused_by_cli(cli, "import", "ehf", str(path), "--org", BUYER)
    assert "liar.zip!lie.xml" in output


def test_a_plain_invoice_file_over_the_size_limit_is_refused_after_reading_no_more_than_the_limit(buyer, tmp_path,
                                                                                                  cli, settings):
    settings.KLIMAINNKJOP_ARCHIVE_MAX_MEMBER_MIB = 1
    path = tmp_path / "big.xml"
    path.write_bytes(NORWEGIAN.read_bytes() + b" " * (2 * MIB))
    output = refused_by_cli(cli, "import", "ehf", str(path), "--org", BUYER)
    assert "big.xml" in output and "1.0 MiB" in output


def test_an_xlsx_bomb_is_refused_before_the_spreadsheet_reader_unpacks_it(tmp_path):
    path = tmp_path / "ledger.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        zeros_member(archive, "xl/worksheets/sheet1.xml", 20)
    began = time.perf_counter()
    with pytest.raises(ImportRejected, match=r"ledger.xlsx!xl/worksheets/sheet1.xml"):
        read_table(path.read_bytes(), "ledger.xlsx")
    assert time.perf_counter() - began < QUICK_SECONDS


def test_an_xlsx_bomb_given_to_the_factor_set_import_exits_2(db, tmp_path, cli):
    path = tmp_path / "factors.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        zeros_member(archive, "xl/worksheets/sheet1.xml", 20)
    output = refused_by_cli(cli, "factors", "import", str(path))
    assert "factors.xlsx!xl/worksheets/sheet1.xml" in output and "KLIMAINNKJOP_ARCHIVE_MAX_RATIO" in output


def test_a_valid_zip_of_invoices_within_the_limits_still_imports(buyer, tmp_path, cli):
    path = tmp_path / "fine.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("invoice.xml", NORWEGIAN.read_bytes())
        archive.writestr("README.txt", "not an invoice, skipped")
    code, output = cli("import", "ehf", str(path), "--org", BUYER)
    assert code == 0, output
    assert ImportBatch.objects.with_scopes_disabled().get().lines_added == 7


def test_the_limits_come_from_a_setting_then_the_environment_then_the_defaults(settings, monkeypatch):
    assert archives.limits() == archives.DEFAULTS
    monkeypatch.setenv("KLIMAINNKJOP_ARCHIVE_MAX_RATIO", "50")
    monkeypatch.setenv("KLIMAINNKJOP_ARCHIVE_MAX_MEMBERS", "7")
    settings.KLIMAINNKJOP_ARCHIVE_MAX_MEMBERS = 9
    assert archives.limits() == archives.Limits(max_members=9, max_member_mib=100, max_total_mib=512, max_ratio=50)
    monkeypatch.setenv("KLIMAINNKJOP_ARCHIVE_MAX_TOTAL_MIB", "0")
    with pytest.raises(ValueError, match="KLIMAINNKJOP_ARCHIVE_MAX_TOTAL_MIB"):
        archives.limits()


def test_the_refusal_is_kept_in_english_and_a_page_shows_it_in_bokmal(db, tmp_path):
    from django.utils import translation

    from klimainnkjop.web.reasons import row_error_text

    path = tmp_path / "outer.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("inner.zip", b"PK\x03\x04")
    with translation.override("nb"), pytest.raises(ImportRejected) as refused:
        read_inputs([path])  # made the same whoever asks: the CLI, the API and an upload's record keep English
    (error,) = refused.value.errors
    assert error.reason.endswith("an archive inside an archive is not accepted; unpack it first")
    with translation.override("nb"):
        assert row_error_text(error).endswith("et arkiv inne i et arkiv godtas ikke; pakk det ut først")
    with translation.override("en"):
        assert row_error_text(error).endswith("an archive inside an archive is not accepted; unpack it first")
