"""A text classifier for purchase line descriptions (description + item name) → taxonomy category.

TF-IDF over character n-grams within word boundaries (2–5 characters: robust to Norwegian compounds
such as «kyllingfilet»/«kyllinglårfilet» and to typos) and a multinomial logistic regression. Logistic
regression minimises log loss, so its probabilities are calibrated by construction; `evaluate` also
reports how precise the predictions above the engine's threshold (0.6) are on held-out data.

Deterministic: the held-out split is by a hash of the text within each category, the solver is
deterministic (lbfgs), and numbers in the text are folded to «0» (sizes and counts vary, words do not).
"""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass

HELD_OUT_SHARE = 0.2
THRESHOLD = 0.6  # the engine uses a prediction only from this confidence (engine/classify.py)
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Example:
    text: str
    category: str
    weight: float = 1.0
    source: str = "labelled"  # labelled | correction


def normalise(text: str | None) -> str:
    return _SPACE.sub(" ", _DIGITS.sub("0", (text or "").lower())).strip()


def line_text(description: str | None, item_name: str | None) -> str:
    """The text the model reads for a line: as the engine's keyword rules do, description then item name."""
    return f"{description or ''} {item_name or ''}".strip()


def split_held_out(examples: list[Example], share: float = HELD_OUT_SHARE) -> tuple[list[Example], list[Example]]:
    """Deterministic stratified split: per category, the examples whose SHA-256 of the text sorts first
    (round(share × n), at least one where the category has five or more) are held out."""
    by_category: dict[str, list[Example]] = defaultdict(list)
    for e in examples:
        by_category[e.category].append(e)
    train, held_out = [], []
    for category in sorted(by_category):
        group = sorted(by_category[category], key=lambda e: (hashlib.sha256(e.text.encode()).hexdigest(), e.text))
        k = max(1, round(len(group) * share)) if len(group) >= 5 else 0
        held_out += group[:k]
        train += group[k:]
    return train, held_out


def build():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline([
        ("tfidf", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, preprocessor=normalise)),
        ("clf", LogisticRegression(C=30.0, max_iter=3000)),
    ])


def train(examples: list[Example]):
    if len({e.category for e in examples}) < 2:
        raise ValueError("training: at least two categories are needed")
    model = build()
    model.fit([e.text for e in examples], [e.category for e in examples],
              clf__sample_weight=[e.weight for e in examples])
    return model


def predict(model, texts: list[str]) -> tuple[list[str], list[float]]:
    """The most probable category of each text and its probability."""
    if not texts:
        return [], []
    probabilities = model.predict_proba(texts)
    best = probabilities.argmax(axis=1)
    classes = model.classes_
    return [str(classes[i]) for i in best], [float(probabilities[row, i]) for row, i in enumerate(best)]


def evaluate(model, held_out: list[Example]) -> dict:
    """Accuracy, macro-F1 and per-category precision/recall on held-out examples, and how many of them
    the engine would use (confidence ≥ THRESHOLD) with what accuracy."""
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    truth = [e.category for e in held_out]
    predicted, confidence = predict(model, [e.text for e in held_out])
    labels = sorted(set(truth) | set(predicted))
    precision, recall, _f1, support = precision_recall_fscore_support(truth, predicted, labels=labels,
                                                                      zero_division=0)
    used = [(t, p) for t, p, c in zip(truth, predicted, confidence) if c >= THRESHOLD]
    return {
        "n_held_out": len(held_out),
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)),
        "threshold": THRESHOLD,
        "coverage_at_threshold": len(used) / len(held_out) if held_out else 0.0,
        "accuracy_at_threshold": (sum(t == p for t, p in used) / len(used)) if used else 0.0,
        "per_category": {label: {"precision": float(p), "recall": float(r), "support": int(s)}
                         for label, p, r, s in zip(labels, precision, recall, support)},
    }
