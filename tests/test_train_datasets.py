"""Built-in datasets (seeded, nothing downloaded) and CSV loading with located errors."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.errors import ChainruleError, InputError
from chainrule.training.datasets import DATASETS, load_csv, load_data, make_dataset


@pytest.mark.parametrize(
    ("name", "table"),
    [("xor", [0, 1, 1, 0]), ("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1])],
)
def test_logic_gates_are_their_truth_tables(name, table):
    data = make_dataset(name)
    ops = {"xor": np.logical_xor, "and": np.logical_and, "or": np.logical_or}
    expected = ops[name](data.X[:, 0] > 0.5, data.X[:, 1] > 0.5).astype(float)
    assert data.X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert data.Y[:, 0].tolist() == table == expected.tolist()
    assert data.task == "binary" and data.labels().tolist() == table


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_dataset_is_seeded_and_well_formed(name):
    a, b = make_dataset(name, seed=3), make_dataset(name, seed=3)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.Y, b.Y)
    assert a.X.dtype == np.float64 and a.Y.dtype == np.float64
    assert a.X.shape[0] == a.Y.shape[0] == DATASETS[name].n
    assert np.isfinite(a.X).all() and np.isfinite(a.Y).all()
    if a.task == "multiclass":
        assert (a.Y.sum(axis=1) == 1).all() and a.Y.shape[1] == len(a.classes) == 3
        assert np.bincount(a.labels()).tolist() == [50, 50, 50]
    elif a.task == "binary":
        assert set(np.unique(a.Y)) <= {0.0, 1.0} and a.Y.shape[1] == 1
    if not DATASETS[name].fixed_size:
        other = make_dataset(name, seed=4)
        assert not np.array_equal(a.X, other.X)


def test_sizes_and_noise_can_be_set():
    data = make_dataset("moons", n=31, noise=0.0)
    assert data.n_examples == 31 and np.bincount(data.labels()).tolist() == [16, 15]
    # Without noise the moons lie exactly on their unit half circles.
    upper = data.X[data.labels() == 0]
    assert np.allclose(np.hypot(*upper.T), 1.0)


def test_linear_data_follow_their_line():
    data = make_dataset("linear", n=2000, noise=0.0)
    assert np.allclose(data.Y[:, 0], 3.0 - 1.5 * data.X[:, 0])
    slope, intercept = np.polyfit(make_dataset("linear", n=5000).X[:, 0],
                                  make_dataset("linear", n=5000).Y[:, 0], 1)
    assert slope == pytest.approx(-1.5, abs=0.05) and intercept == pytest.approx(3, abs=0.05)


def test_circles_radii():
    data = make_dataset("circles", noise=0.0)
    radius = np.hypot(*data.X.T)
    assert np.allclose(radius[data.labels() == 0], 1.0)
    assert np.allclose(radius[data.labels() == 1], 0.5)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: make_dataset("xorr"), "did you mean 'xor'"),
        (lambda: make_dataset("xor", n=10), "exactly 4"),
        (lambda: make_dataset("moons", noise=-1), "noise"),
        (lambda: make_dataset("and", noise=0.1), "no noise"),
        (lambda: make_dataset("three", n=2), "at least 3"),
        (lambda: load_data("moons", label="y"), "CSV"),
    ],
)
def test_dataset_errors(call, message):
    with pytest.raises(ChainruleError, match=message):
        call()


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_binary_classes_with_header(tmp_path):
    path = write(tmp_path, "a,b,label\n1,2,cat\n3,4,dog\n\n5,6.5,cat\n")
    data = load_csv(path)
    assert data.name == "data" and data.feature_names == ["a", "b"]
    assert data.X.tolist() == [[1, 2], [3, 4], [5, 6.5]]
    assert data.task == "binary" and data.classes == ["cat", "dog"]
    assert data.Y[:, 0].tolist() == [0, 1, 0]


def test_csv_named_label_column_and_pm1_labels(tmp_path):
    path = write(tmp_path, "y,x1,x2\n-1,0,1\n1,1,0\n1,2,2\n")
    data = load_csv(path, label="y")
    assert data.feature_names == ["x1", "x2"] and data.classes == ["-1", "1"]
    assert data.Y[:, 0].tolist() == [0, 1, 1]


def test_csv_multiclass_and_regression(tmp_path):
    data = load_csv(write(tmp_path, "x,k\n0,2\n1,0\n2,1\n3,2\n"))
    assert data.task == "multiclass" and data.classes == ["0", "1", "2"]
    assert data.Y.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]
    data = load_csv(write(tmp_path, "x,t\n0,0.5\n1,1.25\n", "r.csv"))
    assert data.task == "regression" and data.Y[:, 0].tolist() == [0.5, 1.25]
    forced = load_csv(write(tmp_path, "x,t\n0,1\n1,2\n2,3\n", "f.csv"), task="regression")
    assert forced.task == "regression" and forced.Y[:, 0].tolist() == [1, 2, 3]


def test_csv_without_header(tmp_path):
    data = load_csv(write(tmp_path, "0.5,1,0\n1.5,2,1\n"))
    assert data.feature_names == ["x1", "x2"] and data.X.tolist() == [[0.5, 1], [1.5, 2]]


@pytest.mark.parametrize(
    ("text", "kwargs", "line", "field", "message"),
    [
        ("", {}, None, None, "is empty"),
        ("a,b\n", {}, None, None, "no rows"),
        ("a\n1\n", {}, 1, None, "at least two columns"),
        ("a,b,y\n1,2,0\n3,0\n", {}, 3, None, "has 2 fields, the header has 3"),
        ("a,b,y\n1,2,0\n3,x,1\n", {}, 3, "b", "'x' is not a finite number"),
        ("a,b,y\n1,,0\n", {}, 2, "b", "an empty cell"),
        ("a,b,y\n1,nan,0\n", {}, 2, "b", "not a finite number"),
        ("a,b,y\n1,2,\n", {}, 2, "y", "label is empty"),
        ("a,b,y\n1,2,0\n", {"label": "z"}, None, "z", "no column 'z'; columns: a, b, y"),
        ("a,b,y\n1,2,0\n2,3,0\n", {}, None, "y", "one class only"),
        ("a,a,y\n1,2,0\n", {}, 1, None, "'a' appears twice"),
        ("a,,y\n1,2,0\n", {}, 1, None, "column 2 has no name"),
        ("a,y\n1,x\n2,y\n3,z\n", {"task": "binary"}, None, "y", "needs 2 classes"),
        ("a,y\n1,x\n", {"task": "regression"}, 2, "y", "regression target"),
    ],
)
def test_csv_errors_name_file_line_and_field(tmp_path, text, kwargs, line, field, message):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_csv(path, **kwargs)
    error = info.value
    assert message in str(error) and str(path) in str(error)
    assert (error.line, error.field) == (line, field)


def test_csv_file_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_csv(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="folder"):
        load_csv(tmp_path)
    bad = tmp_path / "latin.csv"
    bad.write_bytes(b"a,y\n\xe9,1\n")
    with pytest.raises(InputError, match="UTF-8"):
        load_csv(bad)
    with pytest.raises(ChainruleError, match="task must be"):
        load_csv(write(tmp_path, "a,y\n1,0\n2,1\n"), task="cluster")


def test_load_data_dispatches_on_csv(tmp_path):
    path = write(tmp_path, "a,y\n1,0\n2,1\n")
    assert load_data(str(path)).n_examples == 2
    assert load_data("xor").name == "xor"
    with pytest.raises(ChainruleError, match="built-in"):
        load_data(str(path), n=5)


@pytest.mark.parametrize("cell, column", [("1e308", "x1"), ("-2e6", "x2")])
def test_csv_feature_beyond_the_data_range_is_refused(tmp_path, cell, column):
    path = tmp_path / "big.csv"
    row = {"x1": "0.5", "x2": "0.25"}
    row[column] = cell
    path.write_text(f"x1,x2,label\n0,0,a\n1,1,b\n{row['x1']},{row['x2']},a\n")
    with pytest.raises(InputError) as info:
        load_csv(str(path))
    assert info.value.line == 4
    assert info.value.field == column
    assert "|value| <= 1e+06" in str(info.value)


def test_csv_regression_target_beyond_the_data_range_is_refused(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("x,y\n0,1\n1,2\n2,3e9\n")
    with pytest.raises(InputError) as info:
        load_csv(str(path), task="regression")
    assert (info.value.line, info.value.field) == (4, "y")
