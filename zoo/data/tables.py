"""Tables: mixed continuous and categorical columns, as `tabular_gan` reads and writes them.

`TableTransformer` turns a pandas DataFrame into the float matrix a network trains on
(continuous columns standardised, categorical ones one-hot) and back into a DataFrame
with the original columns, dtypes and category sets. `load_autompg` gives the Auto MPG
table mlxtend ships (offline).

    >>> import numpy as np, pandas as pd
    >>> table = pd.DataFrame({"size": [1.5, 2.0, 3.5], "colour": ["red", "blue", "red"]})
    >>> transformer = TableTransformer(categorical=["colour"]).fit(table)
    >>> matrix = transformer.transform(table)
    >>> matrix.shape, [span.name for span in transformer.spans]
    ((3, 3), ['size', 'colour'])
    >>> back = transformer.inverse_transform(matrix)
    >>> back.colour.equals(table.colour), bool(np.allclose(back["size"], table["size"]))
    (True, True)
"""

import dataclasses
import pathlib

import numpy as np
import pandas as pd

AUTOMPG_COLUMNS = ("cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year", "origin", "mpg")
AUTOMPG_CATEGORICAL = ("cylinders", "model_year", "origin")


def load_autompg():
    """Auto MPG (392 cars with no missing value, the car name dropped), as shipped by mlxtend:
    mpg and four continuous measurements; cylinders, model year and origin as integers."""
    try:
        from mlxtend.data import autompg_data
    except ImportError:
        from keras_gan_zoo.data.images import DatasetNotFoundError

        raise DatasetNotFoundError("autompg comes with the PyPI package mlxtend. Fix: pip install mlxtend") from None
    x, y = autompg_data()
    table = pd.DataFrame(x[:, :7].astype(float), columns=AUTOMPG_COLUMNS[:7]).assign(mpg=y.astype(float))
    return table.astype({c: "int64" for c in AUTOMPG_CATEGORICAL})


def split_rows(table, test_fraction=0.2, seed=0):
    """(train, test): a seeded shuffle of the rows, the test part `test_fraction` of them rounded up
    (autompg: 313 / 79)."""
    order = np.random.default_rng(seed).permutation(len(table))
    cut = len(table) - int(np.ceil(test_fraction * len(table)))
    return table.iloc[order[:cut]].reset_index(drop=True), table.iloc[order[cut:]].reset_index(drop=True)


# The tables shipped by name: name -> (loader, categorical columns); `register_csv` keeps the
# "csv:PATH" tables this process has read apart, in CSV_TABLES.
SHIPPED = {"autompg": (load_autompg, AUTOMPG_CATEGORICAL)}
CSV_TABLES = {}


def source(name):
    """(loader, categorical columns) of a shipped or registered table; an unknown name lists the shipped ones."""
    found = SHIPPED.get(name) or CSV_TABLES.get(name)
    if found is None:
        raise ValueError(f"Unknown table {name!r}; the shipped ones are: {', '.join(SHIPPED)} (or a CSV, csv:PATH).")
    return found


def read_csv_table(path):
    """A CSV file as a DataFrame (pandas' reader), or an error naming the file."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"There is no CSV file {path}.")
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} cannot be read as CSV: {error}") from None


def register_csv(name, categorical=()):
    """Makes "csv:PATH" a table of this process, its `categorical` columns named; returns the
    fitted transformer (fitted on its train rows, `split_rows` with seed 0), which says what
    is wrong with the table (missing values, constant or text columns, unknown names)."""
    if not name.startswith("csv:"):
        raise ValueError(f"A CSV table's name is csv:PATH, got {name!r}.")
    path = name[len("csv:"):]
    # The whole table first, so that a missing value is named by its row in the file.
    TableTransformer._check_frame(read_csv_table(path))
    CSV_TABLES[name] = (lambda: read_csv_table(path), tuple(categorical))
    try:
        return as_transformer(name)
    except Exception:
        del CSV_TABLES[name]
        raise


def shipped_splits(name):
    """(train, test): a shipped or registered table's rows split by `split_rows` (seed 0), read once."""
    return split_rows(source(name)[0]())


