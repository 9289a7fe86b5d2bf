"""Drop folders: files that an ERP export or an e-invoice archive puts into a folder per organisation and source
are imported without an operator (`klimainnkjop imports run-due` from cron, or `klimainnkjop watch`).

Layout, under KLIMAINNKJOP_DROP_DIR (default: `drop/` in the data directory):

    <orgnr>/<source>/FILE                 source: ledger | kostra | saft | ehf | supplier-stats
    <orgnr>/<source>/<profile>/FILE       ledger and supplier-stats: the mapping profile to read the file with
                                          (directly in the source folder: the organisation's default profile)

Each file goes through the same import service as on the command line (the same checks, the whole file validated
before one short write, an audit entry), then moves to `done/` beside it, or to `failed/` with `FILE.reason.txt`
saying why (and an audit entry `fail_drop_import`). A file seen before (the same bytes) is recognised by the import
and moves to `done/` without adding anything, so running twice imports once. A file that is still being written
waits: its name ends in .tmp or .part or starts with a dot, or it changed in the last `settle` seconds. Runs are
serialised by a lock file in the drop folder, so cron and a watcher never import the same file at once. When
anything was added, the account is computed once at the end (unless compute=False).
"""
from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext

from klimainnkjop import access, paths
from klimainnkjop.core.errors import ImportRejected, InvalidInput
from klimainnkjop.services.audit import record_audit
from klimainnkjop.storage.models import Organisation
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.actors import ActorLike

SOURCES = ("ledger", "kostra", "saft", "ehf", "supplier-stats")
WITH_PROFILE = ("ledger", "supplier-stats")
DONE, FAILED = "done", "failed"
WAITING_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload")
SETTLE_SECONDS = 10.0


def drop_dir() -> Path:
    configured = os.environ.get("KLIMAINNKJOP_DROP_DIR", "")
    return Path(configured) if configured else paths.data_dir() / "drop"


@dataclass
class DropOutcome:
    file: str          # relative to the drop folder
    organisation: str
    source: str
    status: str        # imported | already_imported | failed
    lines_added: int = 0
    message: str = ""
    moved_to: str = ""

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class DropRun:
    outcomes: list[DropOutcome] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    computed_run: int | None = None

    @property
    def lines_added(self) -> int:
        return sum(o.lines_added for o in self.outcomes)

    @property
    def failed(self) -> int:
        return sum(o.status == "failed" for o in self.outcomes)

    def as_dict(self) -> dict:
        return {"files": [o.as_dict() for o in self.outcomes], "waiting": self.waiting,
                "lines_added": self.lines_added, "failed": self.failed, "computed_run": self.computed_run}


def ensure_layout(orgnrs: list[str]) -> Path:
    """Creates the source folders for the given organisations (for an administrator setting up the export)."""
    root = drop_dir()
    for orgnr in orgnrs:
        for source in SOURCES:
            (root / orgnr / source).mkdir(parents=True, exist_ok=True)
    return root


def due_files(root: Path, *, settle: float = SETTLE_SECONDS, now: float | None = None) -> tuple[list[Path], list[Path]]:
    """(files to import now, files still being written), in a stable order."""
    now = time.time() if now is None else now
    due, waiting = [], []
    if not root.is_dir():
        return due, waiting
    for org_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for source in SOURCES:
            source_dir = org_dir / source
            if not source_dir.is_dir():
                continue
            folders = [source_dir]
            if source in WITH_PROFILE:
                folders += sorted(p for p in source_dir.iterdir() if p.is_dir() and p.name not in (DONE, FAILED)
                                  and not p.name.startswith("."))
            for folder in folders:
                for file in sorted(p for p in folder.iterdir() if p.is_file()):
                    if file.name.startswith(".") or file.name.endswith(".reason.txt"):
                        continue
                    if file.name.lower().endswith(WAITING_SUFFIXES) or now - file.stat().st_mtime < settle:
                        waiting.append(file)
                    else:
                        due.append(file)
    return due, waiting


