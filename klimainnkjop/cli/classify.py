"""`klimainnkjop classify [--retrain] [--format json|table]`: the learned text model.

Trains a new version when asked (or when none exists), predicts every line of the line store, and
prints the held-out accuracy, macro-F1 and per-category precision/recall of the version in use.
"""
from __future__ import annotations

from klimainnkjop.cli.output import EXIT_OK, emit
from klimainnkjop.core.actors import CLI


def add_parsers(sub) -> None:
    p = sub.add_parser("classify", help="train (--retrain) and apply the text model for line descriptions")
    p.set_defaults(handler=cmd_classify)
    p.add_argument("--retrain", action="store_true", help="train a new version (the shipped set + corrections)")
    p.add_argument("--format", choices=["json", "table"], default="table")


def cmd_classify(args) -> int:
    from klimainnkjop.ml.textmodel import THRESHOLD
    from klimainnkjop.services import training

    version = training.current_version()
    trained = False
    if args.retrain or version is None:
        version = training.do_train_text_model(actor=CLI)
        trained = True
    # a new version predicted every line while training; an existing one predicts the batches imported since
    predictions = training.predictions_for(training.active_batches())
    confidences = predictions.column("confidence").to_pylist()
    used = sum(1 for c in confidences if c >= THRESHOLD)
    m = version.metrics
    document = {
        "version": version.pk, "trained": trained, "trained_at": version.trained_at.isoformat(),
        "n_examples": version.n_examples, "n_corrections": version.n_corrections,
        "held_out": m.get("n_held_out"), "accuracy": version.accuracy, "macro_f1": version.macro_f1,
        "threshold": THRESHOLD, "coverage_at_threshold": m.get("coverage_at_threshold"),
        "accuracy_at_threshold": m.get("accuracy_at_threshold"), "per_category": m.get("per_category", {}),
        "lines_predicted": len(confidences), "lines_above_threshold": used,
    }
    if args.format == "json":
        emit([], "json", document)
        return EXIT_OK
    rows = [{"category": c, "precision": round(v["precision"], 3), "recall": round(v["recall"], 3),
             "held_out": v["support"]} for c, v in sorted(document["per_category"].items())]
    emit(rows, "table")
    print(f"model version {version.pk} ({'trained now' if trained else 'trained ' + document['trained_at']}): "
          f"{version.n_examples} examples, {version.n_corrections} from corrections")
    print(f"held-out accuracy {version.accuracy:.4f}, macro-F1 {version.macro_f1:.4f} on {document['held_out']} "
          f"examples; at confidence >= {THRESHOLD}: {document['coverage_at_threshold']:.2f} of them, "
          f"accuracy {document['accuracy_at_threshold']:.4f}")
    print(f"{len(confidences)} lines predicted, {used} with confidence >= {THRESHOLD} (used by the next compute)")
    return EXIT_OK
