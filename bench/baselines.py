# The scikit-learn and XGBoost baselines of mlskel's tree engine, for bench/training.ts and
# src/models/kinds/baselines.test.ts: a CLI that writes data sets as binary files both sides read, and fits,
# scores and times a baseline model on them. JSON out; nothing is downloaded (bundled sets and generators only).
#
#   generate --kind classification|regression --rows N [--features 20] [--classes 3] --seed S --out DIR
#   generate --dataset wine|breast_cancer|digits|diabetes --seed S --out DIR
#   fit --data DIR --model rf|hgb|xgb --threads T ['{"max_iter": 20}'] [--predictions]
#   batch: one of the commands above per line of stdin (a JSON array of its arguments), one JSON line out for each:
#          {"out": <what the command printed>} or {"error": "..."}; scikit-learn is imported once, not per command
#
# A data set folder holds X.f64 (float64, little-endian, column-major: feature 0's rows, then feature 1's…), y.f64
# (class indexes 0…k-1 or values) and meta.json. Rows are shuffled (seeded) before they are written, so the test
# split is simply the last test_rows rows: Node and Python train and score on identical rows without sharing an
# order file. Run it with /usr/bin/python3 (Debian's python3-sklearn, python3-xgboost).
import argparse
import json
import math
import os
import sys
import time
import warnings

import numpy as np

TEST_FRACTION = 0.2
BUNDLED = ('wine', 'breast_cancer', 'digits', 'diabetes')
# Batch prediction is repeated until this much time has passed, and the median call taken: a 36-row test split
# predicts in well under a millisecond, where one call's timer and interpreter noise would dominate.
PREDICT_SECONDS = 0.2


def generate(args):
    from sklearn import datasets

    if args.dataset:
        loaded = getattr(datasets, f'load_{args.dataset}')()
        X, y = loaded.data, loaded.target
        kind = 'regression' if args.dataset == 'diabetes' else 'classification'
        source = args.dataset
    elif args.kind == 'classification':
        X, y = datasets.make_classification(n_samples=args.rows, n_features=args.features, n_informative=10, n_redundant=5, n_classes=args.classes, random_state=args.seed)
        kind, source = 'classification', 'make_classification'
    else:
        X, y = datasets.make_regression(n_samples=args.rows, n_features=args.features, n_informative=10, noise=10, random_state=args.seed)
        kind, source = 'regression', 'make_regression'
    order = np.random.RandomState(args.seed).permutation(len(y))
    X, y = np.asarray(X, dtype='<f8')[order], np.asarray(y, dtype='<f8')[order]
    rows, features = X.shape
    test_rows = math.ceil(TEST_FRACTION * rows)  # as train_test_split rounds test_size
    os.makedirs(args.out, exist_ok=True)
    # written under temporary names and renamed, so a run killed half-way never leaves a set that looks whole
    X.T.astype('<f8').tofile(os.path.join(args.out, 'X.f64.tmp'))
    y.tofile(os.path.join(args.out, 'y.f64.tmp'))
    meta = {
        'rows': rows,
        'features': features,
        'kind': kind,
        'classes': int(y.max()) + 1 if kind == 'classification' else 0,
        'train_rows': rows - test_rows,
        'test_rows': test_rows,
        'source': source,
        'seed': args.seed,
    }
    os.replace(os.path.join(args.out, 'X.f64.tmp'), os.path.join(args.out, 'X.f64'))
    os.replace(os.path.join(args.out, 'y.f64.tmp'), os.path.join(args.out, 'y.f64'))
    with open(os.path.join(args.out, 'meta.json'), 'w') as f:
        json.dump(meta, f)
    json.dump(meta, sys.stdout)


def load(folder):
    with open(os.path.join(folder, 'meta.json')) as f:
        meta = json.load(f)
    rows, features = meta['rows'], meta['features']
    X = np.fromfile(os.path.join(folder, 'X.f64'), dtype='<f8').reshape(features, rows).T
    y = np.fromfile(os.path.join(folder, 'y.f64'), dtype='<f8')
    if meta['kind'] == 'classification':
        y = y.astype(np.int64)
    t = meta['train_rows']
    # C order, as a caller's own array would be (the transposed view is Fortran order)
    return meta, np.ascontiguousarray(X[:t]), y[:t], np.ascontiguousarray(X[t:]), y[t:]


def model_of(name, kind, threads, extra):
    classify = kind == 'classification'
    if name == 'rf':
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        params = {'n_estimators': 100, 'n_jobs': threads, 'random_state': 0, **extra}
        return (RandomForestClassifier if classify else RandomForestRegressor)(**params), params
    if name == 'hgb':
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        params = {'max_iter': 100, 'early_stopping': False, 'random_state': 0, **extra}
        return (HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor)(**params), params
    import xgboost

    params = {'tree_method': 'hist', 'n_estimators': 100, 'learning_rate': 0.1, 'max_leaves': 31, 'grow_policy': 'lossguide', 'max_depth': 0, 'max_bin': 255, 'n_jobs': threads, **extra}
    return (xgboost.XGBClassifier if classify else xgboost.XGBRegressor)(**params), params


