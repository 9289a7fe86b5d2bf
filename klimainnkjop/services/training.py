"""The learned text model: training (shipped labelled set + users' corrections), versions, predictions.

A version is a folder in the data directory (models/text-<stamp>/) with model.joblib, meta.json
(trained_at, n_examples, accuracy, …) and predictions/<batch token>.parquet (org, line_key, category, confidence
for every line of that import batch, predicted once per version and batch), and a ModelVersion row
with an audit entry. The newest version is the one compute feeds to the engine (`predictions_for`).

Corrections: every active manual override (ClassificationRule of kind `line`) is a training example,
its text read from the line store's Parquet files (description + item name, as the engine reads it).
Corrections weigh CORRECTION_WEIGHT times a shipped example: they are the organisation's own ground truth.
"""
from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.db import transaction
from django.utils import timezone

from klimainnkjop import access, paths
from klimainnkjop.engine import reader
from klimainnkjop.ml import textmodel
from klimainnkjop.ml.textmodel import Example
from klimainnkjop.services.audit import record_audit
from klimainnkjop.storage import linestore
from klimainnkjop.storage.models import Category, ClassificationRule, ImportBatch, ModelVersion
from klimainnkjop.core.audit_actions import Action
from klimainnkjop.core.actors import ActorLike, as_actor

LABELLED = Path(__file__).resolve().parent.parent / "data" / "labelled" / "items.csv"
CORRECTION_WEIGHT = 3.0
PREDICTION_SCHEMA = pa.schema([("org", pa.string()), ("line_key", pa.string()), ("category", pa.string()),
                               ("confidence", pa.float64())])


