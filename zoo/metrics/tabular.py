"""How close a synthetic table is to a real one (pandas DataFrames with the same columns).

- `column_similarity`: per column, the two-sample Kolmogorov-Smirnov statistic for a
  continuous column (scipy's `ks_2samp`), the total variation distance between the
  category frequencies for a categorical one; 0 is identical, 1 disjoint.
- `correlation_distance`: the Frobenius norm of the difference between the two tables'
  Pearson correlation matrices, over the number of entries of the matrix. Categorical
  columns enter one-hot (the real table's categories), so no order is invented for them.
- `ml_efficacy`: train on synthetic rows, test on real held-out rows, over the same model
  trained on real rows: a random forest of 200 trees (R^2 for a continuous target,
  accuracy for a categorical one).
"""

import numpy as np
import pandas as pd
from scipy import stats


def _check(real, synthetic, categorical):
    missing = [c for c in real.columns if c not in synthetic.columns]
    if missing:
        raise ValueError(f"the synthetic table lacks the real table's columns {missing}.")
    unknown = [c for c in categorical if c not in real.columns]
    if unknown:
        raise ValueError(f"categorical columns {unknown} are not columns of the table ({list(real.columns)}).")
    return list(real.columns), set(categorical)


def total_variation(real_column, synthetic_column):
    """Half the L1 distance between the two columns' category frequencies.

    Examples:
        >>> import pandas as pd
        >>> total_variation(pd.Series(list("aabb")), pd.Series(list("abbb")))
        0.25
    """
    p = real_column.astype(str).value_counts(normalize=True)
    q = synthetic_column.astype(str).value_counts(normalize=True)
    categories = p.index.union(q.index)
    return float(0.5 * np.abs(p.reindex(categories, fill_value=0.0) - q.reindex(categories, fill_value=0.0)).sum())


def column_similarity(real, synthetic, categorical=()):
    """`{column: distance}`: KS statistic for continuous columns, total variation for
    categorical ones.

    Examples:
        >>> import pandas as pd
        >>> real = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "c": list("aabb")})
        >>> column_similarity(real, real, ["c"])
        {'x': 0.0, 'c': 0.0}
        >>> column_similarity(real, real.assign(x=real.x + 10, c="z"), ["c"])
        {'x': 1.0, 'c': 1.0}
    """
    columns, categorical = _check(real, synthetic, categorical)
    return {c: (total_variation(real[c], synthetic[c]) if c in categorical
                else float(stats.ks_2samp(real[c].to_numpy(float), synthetic[c].to_numpy(float)).statistic))
            for c in columns}


def _encoded(table, columns, categorical, categories):
    parts = []
    for c in columns:
        if c in categorical:
            parts.append(pd.get_dummies(pd.Categorical(table[c].astype(str), categories=categories[c]),
                                        prefix=c).astype(float))
        else:
            parts.append(table[c].astype(float).rename(c).reset_index(drop=True).to_frame())
    return pd.concat([p.reset_index(drop=True) for p in parts], axis=1)


def correlation_distance(real, synthetic, categorical=()):
    """||corr(real) - corr(synthetic)||_F / (number of matrix entries), categorical columns
    one-hot; a column constant in one table correlates 0 with the others there.

    Examples:
        >>> import numpy as np, pandas as pd
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=2000)
        >>> real = pd.DataFrame({"x": x, "y": x + 0.1 * rng.normal(size=2000)})
        >>> correlation_distance(real, real)
        0.0
        >>> shuffled = real.assign(y=rng.permutation(real.y.to_numpy()))
        >>> round(correlation_distance(real, shuffled), 2)
        0.35
    """
    columns, categorical = _check(real, synthetic, categorical)
    categories = {c: sorted(real[c].astype(str).unique()) for c in categorical}
    a = _encoded(real, columns, categorical, categories).corr().fillna(0.0).to_numpy()
    b = _encoded(synthetic, columns, categorical, categories).corr().fillna(0.0).to_numpy()
    return float(np.linalg.norm(a - b) / a.size)


def ml_efficacy(real_train, real_test, synthetic, target, categorical=(), seed=0):
    """(score trained on synthetic rows, score trained on real rows, their ratio), both tested
    on `real_test`: R^2 of a 200-tree random forest regressor for a continuous `target`,
    accuracy of a classifier for a categorical one. Features: the other columns, categorical
    ones one-hot in the real training table's categories.
    """
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    columns, categorical = _check(real_train, synthetic, categorical)
    if target not in columns:
        raise ValueError(f"target {target!r} is not a column of the table ({columns}).")
    features = [c for c in columns if c != target]
    categories = {c: sorted(real_train[c].astype(str).unique()) for c in categorical if c != target}

    def xy(table):
        return _encoded(table, features, categorical, categories).to_numpy(), table[target].to_numpy()

    model_class = RandomForestClassifier if target in categorical else RandomForestRegressor
    scores = []
    for train in (synthetic, real_train):
        x, y = xy(train)
        if target in categorical:
            y = y.astype(str)
        model = model_class(n_estimators=200, random_state=seed, n_jobs=-1).fit(x, y)
        test_x, test_y = xy(real_test)
        scores.append(float(model.score(test_x, test_y.astype(str) if target in categorical else test_y)))
    synthetic_score, real_score = scores
    return synthetic_score, real_score, synthetic_score / real_score if real_score else float("nan")