def _where(root: Path, file: Path) -> tuple[str, str, str | None]:
    """(orgnr, source, profile or None) from the file's place in the layout."""
    parts = file.relative_to(root).parts
    orgnr, source = parts[0], parts[1]
    profile = parts[2] if len(parts) == 4 else None
    return orgnr, source, profile


def _move(file: Path, source_dir: Path, outcome: str, reason: str = "") -> Path:
    target_dir = source_dir / outcome
    target_dir.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    name = paths.fitting_name(file.name)  # with the stamp and ".reason.txt" still under 255 bytes
    target = target_dir / f"{stamp}-{name}"
    n = 1
    while target.exists():
        n += 1
        target = target_dir / f"{stamp}-{n}-{name}"
    shutil.move(str(file), target)
    if reason:
        target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
    return target


def _import(file: Path, org: Organisation, source: str, profile: str | None, actor: ActorLike) -> tuple[bool, int]:
    """(already imported, lines added) through the import service of the source, as a web upload runs it (a KOSTRA
    file naming another orgnr or KOSTRA region than the folder's is refused)."""
    if source == "ehf":
        from klimainnkjop.services.invoices import do_import_ehf, read_inputs

        result = do_import_ehf(documents=read_inputs([file]), organisation=org, actor=actor)
    else:
        from klimainnkjop.services.uploads import import_file

        result = import_file(source, data=file.read_bytes(), file_name=file.name, organisation=org,
                             profile_name=profile, actor=actor)
    return result.already_imported, result.lines_added


@access.operator()  # the operator's scanner of every organisation's folders (the CLI, the scheduler)
def do_import_due_files(*, actor: ActorLike = "drop-folder", settle: float = SETTLE_SECONDS, compute: bool = True,
                        now: float | None = None) -> DropRun:
    """Imports every file that is due in the drop folders (see the module's docstring), then computes once."""
    root = drop_dir()
    run = DropRun()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            due, waiting = due_files(root, settle=settle, now=now)
            run.waiting = [str(p.relative_to(root)) for p in waiting]
            for file in due:
                run.outcomes.append(_one(root, file, actor))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    if compute and run.lines_added:
        from klimainnkjop.services.compute import do_compute

        run.computed_run = do_compute(actor=actor).pk
    return run


def _one(root: Path, file: Path, actor: ActorLike) -> DropOutcome:
    orgnr, source, profile = _where(root, file)
    relative = str(file.relative_to(root))
    source_dir = root / orgnr / source
    outcome = DropOutcome(file=relative, organisation=orgnr, source=source, status="failed")
    org = Organisation.objects.filter(orgnr=orgnr).first()
    try:
        if org is None:
            raise InvalidInput.at(relative, gettext("no organisation %(orgnr)s; the folder must be named by the orgnr "
                                                    "of an organisation of the region"), orgnr=orgnr)
        already, added = _import(file, org, source, profile, actor)
    except (ImportRejected, InvalidInput, FileNotFoundError, ValueError, LookupError) as exc:
        outcome.message = str(exc)
    except Exception as exc:  # noqa: BLE001 - one broken file must not stop the others; the reason is kept
        outcome.message = f"{relative}: the import failed unexpectedly ({type(exc).__name__}: {exc})"
    else:
        outcome.status = "already_imported" if already else "imported"
        outcome.lines_added = added
        outcome.moved_to = str(_move(file, source_dir, DONE).relative_to(root))
        return outcome
    outcome.moved_to = str(_move(file, source_dir, FAILED, outcome.message).relative_to(root))
    record_audit(actor=actor, action=Action.FAIL_DROP_IMPORT, object_type="DropFile", object_id=relative[:200],
                 organisation=org, after={"file": relative, "source": source, "reason": outcome.message[:2000],
                                          "moved_to": outcome.moved_to})
    return outcome