def timed_predict(model, X):
    """Median seconds of one batch prediction (after a warm-up call; at least 3 calls and PREDICT_SECONDS), and the last predictions."""
    model.predict(X)
    samples = []
    started = time.perf_counter()
    while True:
        t = time.perf_counter()
        predicted = model.predict(X)
        samples.append(time.perf_counter() - t)
        if len(samples) >= 3 and time.perf_counter() - started >= PREDICT_SECONDS:
            break
    samples.sort()
    return samples[len(samples) // 2], predicted


def fit(args):
    from sklearn.metrics import accuracy_score, r2_score
    from threadpoolctl import threadpool_limits

    extra = json.loads(args.params) if args.params else {}
    meta, X_train, y_train, X_test, y_test = load(args.data)
    model, params = model_of(args.model, meta['kind'], args.threads, extra)
    # HistGradientBoosting's threads are OpenMP's (it has no n_jobs); the limit also holds XGBoost and any BLAS to
    # the threads asked for, whatever OMP_NUM_THREADS the caller left
    with threadpool_limits(limits=args.threads), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        started = time.perf_counter()
        model.fit(X_train, y_train)
        fit_seconds = time.perf_counter() - started
        predict_seconds, predicted = timed_predict(model, X_test)
        proba = model.predict_proba(X_test).tolist() if args.predictions and meta['kind'] == 'classification' else None
    classify = meta['kind'] == 'classification'
    out = {
        'model': args.model,
        'kind': meta['kind'],
        'threads': args.threads,
        'train_rows': len(y_train),
        'test_rows': len(y_test),
        'fit_seconds': fit_seconds,
        'metric': 'accuracy' if classify else 'r2',
        'score': float(accuracy_score(y_test, predicted) if classify else r2_score(y_test, predicted)),
        'predict_seconds': predict_seconds,
        'predict_rows_per_second': len(y_test) / predict_seconds if predict_seconds > 0 else None,
        'params': params,
        'versions': versions(),
    }
    if args.predictions:
        out['predictions'] = [float(v) for v in predicted]
        if proba is not None:
            out['proba'] = proba
    json.dump(out, sys.stdout)


def versions():
    import sklearn

    out = {'python': sys.version.split()[0], 'numpy': np.__version__, 'sklearn': sklearn.__version__}
    try:
        import xgboost

        out['xgboost'] = xgboost.__version__
    except ImportError:
        out['xgboost'] = None
    return out


def parser_of():
    parser = argparse.ArgumentParser(description='scikit-learn and XGBoost baselines of mlskel\'s tree engine (bench/training.ts)')
    commands = parser.add_subparsers(dest='command', required=True)
    g = commands.add_parser('generate', help='write a data set as binary columns')
    source = g.add_mutually_exclusive_group(required=True)
    source.add_argument('--kind', choices=['classification', 'regression'])
    source.add_argument('--dataset', choices=BUNDLED)
    g.add_argument('--rows', type=int, default=20_000)
    g.add_argument('--features', type=int, default=20)
    g.add_argument('--classes', type=int, default=3, help='make_classification\'s n_classes')
    g.add_argument('--seed', type=int, default=0)
    g.add_argument('--out', required=True)
    f = commands.add_parser('fit', help='fit, score and time a baseline on a data set folder')
    f.add_argument('--data', required=True)
    f.add_argument('--model', choices=['rf', 'hgb', 'xgb'], required=True)
    f.add_argument('--threads', type=int, default=1)
    f.add_argument('params', nargs='?', help='constructor arguments as a JSON object, over the defaults')
    f.add_argument('--predictions', action='store_true', help='also print the test rows\' predictions (and probabilities)')
    commands.add_parser('batch', help='run commands read from stdin, a JSON array of arguments per line')
    return parser


def command(args):
    return {'generate': generate, 'fit': fit}[args.command]


def batch(parser):
    import contextlib
    import io
    import traceback

    for line in sys.stdin:
        if not line.strip():
            continue
        out = io.StringIO()
        try:
            args = parser.parse_args(json.loads(line))
            with contextlib.redirect_stdout(out):
                command(args)(args)
            answer = {'out': out.getvalue()}
        except BaseException:  # argparse exits with SystemExit on bad arguments: an answer too
            answer = {'error': traceback.format_exc()}
        sys.stdout.write(json.dumps(answer) + '\n')
        sys.stdout.flush()


def main():
    parser = parser_of()
    args = parser.parse_args()
    if args.command == 'batch':
        batch(parser)
    else:
        command(args)(args)


if __name__ == '__main__':
    main()
