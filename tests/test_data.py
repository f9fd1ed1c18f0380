"""The data layer: synthetic mixtures, IDX files, offline MNIST, errors."""

import gzip
import os

import numpy as np
import pytest

from keras_gan_zoo import data
from keras_gan_zoo.data import images, synthetic


def test_ring8_matches_the_published_setup():
    x, y = data.load_arrays("ring8", num_examples=4000)
    assert x.shape == (4000, 2) and x.dtype == np.float32
    angles = 2 * np.pi * np.arange(8) / 8
    means = np.stack([np.cos(angles), np.sin(angles)], 1)
    residual = x - means[y]
    assert abs(residual.std() - 0.01) < 0.001
    assert set(np.unique(y)) == set(range(8))


def test_grid25_matches_the_published_setup():
    x, y = data.load_arrays("grid25", num_examples=5000)
    means = synthetic.grid25_means()
    assert sorted(set(means[:, 0])) == [-4, -2, 0, 2, 4]
    assert abs((x - means[y]).std() - 0.05) < 0.005
    assert len(np.unique(y)) == 25


def test_gauss1200_differs_only_in_700_dimensions():
    x, y = data.load_arrays("gauss1200", num_examples=300)
    assert x.shape == (300, 1200)
    # The last 500 coordinates are one fixed vector shared by all modes.
    assert np.allclose(x[:, 700:], x[0, 700:])
    assert x[:, :700].std(axis=0).min() > 0.5
    assert len(np.unique(y)) == 10


def test_synthetic_sets_are_fixed_and_splits_differ():
    a, _ = data.load_arrays("grid25", num_examples=100)
    b, _ = data.load_arrays("grid25", num_examples=100)
    test, _ = data.load_arrays("grid25", split="test", num_examples=100)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, test)
    # Pinned values: identical across runs and machines.
    np.testing.assert_allclose(
        data.load_arrays("ring8", num_examples=1)[0], [[-0.7204732, -0.7207178]], atol=1e-6
    )


def test_load_batches_shuffles_and_carries_labels():
    dataset = data.load("ring8", batch_size=32, with_labels=True, num_examples=256)
    x, y = next(iter(dataset))
    assert x.shape == (32, 2) and y.shape == (32,)
    assert len(list(dataset)) == 8
    unlabelled = data.load("ring8", batch_size=32, num_examples=256)
    assert next(iter(unlabelled)).shape == (32, 2)


def test_pipeline_gives_each_example_once_per_epoch_in_a_new_seeded_order():
    x = np.arange(103, dtype="float32")[:, None] * [1.0, -1.0]
    y = np.arange(103)
    dataset = data.pipeline(x, y, batch_size=10, seed=5)
    assert int(dataset.cardinality()) == 10, "whole batches only, and Keras can count them"
    epochs = []
    for _ in range(3):
        batches = [(bx.numpy(), by.numpy()) for bx, by in dataset]
        assert all(bx.shape == (10, 2) for bx, _ in batches)
        for bx, by in batches:  # every example keeps its label
            np.testing.assert_array_equal(bx[:, 0], by)
        order = np.concatenate([by for _, by in batches])
        assert len(set(order.tolist())) == 100, "no example twice in an epoch"
        epochs.append(order)
    assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])
    again = np.concatenate([by.numpy() for _, by in data.pipeline(x, y, batch_size=10, seed=5)])
    np.testing.assert_array_equal(again, epochs[0])
    other = np.concatenate([by.numpy() for _, by in data.pipeline(x, y, batch_size=10, seed=6)])
    assert not np.array_equal(other, epochs[0])
    # Over many epochs every example is seen: the dropped remainder changes from epoch to epoch.
    seen = set()
    for _ in range(20):
        seen |= {int(v) for bx in dataset for v in bx[1].numpy()}
    assert seen == set(range(103))
    only_x = data.pipeline(x, batch_size=10, seed=5)
    np.testing.assert_array_equal(next(iter(only_x)).numpy()[:, 0], epochs[0][:10])


