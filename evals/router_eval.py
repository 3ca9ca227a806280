"""Measure the offline router honestly.

The router is trained on `routing_dev.csv`, so its accuracy on that file would be a training score.
Instead we report:

* 5-fold cross-validation on the dev set: train on four folds plus the SaaS seed set, test on the fifth;
* accuracy on `saas_eval.csv`, a held-out set never used for training, with the router trained on
  everything.

Run `python -m evals.router_eval [--data CSV] [--json]`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from llm.router import (
    EVAL_CSV,
    ROUTES,
    Router,
    default_router,
    load_rows,
    train_router,
    training_rows,
)

__all__ = ["cross_validate", "evaluate", "main", "metrics", "report"]


def metrics(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro F1, per-route precision/recall/F1 and the confusion matrix.

    Args:
        y_true: Gold routes.
        y_pred: Predicted routes, aligned with `y_true`.

    Returns:
        `{"n", "accuracy", "macro_f1", "per_route", "confusion"}`. Routes that occur in neither list
        are left out. Macro F1 averages over the routes that occur in the gold labels: a route that was
        only predicted (support 0) adds no F1 of 0, since its wrong predictions already lower the
        recall of the routes they were taken from.
    """
    if len(y_true) != len(y_pred):
        raise ValueError("y_true and y_pred differ in length")
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    present = set(y_true) | set(y_pred)
    labels: list[str] = [r for r in ROUTES if r in present] + sorted(present - set(ROUTES))
    n = len(y_true)
    if not n:
        return {"n": 0, "accuracy": 0.0, "macro_f1": 0.0, "per_route": {}, "confusion": {}}
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    scores = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    pr = [[round(float(v), 4) for v in column] for column in scores[:3]]
    per_route = {
        label: {"precision": pr[0][i], "recall": pr[1][i], "f1": pr[2][i], "support": int(scores[3][i])}
        for i, label in enumerate(labels)
    }
    gold_f1 = [float(f) for f, k in zip(scores[2], scores[3], strict=True) if k]
    return {
        "n": n,
        "accuracy": round(sum(g == p for g, p in zip(y_true, y_pred, strict=True)) / n, 4),
        "macro_f1": round(sum(gold_f1) / len(gold_f1), 4) if gold_f1 else 0.0,
        "per_route": per_route,
        "confusion": {t: {p: int(matrix[i][j]) for j, p in enumerate(labels)} for i, t in enumerate(labels)},
    }


def evaluate(rows: Iterable[tuple[str, str]], router: Router | None = None) -> dict[str, Any]:
    """Score a router on (text, route) rows.

    Args:
        rows: The labelled messages; they must not have been used to train `router`.
        router: The router to score; defaults to the cached router trained on all bundled data.

    Returns:
        The `metrics` dict.
    """
    model = router or default_router()
    pairs = list(rows)
    predictions = [model.classify(text).route for text, _ in pairs]
    return metrics([route for _, route in pairs], predictions)


def cross_validate(
    rows: Sequence[tuple[str, str]],
    *,
    folds: int = 5,
    seed_rows: Sequence[tuple[str, str]] = (),
    shuffle_seed: int = 13,
) -> dict[str, Any]:
    """K-fold cross-validation: train on k-1 folds plus `seed_rows`, test on the held-out fold.

    Folds are stratified by route so every fold sees every route. Predictions of all folds are pooled
    into one `metrics` dict, which also gets `"fold_accuracy"` (one accuracy per fold).

    Args:
        rows: (text, route) pairs to cross-validate over.
        folds: Number of folds (at least 2).
        seed_rows: Extra training rows added to every fold's training set and never tested.
        shuffle_seed: Seed of the deterministic shuffle that assigns rows to folds.

    Returns:
        The pooled `metrics` dict plus `"fold_accuracy"`.
    """
    if folds < 2:
        raise ValueError("folds must be at least 2")
    by_route: dict[str, list[int]] = {}
    for index, (_, route) in enumerate(rows):
        by_route.setdefault(route, []).append(index)
    rng = random.Random(shuffle_seed)
    fold_of = [0] * len(rows)
    for route in sorted(by_route):
        indices = by_route[route]
        rng.shuffle(indices)
        for position, index in enumerate(indices):
            fold_of[index] = position % folds
    y_true: list[str] = []
    y_pred: list[str] = []
    fold_accuracy: list[float] = []
    for fold in range(folds):
        train = [row for row, f in zip(rows, fold_of, strict=True) if f != fold]
        test = [row for row, f in zip(rows, fold_of, strict=True) if f == fold]
        if not test:
            continue
        router = train_router(train, seed_rows=seed_rows)
        predictions = [router.classify(text).route for text, _ in test]
        gold = [route for _, route in test]
        fold_accuracy.append(round(sum(g == p for g, p in zip(gold, predictions, strict=True)) / len(test), 4))
        y_true += gold
        y_pred += predictions
    result = metrics(y_true, y_pred)
    result["fold_accuracy"] = fold_accuracy
    return result


def report(title: str, result: dict[str, Any]) -> str:
    """The `metrics` dict as a small table: the totals, then one row per route.

    A route the data does not contain but the router predicted (e.g. "other" in the dev set, which has
    no out-of-scope messages) has no recall or F1 and is left out of macro-F1; its row says how often
    it was wrongly predicted instead of printing zeros.
    """
    lines = [f"{title}: n={result['n']} accuracy={result['accuracy']:.3f} macro_f1={result['macro_f1']:.3f}"]
    if "fold_accuracy" in result:
        lines.append("  folds: " + ", ".join(f"{a:.3f}" for a in result["fold_accuracy"]))
    confusion = result["confusion"]
    for route, stats in result["per_route"].items():
        if not stats["support"]:
            predicted = sum(row.get(route, 0) for row in confusion.values())
            if predicted:
                times = f"{predicted} time{'s' if predicted != 1 else ''}"
                lines.append(f"  {route:<8} not in this data; predicted wrongly {times} (left out of macro_f1)")
            continue
        lines.append(
            f"  {route:<8} precision={stats['precision']:.3f} recall={stats['recall']:.3f} "
            f"f1={stats['f1']:.3f} support={stats['support']}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; prints the dev cross-validation and the held-out SaaS figures."""
    parser = argparse.ArgumentParser(prog="python -m evals.router_eval", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="also score the full router on this CSV (text,route)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    args = parser.parse_args(argv)

    dev, seed = training_rows()
    started = time.perf_counter()
    results: dict[str, Any] = {
        "dev_cv": cross_validate(dev, folds=5, seed_rows=seed),
    }
    cv_seconds = time.perf_counter() - started
    started = time.perf_counter()
    router = default_router()
    train_seconds = time.perf_counter() - started
    results["saas_eval"] = evaluate(load_rows(EVAL_CSV), router)
    if args.data:
        results["data"] = evaluate(load_rows(args.data), router)
    results["timing_seconds"] = {"cross_validation": round(cv_seconds, 2), "train": round(train_seconds, 2)}

    if args.json:
        json.dump(results, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(report("dev 5-fold CV (train: 4 folds + saas_seed)", results["dev_cv"]))
    print(report("saas_eval held out (train: all dev + saas_seed)", results["saas_eval"]))
    if args.data:
        print(report(f"{args.data} (train: all dev + saas_seed)", results["data"]))
    print(f"training took {train_seconds:.2f}s; cross-validation {cv_seconds:.2f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