def labelled_examples() -> list[Example]:
    """The shipped hand-made labelled set (data/labelled/items.csv), categories checked against the taxonomy."""
    known = set(Category.objects.values_list("code", flat=True))
    with open(LABELLED, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    examples = [Example(r["text"].strip(), r["category"].strip()) for r in rows if r["text"].strip()]
    if known:
        unknown = sorted({e.category for e in examples} - known)
        if unknown:
            raise ValueError(f"{LABELLED.name}: categories not in the taxonomy: {', '.join(unknown)}")
    return examples


def held_out_split() -> tuple[list[Example], list[Example]]:
    return textmodel.split_held_out(labelled_examples())


@access.operator()  # the text model predicts every organisation's lines, whoever asks for it
def active_batches() -> list[ImportBatch]:
    return list(ImportBatch.objects.filter(status=ImportBatch.STATUS_DONE).exclude(parquet_path=""))


def line_texts(batches: list[ImportBatch] | None = None, keys: set[tuple[str, str]] | None = None) -> list[dict]:
    """(org, line_key, batch, text) of the line store's lines, read from the Parquet files with DuckDB."""
    batches = active_batches() if batches is None else batches
    files = [str(linestore.absolute(b.parquet_path)) for b in batches]
    rows = reader.line_texts([f for f in files if Path(f).exists()])
    out = []
    for org, line_key, batch, desc, item in rows:
        if keys is not None and (org, line_key) not in keys:
            continue
        out.append({"org": org, "line_key": line_key, "batch": batch, "text": textmodel.line_text(desc, item)})
    return out


def correction_examples() -> list[Example]:
    """Users' corrections (active manual overrides of lines) with the lines' text."""
    rules = ClassificationRule.objects.filter(kind="line", active=True).select_related("organisation", "category")
    wanted = {(r.organisation.orgnr, r.value): r.category.code for r in rules if r.organisation_id}
    if not wanted:
        return []
    examples = {}
    for line in line_texts(keys=set(wanted)):
        key = (line["org"], line["line_key"])
        if line["text"] and key not in examples:
            examples[key] = Example(line["text"], wanted[key], CORRECTION_WEIGHT, "correction")
    return [examples[k] for k in sorted(examples)]


def current_version() -> ModelVersion | None:
    return ModelVersion.objects.order_by("-id").first()


def _folder(version: ModelVersion) -> Path:
    return linestore.absolute(version.path)


def load_model(version: ModelVersion):
    import joblib

    return joblib.load(_folder(version) / "model.joblib")


def _summary(version: ModelVersion | None) -> dict | None:
    if version is None:
        return None
    return {"version": version.pk, "trained_at": version.trained_at.isoformat(), "n_examples": version.n_examples,
            "n_corrections": version.n_corrections, "accuracy": version.accuracy, "macro_f1": version.macro_f1}


def do_train_text_model(*, actor: ActorLike = None) -> ModelVersion:
    """Train a new version on the labelled set's training part and every correction, evaluate it on the
    held-out part, store it, record it (with an audit entry) and predict every line of the line store."""
    import joblib

    train_part, held_out = held_out_split()
    corrections = correction_examples()
    model = textmodel.train(train_part + corrections)
    metrics = textmodel.evaluate(model, held_out)
    trained_at = timezone.now()
    folder = paths.data_dir() / "models" / f"text-{trained_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    joblib.dump(model, folder / "model.joblib")
    meta = {"trained_at": trained_at.isoformat(), "n_examples": len(train_part) + len(corrections),
            "n_labelled": len(train_part), "n_corrections": len(corrections), "accuracy": metrics["accuracy"],
            "macro_f1": metrics["macro_f1"], "held_out_share": textmodel.HELD_OUT_SHARE,
            "labelled_set": LABELLED.name, "model": "tfidf char_wb 2-5 + logistic regression", "metrics": metrics}
    (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    with transaction.atomic():
        before = _summary(current_version())
        version = ModelVersion.objects.create(
            trained_at=trained_at, path=linestore.relative(folder), n_examples=meta["n_examples"],
            n_corrections=len(corrections), accuracy=metrics["accuracy"], macro_f1=metrics["macro_f1"],
            metrics=metrics, created_by=as_actor(actor).user)
        record_audit(actor=actor, action=Action.TRAIN_TEXT_MODEL, obj=version, before=before, after=_summary(version))
    write_predictions(version, model=model)
    return version


def _predictions_dir(version: ModelVersion) -> Path:
    return _folder(version) / "predictions"


def _batch_file(version: ModelVersion, token: str) -> Path:
    return _predictions_dir(version) / f"{token}.parquet"


def write_predictions(version: ModelVersion, batches: list[ImportBatch] | None = None, model=None) -> pa.Table:
    """Predict every line of the given (default: all active) batches in one pass of the model and write one
    file per batch (predictions/<batch token>.parquet): a batch's lines never change, so its predictions by a
    version are made once. Returns the predictions of those batches."""
    batches = active_batches() if batches is None else batches
    lines = [line for line in line_texts(batches) if line["text"]]
    model = model if model is not None else load_model(version)
    categories, confidences = textmodel.predict(model, [line["text"] for line in lines])
    table = pa.table({"org": [line["org"] for line in lines], "line_key": [line["line_key"] for line in lines],
                      "category": categories, "confidence": confidences}, schema=PREDICTION_SCHEMA)
    folder = _predictions_dir(version)
    folder.mkdir(parents=True, exist_ok=True)
    tokens = pa.array([line["batch"] for line in lines], pa.string())
    order = pc.sort_indices(tokens)  # each batch's lines one slice of the table sorted by batch
    table, tokens = table.take(order), tokens.take(order)
    spans, start = {}, 0
    for counted in pc.value_counts(tokens):  # in order of first appearance: the sorted order
        token, n = counted["values"].as_py(), counted["counts"].as_py()
        spans[token], start = (start, n), start + n
    for batch in batches:  # one file per batch, an empty one for a batch without text, so it counts as done
        tmp = folder / f"{batch.token}.parquet.tmp"
        pq.write_table(table.slice(*spans.get(batch.token, (0, 0))), tmp)
        tmp.replace(_batch_file(version, batch.token))
    return table


def predictions_for(batches: list[ImportBatch]) -> pa.Table | None:
    """The newest model version's predictions for these batches, or None while no model has been trained. Only
    the batches imported since the version last predicted are predicted now (the text model predicts only new
    lines, issue 20); the rest are read from their files."""
    version = current_version()
    if version is None:
        return None
    new = [b for b in batches if not _batch_file(version, b.token).exists()]
    if new:
        write_predictions(version, new)
    files = [_batch_file(version, b.token) for b in batches]
    if not files:
        return PREDICTION_SCHEMA.empty_table()
    return pa.concat_tables([pq.read_table(f, schema=PREDICTION_SCHEMA) for f in files])


def predict_texts(texts: list[str], version: ModelVersion | None = None) -> tuple[list[str], list[float]]:
    """Category and confidence for free texts with the newest (or the given) version."""
    version = version or current_version()
    if version is None:
        raise LookupError("no text model trained yet; run `klimainnkjop classify --retrain`")
    return textmodel.predict(load_model(version), texts)