def shipped_split(name, split):
    """A shipped or registered table's "train" or "test" rows (`shipped_splits`)."""
    return dict(zip(("train", "test"), shipped_splits(name)))[split]


def as_transformer(table):
    """A fitted `TableTransformer` from one, from its `get_config()`, or from the name of a shipped
    table ("autompg": fitted on its train rows, its categorical columns as `AUTOMPG_CATEGORICAL`)."""
    if isinstance(table, TableTransformer):
        table._require_fitted()
        return table
    if isinstance(table, dict):
        return TableTransformer.from_config(table)
    if isinstance(table, str):
        return TableTransformer(source(table)[1]).fit(shipped_split(table, "train"))
    raise TypeError(f"table must be a fitted TableTransformer, its get_config(), or a shipped table's name "
                    f"({', '.join(SHIPPED)}); got {type(table).__name__}.")


@dataclasses.dataclass(frozen=True)
class Span:
    """Where one column sits in the matrix: `width` columns from `start`; categorical ones
    hold a one-hot (or softmax) block over `categories`."""

    name: str
    kind: str
    start: int
    width: int
    categories: tuple = ()


class TableTransformer:
    """DataFrame <-> float32 matrix: continuous columns standardised to mean 0 and std 1,
    categorical columns one-hot over the categories seen by `fit`.

    Args:
        categorical: the names of the categorical columns; every other column must be numeric.
    """

    def __init__(self, categorical=()):
        self.categorical = tuple(categorical)
        self.columns, self.dtypes, self.spans = None, None, None
        self.means, self.stds = {}, {}

    @property
    def width(self):
        return sum(span.width for span in self.spans)

    def _require_fitted(self):
        if self.spans is None:
            raise ValueError("the transformer is not fitted: call fit(table) first.")

    @staticmethod
    def _check_frame(table):
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"a table must be a pandas DataFrame, got {type(table).__name__}.")
        missing = table.isna()
        if missing.any().any():
            where = [f"{c} (rows {', '.join(map(str, np.flatnonzero(missing[c])[:5]))}"
                     f"{', ...' if missing[c].sum() > 5 else ''})" for c in table.columns if missing[c].any()]
            raise ValueError(f"the table has missing values in {'; '.join(where)}: fill or drop them first.")

    def fit(self, table):
        """Learns the columns, dtypes, categories and scales of `table`; returns self."""
        self._check_frame(table)
        unknown = [c for c in self.categorical if c not in table.columns]
        if unknown:
            raise ValueError(f"categorical columns {unknown} are not in the table; its columns are "
                             f"{list(table.columns)}.")
        constant = [c for c in table.columns if table[c].nunique() < 2]
        if constant:
            raise ValueError(f"columns {constant} hold one value only: there is nothing to learn in them; drop them "
                             "and add them back to the samples.")
        text = [c for c in table.columns if c not in self.categorical and not pd.api.types.is_numeric_dtype(table[c])]
        if text:
            raise ValueError(f"columns {text} are not numeric: name them as categorical (--categorical "
                             f"{','.join(text)}).")
        self.columns = tuple(table.columns)
        self.dtypes = {c: str(table[c].dtype) for c in self.columns}
        spans, start = [], 0
        for c in self.columns:
            if c in self.categorical:
                categories = tuple(sorted(table[c].unique().tolist(), key=lambda v: (str(type(v)), v)))
                spans.append(Span(c, "categorical", start, len(categories), categories))
                start += len(categories)
            else:
                values = table[c].to_numpy(float)
                self.means[c], self.stds[c] = float(values.mean()), float(values.std())
                spans.append(Span(c, "continuous", start, 1))
                start += 1
        self.spans = spans
        return self

    def transform(self, table):
        """The (N, width) float32 matrix of `table`, which must have the fitted columns and no
        category the fit did not see."""
        self._require_fitted()
        self._check_frame(table)
        missing = [c for c in self.columns if c not in table.columns]
        if missing:
            raise ValueError(f"the table lacks the columns {missing} the transformer was fitted on.")
        matrix = np.zeros((len(table), self.width), "float32")
        for span in self.spans:
            column = table[span.name]
            if span.kind == "continuous":
                matrix[:, span.start] = (column.to_numpy(float) - self.means[span.name]) / self.stds[span.name]
                continue
            index = {value: i for i, value in enumerate(span.categories)}
            unseen = sorted({v for v in column.tolist() if v not in index}, key=str)
            if unseen:
                raise ValueError(f"column {span.name!r} holds categories {unseen[:5]} that the fitted table did "
                                 f"not; known: {list(span.categories)}.")
            matrix[np.arange(len(table)), span.start + np.array([index[v] for v in column.tolist()], int)] = 1.0
        return matrix

    def category_index(self, column, values):
        """The one-hot positions of `values` in categorical `column`; unknown ones are an error
        naming the known categories."""
        self._require_fitted()
        span = next((s for s in self.spans if s.name == column and s.kind == "categorical"), None)
        if span is None:
            raise ValueError(f"{column!r} is not a categorical column; those are {list(self.categorical)}.")
        index = {value: i for i, value in enumerate(span.categories)}
        unknown = sorted({v for v in values if v not in index}, key=str)
        if unknown:
            raise ValueError(f"column {column!r} has no categories {unknown}; known: {list(span.categories)}.")
        return np.array([index[v] for v in values], int)

    def inverse_transform(self, matrix, categories="argmax", seed=None):
        """A DataFrame with the fitted columns, dtypes and categories from an (N, width) matrix.

        Args:
            matrix: rows as `transform` makes them, or as a generator's heads emit them
                (a softmax block per categorical column).
            categories: "argmax" takes each block's most probable category; "sample" draws
                one in proportion to the block.
            seed: the draws of "sample".
        """
        self._require_fitted()
        matrix = np.asarray(matrix, "float64")
        if matrix.ndim != 2 or matrix.shape[1] != self.width:
            raise ValueError(f"expected a matrix of shape (N, {self.width}), got {matrix.shape}.")
        if categories not in ("argmax", "sample"):
            raise ValueError(f"categories must be 'argmax' or 'sample', got {categories!r}.")
        rng = np.random.default_rng(seed)
        columns = {}
        for span in self.spans:
            block = matrix[:, span.start:span.start + span.width]
            if span.kind == "continuous":
                values = block[:, 0] * self.stds[span.name] + self.means[span.name]
                if np.issubdtype(np.dtype(self.dtypes[span.name]), np.integer):
                    values = np.round(values)
                columns[span.name] = values.astype(self.dtypes[span.name])
                continue
            if categories == "argmax":
                chosen = block.argmax(1)
            else:
                weights = np.clip(block, 0.0, None) + 1e-12
                weights /= weights.sum(1, keepdims=True)
                chosen = (rng.random((len(block), 1)) > np.cumsum(weights, 1)).sum(1).clip(0, span.width - 1)
            values = pd.Series(np.asarray(span.categories, dtype=object)[chosen])
            columns[span.name] = values.astype(self.dtypes[span.name])
        return pd.DataFrame(columns, columns=list(self.columns))

    def get_config(self):
        self._require_fitted()
        return {"categorical": list(self.categorical), "columns": list(self.columns), "dtypes": self.dtypes,
                "means": self.means, "stds": self.stds,
                "spans": [{**dataclasses.asdict(s), "categories": list(s.categories)} for s in self.spans]}

    @classmethod
    def from_config(cls, config):
        transformer = cls(config["categorical"])
        transformer.columns, transformer.dtypes = tuple(config["columns"]), dict(config["dtypes"])
        transformer.means, transformer.stds = dict(config["means"]), dict(config["stds"])
        transformer.spans = [Span(**{**s, "categories": tuple(s["categories"])}) for s in config["spans"]]
        return transformer
