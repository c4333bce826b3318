#!/usr/bin/env python3
"""XGBoost's side of the xgboost-kind benchmark (bench/xgboost.ts): a model and rows to predict, then XGBoost's own
predict timed on them.

    xgboost_predict.py make <dir> --task classification|regression [--rows 100000] [--trees 300] [--depth 6]
        train XGBoost (hist, seed 0; 3 classes for classification) on 20,000 rows of 20 features and save it as
        <dir>/model.json, with <rows> further rows as <dir>/X.f64 (float64, row-major, a twentieth of the values
        missing) and XGBoost's predictions of them as <dir>/predict.f64 (and proba.f64); meta.json last
    xgboost_predict.py time <dir> --threads N
        XGBClassifier/XGBRegressor.predict on <dir>'s rows with N threads: after a warm-up call, repeated at least 3
        times and until a second has passed; prints the median call's rows per second as JSON

Needs XGBoost and numpy (Debian: apt-get install python3-xgboost).
"""
import argparse
import json
import os
import time

import numpy as np
import xgboost as xgb

FEATURES = 20
TRAIN_ROWS = 20_000
CLASSES = 3


def data(rng, rows, task):
    X = rng.normal(size=(rows, FEATURES))
    signal = X[:, 0] * 2 + np.sin(X[:, 1] * 3) + X[:, 2] * X[:, 3] + np.abs(X[:, 4]) - X[:, 5] ** 2 / 2 + rng.normal(scale=0.5, size=rows)
    X[rng.random(X.shape) < 0.05] = np.nan
    if task == "regression":
        return X, signal * 10
    return X, np.digitize(signal, np.quantile(signal, np.linspace(0, 1, CLASSES + 1)[1:-1]))


def make(out, task, rows, trees, depth):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    X, y = data(rng, TRAIN_ROWS + rows, task)
    Model = xgb.XGBClassifier if task == "classification" else xgb.XGBRegressor
    model = Model(n_estimators=trees, max_depth=depth, learning_rate=0.1, tree_method="hist", random_state=0, n_jobs=os.cpu_count())
    model.fit(X[:TRAIN_ROWS], y[:TRAIN_ROWS])
    model.save_model(os.path.join(out, "model.json"))
    test = np.ascontiguousarray(X[TRAIN_ROWS:])
    test.astype(np.float64).tofile(os.path.join(out, "X.f64"))
    model.predict(test).astype(np.float64).tofile(os.path.join(out, "predict.f64"))
    if task == "classification":
        model.predict_proba(test).astype(np.float64).tofile(os.path.join(out, "proba.f64"))
    meta = {"task": task, "rows": rows, "features": FEATURES, "classes": CLASSES if task == "classification" else 0, "trees": trees, "depth": depth, "train_rows": TRAIN_ROWS, "xgboost": xgb.__version__}
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f)


def timed(out, threads):
    with open(os.path.join(out, "meta.json")) as f:
        meta = json.load(f)
    X = np.fromfile(os.path.join(out, "X.f64")).reshape(meta["rows"], meta["features"])
    Model = xgb.XGBClassifier if meta["task"] == "classification" else xgb.XGBRegressor
    model = Model(n_jobs=threads)
    model.load_model(os.path.join(out, "model.json"))
    model.set_params(n_jobs=threads)
    model.predict(X)
    samples = []
    started = time.perf_counter()
    while len(samples) < 3 or time.perf_counter() - started < 1:
        t = time.perf_counter()
        model.predict(X)
        samples.append(time.perf_counter() - t)
    seconds = sorted(samples)[len(samples) // 2]
    print(json.dumps({"rows_per_second": meta["rows"] / seconds, "seconds": seconds, "calls": len(samples), "threads": threads, "xgboost": xgb.__version__}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["make", "time"])
    parser.add_argument("dir")
    parser.add_argument("--task", choices=["classification", "regression"])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--trees", type=int, default=300)
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    if args.command == "make":
        make(args.dir, args.task, args.rows, args.trees, args.depth)
    else:
        timed(args.dir, args.threads)
