"""scikit-learn's HistGradientBoosting on a split mlskel made: the baseline of tests/r-datasets.test.ts.

Usage: /usr/bin/python3 bench/tabular_baseline.py <train.csv> <test.csv> <spec.json>
       /usr/bin/python3 bench/tabular_baseline.py batch   (a JSON array of those three per line of stdin, a JSON
       line out for each: {"out": what it prints} or {"error": ...}; bench/python-batch.ts)

spec.json: {"target": name, "task": "classification"|"regression", "features": [{"name", "type"}]} with types
numeric, boolean or categorical (as in dataset.json). Categorical columns are ordinal-encoded by their training
categories and given to HistGradientBoosting as categorical_features (its native categorical support); a category
never seen in training is a missing value, as it is to mlskel. Prints {"score": accuracy or r2} on the test rows.
"""
import json
import sys

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import accuracy_score, r2_score


def score(train_file: str, test_file: str, spec_file: str) -> str:
    with open(spec_file) as f:
        spec = json.load(f)
    # every value as text, empty cells as missing: the split's own values, not pandas' guesses
    train = pd.read_csv(train_file, dtype=str, keep_default_na=False, na_values=[""])
    test = pd.read_csv(test_file, dtype=str, keep_default_na=False, na_values=[""])
    columns, categorical = [], []
    for feature in spec["features"]:
        name, kind = feature["name"], feature["type"]
        if kind == "categorical":
            categories = sorted(train[name].dropna().unique())
            codes = {c: i for i, c in enumerate(categories)}
            for frame in (train, test):
                frame[name] = frame[name].map(codes).astype(float)
        elif kind == "boolean":
            for frame in (train, test):
                frame[name] = frame[name].map({"true": 1.0, "false": 0.0})
        else:
            for frame in (train, test):
                frame[name] = frame[name].astype(float)
        columns.append(name)
        categorical.append(kind == "categorical")
    X_train, X_test = train[columns].to_numpy(dtype=float), test[columns].to_numpy(dtype=float)
    y_train, y_test = train[spec["target"]], test[spec["target"]]
    mask = np.array(categorical) if any(categorical) else None
    if spec["task"] == "classification":
        model = HistGradientBoostingClassifier(categorical_features=mask, random_state=0).fit(X_train, y_train)
        value = accuracy_score(y_test, model.predict(X_test))
    else:
        model = HistGradientBoostingRegressor(categorical_features=mask, random_state=0).fit(X_train, y_train.astype(float))
        value = r2_score(y_test.astype(float), model.predict(X_test))
    return json.dumps({"score": float(value)})


def main() -> None:
    if sys.argv[1:] == ["batch"]:
        import traceback

        for line in sys.stdin:
            try:
                answer = {"out": score(*json.loads(line))}
            except Exception:
                answer = {"error": traceback.format_exc()}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
    else:
        print(score(*sys.argv[1:4]))


if __name__ == "__main__":
    main()