def _write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_idx_files_from_data_dir_are_scaled_to_minus_one_one(tmp_path):
    pixels = np.arange(3 * 28 * 28).reshape(3, 28, 28) % 256
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", pixels)
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([4, 0, 9]))
    x, y = data.load_arrays("mnist", data_dir=str(tmp_path), download=False)
    assert x.shape == (3, 28, 28, 1)
    assert x.min() == -1.0 and x.max() == 1.0
    np.testing.assert_array_equal(y, [4, 0, 9])
    np.testing.assert_allclose(x[0, 0, 1, 0], 1 / 127.5 - 1)


def test_missing_dataset_says_where_it_looked_and_how_to_fix_it(tmp_path):
    with pytest.raises(data.DatasetNotFoundError) as error:
        data.load_arrays("mnist", data_dir=str(tmp_path), download=False)
    message = str(error.value)
    assert str(tmp_path) in message
    assert "train-images-idx3-ubyte" in message
    assert "Fix:" in message and "mnist_5k" in message


def test_unknown_dataset_lists_the_valid_names():
    with pytest.raises(ValueError, match="Valid names: autompg, fashion_mnist, gauss1200, grid25"):
        data.load("cifar11")


def test_mnist_5k_is_offline_and_balanced():
    x, y = data.load_arrays("mnist_5k")
    x_test, y_test = data.load_arrays("mnist_5k", split="test")
    assert x.shape == (4000, 28, 28, 1) and x_test.shape == (1000, 28, 28, 1)
    assert np.bincount(y).tolist() == [400] * 10
    assert np.bincount(y_test).tolist() == [100] * 10
    assert -1.0 <= x.min() < x.max() <= 1.0


@pytest.mark.skipif(
    not os.path.exists(images.DEBIAN_FASHION_MNIST),
    reason="Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)",
)
def test_fashion_mnist_from_debian_files():
    x, y = data.load_arrays("fashion_mnist", split="test", download=False)
    assert x.shape == (10000, 28, 28, 1)
    assert np.bincount(y).tolist() == [1000] * 10


def test_an_offline_download_fails_fast_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "can_reach", lambda host_and_port, timeout=None: False)
    with pytest.raises(data.DatasetNotFoundError, match="offline"):
        data.load_arrays("mnist", data_dir=str(tmp_path), download=True)


def test_waves_are_seeded_sines_and_sawtooths_within_their_ranges():
    from keras_gan_zoo.data import sequences

    x, y = data.load_arrays("waves", "train")
    assert x.shape == (10_000, 30, 1) and x.dtype == np.float32 and np.bincount(y).tolist() == [5_000, 5_000]
    again, _ = data.load_arrays("waves", "train")
    np.testing.assert_array_equal(x, again)
    assert not np.array_equal(data.load_arrays("waves", "test")[0][:100], x[:100])
    amplitude, frequency = sequences.wave_properties(x)
    low, high = sequences.AMPLITUDES
    assert amplitude.min() >= 0.5 * low and amplitude.max() <= high + 1e-6
    assert 0.65 < frequency.min() and frequency.max() < 3.35
    # A sawtooth drops by up to twice its amplitude in one step; a sine of at most 3 cycles in 30
    # steps moves by at most 2 pi 3 / 30 of its amplitude.
    jumps = np.abs(np.diff(x[..., 0], axis=1)).max(1) / amplitude
    assert jumps[y == 0].max() < 0.65 < 1.0 < jumps[y == 1].min()


def test_a_model_that_does_not_take_series_says_so():
    from keras_gan_zoo.training.config import TrainConfig
    from keras_gan_zoo.training.run import build_model

    with pytest.raises(ValueError, match="gan trains on .*; waves holds sequences of shape \\(30, 1\\)"):
        build_model(TrainConfig(model="gan", data="waves"))


