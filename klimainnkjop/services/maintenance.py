"""Leftovers of killed processes, cleaned when the server (`serve`) or a worker starts, or by
`klimainnkjop maintenance clean`.

- A compute run still `running` whose process is gone is marked failed and its unfinished result folder
  (`results/run-N.tmp`) removed. Its process is known by pid and machine (recorded when the run starts): on this
  machine it is checked (psutil; a process that started after the run is another one that got the pid); a run of
  another machine, or of a version that recorded no pid, counts as interrupted once it is older than
  RUN_UNCHECKABLE_AFTER.
- Files of imports that never committed: temporary Parquet files (`lines/<org>/<token>.parquet.tmp`), Parquet files
  no ImportBatch names, temporary archive files (`archive/xx/<sha>.<uuid>.tmp`) and archived raw files whose SHA-256
  no import batch, factor set or import's audit entry names. Only files older than ORPHAN_AFTER: an import writes
  its files moments before it commits, so a younger file may belong to an import under way.
- Result folders `results/run-N.tmp` of a run that is not running (or does not exist), older than ORPHAN_AFTER.
- Result folders of old finished runs beyond the keeping policy (services/compute.do_prune_runs: the newest
  KLIMAINNKJOP_KEEP_RUNS and every run a report or publication names are kept; audit entry prune_compute_runs).
- Web uploads left waiting for their mapping for a week, or running long after their worker stopped: marked failed
  and their kept file removed (services/uploads.do_expire_uploads, audit entry expire_upload).

Each failed run gets an audit entry (interrupt_compute), the removed files one entry (remove_leftovers).
Committed data is never touched: a deleted batch's files stay for the audit trail, as do the raw files of a
replaced draft factor set.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from django.db.models import Q
from django.utils import timezone

from klimainnkjop import access, paths
from klimainnkjop.services.audit import record_audit
from klimainnkjop.services.compute import do_prune_runs, mark_run_failed
from klimainnkjop.storage import linestore
from klimainnkjop.storage.models import AuditEntry, ComputeRun, FactorSet, ImportBatch
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.actors import SYSTEM, ActorLike

LOG = logging.getLogger(__name__)

ORPHAN_AFTER = dt.timedelta(minutes=10)  # an import's files are committed within moments of being written
RUN_UNCHECKABLE_AFTER = dt.timedelta(hours=6)  # no compute takes this long (10M lines: minutes)
PID_START_SLACK_SECONDS = 2.0  # process start times are known to about a clock tick

_TOKEN_PARQUET = re.compile(r"^[0-9a-f]{32}\.parquet$")
_TOKEN_PARQUET_TMP = re.compile(r"^[0-9a-f]{32}\.parquet\.tmp$")
_SHA = re.compile(r"^[0-9a-f]{64}$")
_SHA_TMP = re.compile(r"^[0-9a-f]{64}\.[0-9a-f]{32}\.tmp$")
_RUN_TMP = re.compile(r"^run-(\d+)\.tmp$")


@dataclass
class CleanResult:
    runs_failed: list[int] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)  # relative to the data directory
    runs_pruned: list[int] = field(default_factory=list)  # old runs whose result files the keeping policy removed

    def as_dict(self) -> dict:
        return {"runs_failed": self.runs_failed, "files_removed": self.files_removed,
                "runs_pruned": self.runs_pruned}

    def __bool__(self) -> bool:
        return bool(self.runs_failed or self.files_removed or self.runs_pruned)


def run_process_alive(run: ComputeRun) -> bool | None:
    """Whether the process computing the run is alive: True or False on this machine, None where it cannot be told
    (another machine, or no pid recorded)."""
    if not run.pid or run.host != socket.gethostname():
        return None
    try:
        process = psutil.Process(run.pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        started = process.create_time()
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:  # it exists; another user's process cannot be ours, but do not guess
        return True
    # the pid of a process started after the run was created was given to another process since
    return started <= run.created_at.timestamp() + PID_START_SLACK_SECONDS


def _interrupted_runs(now: dt.datetime) -> list[tuple[ComputeRun, str]]:
    found = []
    for run in ComputeRun.objects.filter(status=ComputeRun.STATUS_RUNNING).order_by("id"):
        alive = run_process_alive(run)
        if alive is False:
            found.append((run, f"interrupted: the process that computed it (pid {run.pid} on {run.host}) is gone; "
                               "compute again"))
        elif alive is None and run.created_at < now - RUN_UNCHECKABLE_AFTER:
            where = f"pid {run.pid} on {run.host}" if run.pid else "no process recorded"
            found.append((run, f"interrupted: still running after {RUN_UNCHECKABLE_AFTER} ({where}); compute again"))
    return found


def _older_than(path: Path, limit: dt.datetime) -> bool:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.timezone.utc) < limit
    except FileNotFoundError:
        return False


def _referenced_shas() -> set[str]:
    shas = set(ImportBatch.objects.values_list("file_sha256", flat=True))
    for raw in ImportBatch.objects.filter(kind="ehf").values_list("raw_sha256s", flat=True):
        shas.update(raw or [])
    shas.update(FactorSet.objects.exclude(file_sha256="").values_list("file_sha256", flat=True))
    imports = Q(action__startswith="import_") | Q(action=Action.CONFIRM_KOSTRA_IMPORT.value)
    for after in AuditEntry.objects.filter(imports).values_list("after", flat=True):
        if isinstance(after, dict) and isinstance(after.get("sha256"), str):
            shas.add(after["sha256"])  # e.g. a draft factor set replaced since: its file stays with the trail
    return shas


def _unlisted_documents_before() -> dt.datetime | None:
    """EHF batches of several documents made before their documents were listed (raw_sha256s): their archived
    files cannot be told from orphans, so archived files older than the newest such batch are kept."""
    newest = None
    for created, raw, _rows in ImportBatch.objects.filter(kind="ehf", rows_read__gt=1).values_list(
            "created_at", "raw_sha256s", "rows_read"):
        if not raw and (newest is None or created > newest):
            newest = created
    return newest


def _orphan_files(now: dt.datetime) -> list[Path]:
    limit = now - ORPHAN_AFTER
    found: list[Path] = []
    lines = paths.lines_dir()
    committed = set(ImportBatch.objects.exclude(parquet_path="").values_list("parquet_path", flat=True))
    for path in sorted(lines.glob("*/*")):
        if not path.is_file():
            continue
        if _TOKEN_PARQUET_TMP.match(path.name) or (
                _TOKEN_PARQUET.match(path.name) and linestore.relative(path) not in committed):
            if _older_than(path, limit):
                found.append(path)

    referenced = _referenced_shas()
    keep_before = _unlisted_documents_before()
    for path in sorted(paths.archive_dir().glob("*/*")):
        if not path.is_file() or not _older_than(path, limit):
            continue
        if _SHA_TMP.match(path.name):
            found.append(path)
        elif _SHA.match(path.name) and path.name not in referenced:
            if keep_before is not None and _older_than(path, keep_before + dt.timedelta(minutes=1)):
                continue
            found.append(path)

    running = set(ComputeRun.objects.filter(status=ComputeRun.STATUS_RUNNING).values_list("id", flat=True))
    for path in sorted(paths.results_dir().glob("run-*.tmp")):
        match = _RUN_TMP.match(path.name)
        if match and int(match.group(1)) not in running and _older_than(path, limit):
            found.append(path)
    return found


@access.operator()  # of the whole data directory: what a scope's filter hid would look orphaned and be removed
def do_clean_leftovers(*, actor: ActorLike = SYSTEM, now: dt.datetime | None = None) -> CleanResult:
    """Marks failed the compute runs whose process is gone and removes the files of imports and runs that never
    committed (see the module's docstring). Safe to run at any time and more than once."""
    now = now or timezone.now()
    result = CleanResult()
    for run, error in _interrupted_runs(now):
        if mark_run_failed(run, error=error, action=Action.INTERRUPT_COMPUTE, actor=actor):
            result.runs_failed.append(run.pk)
    removed = []
    for path in _orphan_files(now):
        relative = linestore.relative(path)
        try:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        except FileNotFoundError:
            continue  # removed meanwhile (another process cleaning)
        except OSError as exc:
            LOG.warning("leftover %s not removed: %s", relative, exc)
            continue
        removed.append(relative)
    if removed:
        record_audit(actor=actor, action=Action.REMOVE_LEFTOVERS, object_type="DataDirectory",
                     after={"files": removed[:1000], "count": len(removed)})
    result.files_removed = removed
    from klimainnkjop.services.uploads import do_expire_uploads  # web uploads left waiting or interrupted

    do_expire_uploads(now=now, actor=actor)
    result.runs_pruned = do_prune_runs(actor=actor).runs
    return result