def test_autompg_round_trips_through_the_table_transformer():
    import json

    from keras_gan_zoo.data import tables

    table = tables.load_autompg()
    assert table.shape == (392, 8) and list(table.columns) == list(tables.AUTOMPG_COLUMNS)
    train, test = tables.split_rows(table)
    assert (len(train), len(test)) == (313, 79)
    transformer = tables.TableTransformer(tables.AUTOMPG_CATEGORICAL).fit(table)
    matrix = transformer.transform(table)
    assert matrix.dtype == np.float32 and matrix.shape == (392, 5 + sum(
        table[c].nunique() for c in tables.AUTOMPG_CATEGORICAL))
    back = transformer.inverse_transform(matrix)
    assert list(back.columns) == list(table.columns) and dict(back.dtypes) == dict(table.dtypes)
    for column in tables.AUTOMPG_CATEGORICAL:
        assert back[column].tolist() == table[column].tolist()
    continuous = [c for c in table.columns if c not in tables.AUTOMPG_CATEGORICAL]
    np.testing.assert_allclose(back[continuous].to_numpy(), table[continuous].to_numpy(), rtol=1e-5)
    revived = tables.TableTransformer.from_config(json.loads(json.dumps(transformer.get_config())))
    np.testing.assert_array_equal(revived.transform(table), matrix)


def test_the_table_transformer_samples_categories_in_proportion():
    import pandas as pd

    from keras_gan_zoo.data import tables

    table = pd.DataFrame({"x": [0.0, 1.0], "c": ["a", "b"]})
    transformer = tables.TableTransformer(["c"]).fit(table)
    rows = np.tile([[0.0, 0.2, 0.8]], (5000, 1))
    drawn = transformer.inverse_transform(rows, categories="sample", seed=0)["c"]
    assert abs((drawn == "b").mean() - 0.8) < 0.03
    assert set(transformer.inverse_transform(rows)["c"]) == {"b"}


def test_the_table_transformer_says_what_is_wrong_with_a_table_and_where():
    import pandas as pd

    from keras_gan_zoo.data import tables

    good = pd.DataFrame({"x": [0.0, 1.0, 2.0], "c": ["a", "b", "a"]})
    with pytest.raises(ValueError, match=r"categorical columns \['colour'\] are not in the table; its columns are "
                                         r"\['x', 'c'\]"):
        tables.TableTransformer(["colour"]).fit(good)
    with pytest.raises(ValueError, match=r"missing values in x \(rows 1\)"):
        tables.TableTransformer(["c"]).fit(good.assign(x=[0.0, None, 2.0]))
    with pytest.raises(ValueError, match=r"columns \['k'\] hold one value only"):
        tables.TableTransformer(["c"]).fit(good.assign(k=5.0))
    with pytest.raises(ValueError, match=r"columns \['c'\] are not numeric: name them as categorical"):
        tables.TableTransformer().fit(good)
    transformer = tables.TableTransformer(["c"]).fit(good)
    with pytest.raises(ValueError, match=r"column 'c' holds categories \['z'\] that the fitted table did not"):
        transformer.transform(good.assign(c=["a", "z", "a"]))
    with pytest.raises(ValueError, match=r"column 'c' has no categories \['q'\]; known: \['a', 'b'\]"):
        transformer.category_index("c", ["a", "q"])
    with pytest.raises(ValueError, match=r"expected a matrix of shape \(N, 3\), got \(2, 4\)"):
        transformer.inverse_transform(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="not fitted"):
        tables.TableTransformer(["c"]).transform(good)


def test_a_registered_csv_is_a_table_of_this_process_and_not_a_shipped_dataset(tmp_path):
    from keras_gan_zoo.data import tables

    path = tmp_path / "cars.csv"
    tables.load_autompg().to_csv(path, index=False)
    spec = data.register_table(f"csv:{path}", ["origin"])
    assert spec.kind == "table" and data.describe(f"csv:{path}") is spec
    assert spec.shape == (tables.as_transformer(f"csv:{path}").width,)
    assert not any(name.startswith("csv:") for name in data.list_datasets())
    with pytest.raises(ValueError, match="Unknown table 'cars'; the shipped ones are: autompg \\(or a CSV"):
        tables.shipped_split("cars", "train")
    with pytest.raises(ValueError, match="is a CSV table this process has not read"):
        data.describe(f"csv:{tmp_path / 'other.csv'}")
