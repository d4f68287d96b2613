"""Tests for research.data: loaders, splits, label budgets and scalers."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from research.data import (
    CREDITCARD_FEATURES,
    Dataset,
    Split,
    ae_fit_indices,
    impute_median,
    label_budget_indices,
    load_dataset,
    make_scaler,
    split_indices,
)

FRACTIONS = {"train": 0.6, "val": 0.2, "test": 0.2}


def _creditcard_frame(n_rows: int = 40, n_frauds: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        rng.normal(size=(n_rows, len(CREDITCARD_FEATURES))), columns=CREDITCARD_FEATURES
    )
    frame["Time"] = np.arange(n_rows, dtype=float)
    frame["Class"] = [1] * n_frauds + [0] * (n_rows - n_frauds)
    return frame


def _write_csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _csv_cfg(path: Path, **extra: object) -> dict:
    return {"name": "csv", "path": str(path), **extra}


# Loaders


def test_breast_cancer_shape_and_labels():
    ds = load_dataset({"name": "breast_cancer"})
    assert ds.X.shape == (569, 30)
    assert ds.X.dtype == np.float32
    assert ds.y.dtype == np.int64
    assert int(ds.y.sum()) == 212
    assert set(np.unique(ds.y)) == {0, 1}
    assert ds.feature_names[0] == "mean radius"
    assert len(ds.feature_names) == 30
    assert ds.name == "breast_cancer"
    assert ds.source == "sklearn.datasets.load_breast_cancer"


def test_breast_cancer_malignant_is_positive():
    ds = load_dataset(OmegaConf.create({"name": "breast_cancer"}))
    radius = ds.X[:, ds.feature_names.index("mean radius")]
    # Malignant tumours are larger on average, so this catches the sklearn coding
    # (malignant = 0) left unreversed.
    assert radius[ds.y == 1].mean() > radius[ds.y == 0].mean()


@pytest.mark.parametrize("index_header", [None, "", "Unnamed: 0"])
def test_creditcard_csv_columns(tmp_path, index_header):
    frame = _creditcard_frame()
    # Put Amount and Class first so the test catches features kept in file order.
    shuffled = frame[["Class", "Amount", *CREDITCARD_FEATURES[:-1]]]
    if index_header is None:
        shuffled.to_csv(tmp_path / "cc.csv", index=False)
    else:
        shuffled.to_csv(tmp_path / "cc.csv", index_label=index_header)
    ds = load_dataset({"name": "creditcard", "path": str(tmp_path / "cc.csv")})
    assert ds.feature_names == CREDITCARD_FEATURES
    assert ds.X.shape == (40, 30)
    np.testing.assert_allclose(ds.X, frame[CREDITCARD_FEATURES].to_numpy(), rtol=1e-6)
    np.testing.assert_array_equal(ds.y, frame["Class"].to_numpy())
    assert ds.name == "creditcard"
    assert ds.source == str((tmp_path / "cc.csv").resolve())


def test_creditcard_missing_columns(tmp_path):
    frame = _creditcard_frame().drop(columns=["V3", "Class"])
    frame.to_csv(tmp_path / "cc.csv", index=False)
    with pytest.raises(ValueError, match=r"missing .*\['V3', 'Class'\]; found columns"):
        load_dataset({"name": "creditcard", "path": str(tmp_path / "cc.csv")})


def test_creditcard_real_sample():
    path = os.environ.get("CREDITCARD_CSV")
    if not path:
        pytest.skip("set CREDITCARD_CSV=../shared/data/creditcard_sample.csv to run")
    ds = load_dataset({"name": "creditcard", "path": path})
    assert ds.X.shape == (5099, 30)
    assert int(ds.y.sum()) == 96
    assert ds.feature_names == CREDITCARD_FEATURES


def test_csv_drop_and_custom_label(tmp_path):
    text = "id,a,b,target,note\n1,0.5,2,1,3\n2,1.5,3,0,4\n3,2.5,4,1,5\n"
    path = _write_csv(tmp_path / "d.csv", text)
    ds = load_dataset(_csv_cfg(path, label="target", drop=["id", "note"]))
    assert ds.feature_names == ["a", "b"]
    np.testing.assert_array_equal(ds.X, [[0.5, 2], [1.5, 3], [2.5, 4]])
    np.testing.assert_array_equal(ds.y, [1, 0, 1])
    assert ds.name == "csv"


def test_csv_default_label_and_omegaconf(tmp_path):
    path = _write_csv(tmp_path / "d.csv", "a,label\n1,0\n2,1\n")
    cfg = OmegaConf.create({"name": "csv", "path": str(path), "drop": []})
    ds = load_dataset(cfg)
    assert ds.feature_names == ["a"]
    np.testing.assert_array_equal(ds.y, [0, 1])


def test_csv_index_column_dropped(tmp_path):
    frame = pd.DataFrame({"a": [0.5, 1.5, 2.5], "label": [1, 0, 1]}, index=[7, 8, 9])
    frame.to_csv(tmp_path / "d.csv")
    ds = load_dataset(_csv_cfg(tmp_path / "d.csv"))
    assert ds.feature_names == ["a"]
    np.testing.assert_array_equal(ds.X[:, 0], [0.5, 1.5, 2.5])
    named = load_dataset(_csv_cfg(tmp_path / "d.csv", drop=["Unnamed: 0"]))
    assert named.feature_names == ["a"]


def test_csv_drop_contains_label(tmp_path):
    path = _write_csv(tmp_path / "d.csv", "a,label\n1,0\n2,1\n")
    with pytest.raises(ValueError, match="drop contains the label column 'label'"):
        load_dataset(_csv_cfg(path, drop=["label"]))


def test_csv_no_features_left(tmp_path):
    path = _write_csv(tmp_path / "d.csv", "id,label\n1,0\n2,1\n")
    with pytest.raises(ValueError, match="no feature columns left"):
        load_dataset(_csv_cfg(path, drop="id"))


def test_npz_round_trip(tmp_path):
    X = np.arange(12, dtype=np.float64).reshape(4, 3)
    y = np.array([0, 1, 0, 1])
    np.savez(tmp_path / "d.npz", X=X, y=y)
    ds = load_dataset({"name": "npz", "path": str(tmp_path / "d.npz")})
    np.testing.assert_array_equal(ds.X, X.astype(np.float32))
    np.testing.assert_array_equal(ds.y, y)
    assert ds.X.dtype == np.float32
    assert ds.y.dtype == np.int64
    assert ds.feature_names == ["x0", "x1", "x2"]


def test_fingerprint_stable_and_sensitive():
    X = np.zeros((3, 2), dtype=np.float32)
    y = np.array([0, 1, 1], dtype=np.int64)
    first = Dataset(
        X=X.copy(), y=y.copy(), feature_names=["a", "b"], name="n", source="s"
    )
    same = Dataset(
        X=X.copy(), y=y.copy(), feature_names=["a", "b"], name="m", source="t"
    )
    renamed = Dataset(
        X=X.copy(), y=y.copy(), feature_names=["a", "c"], name="n", source="s"
    )
    relabeled = Dataset(
        X=X.copy(), y=y[::-1].copy(), feature_names=["a", "b"], name="n", source="s"
    )
    assert len(first.fingerprint()) == 64
    assert first.fingerprint() == same.fingerprint()
    assert first.fingerprint() != renamed.fingerprint()
    assert first.fingerprint() != relabeled.fingerprint()


def test_dataset_arrays_read_only():
    ds = load_dataset({"name": "breast_cancer"})
    with pytest.raises(ValueError, match="read-only"):
        ds.X[0, 0] = 1.0


def test_dataset_rejects_wrong_dtypes():
    y = np.array([0, 1], dtype=np.int64)
    with pytest.raises(ValueError, match="2-D float32"):
        Dataset(X=np.zeros((2, 1)), y=y, feature_names=["a"], name="n", source="s")
    with pytest.raises(ValueError, match="2 feature names"):
        Dataset(
            X=np.zeros((2, 1), np.float32),
            y=y,
            feature_names=["a", "b"],
            name="n",
            source="s",
        )


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match=r"unknown dataset.name='iris'.*breast_cancer"):
        load_dataset({"name": "iris"})


@pytest.mark.parametrize("path", [None, ""])
def test_path_not_set(path):
    with pytest.raises(ValueError, match=r"set dataset.path="):
        load_dataset({"name": "csv", "path": path})


def test_path_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope.csv not found"):
        load_dataset(_csv_cfg(tmp_path / "nope.csv"))


def test_path_is_directory(tmp_path):
    with pytest.raises(ValueError, match="is a directory"):
        load_dataset(_csv_cfg(tmp_path))


def test_empty_file(tmp_path):
    path = _write_csv(tmp_path / "e.csv", "")
    with pytest.raises(ValueError, match=r"e.csv is empty"):
        load_dataset(_csv_cfg(path))


def test_header_only(tmp_path):
    path = _write_csv(tmp_path / "h.csv", "a,b,label\n")
    with pytest.raises(ValueError, match="header but no data rows"):
        load_dataset(_csv_cfg(path))


def test_label_column_missing(tmp_path):
    path = _write_csv(tmp_path / "d.csv", "a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"'label' not found .*\['a', 'b'\]"):
        load_dataset(_csv_cfg(path))


def test_drop_unknown_column(tmp_path):
    path = _write_csv(tmp_path / "d.csv", "a,label\n1,0\n2,1\n")
    with pytest.raises(ValueError, match=r"drop names columns \['id'\]"):
        load_dataset(_csv_cfg(path, drop=["id"]))


def test_non_numeric_cell(tmp_path):
    path = _write_csv(tmp_path / "d.csv", "a,b,label\n1,2,0\n3,oops,1\n")
    with pytest.raises(ValueError, match=r"column 'b' .*'oops' in data row 2"):
        load_dataset(_csv_cfg(path))


@pytest.mark.parametrize("cell", ["", "nan", "inf", "-inf", "1e400"])
def test_non_finite_cell(tmp_path, cell):
    path = _write_csv(tmp_path / "d.csv", f"a,b,label\n1,2,0\n3,4,1\n5,{cell},1\n")
    with pytest.raises(ValueError, match=r"column 'b' in data row 3 .*Clean the file"):
        load_dataset(_csv_cfg(path))


def test_labels_not_binary(tmp_path):
    path = _write_csv(tmp_path / "d.csv", "a,label\n1,0\n2,1\n3,2\n")
    with pytest.raises(ValueError, match=r"only 0 and 1, found \[0, 1, 2\]"):
        load_dataset(_csv_cfg(path))


def test_labels_many_values_truncated(tmp_path):
    rows = "".join(f"{i},{i}\n" for i in range(12))
    path = _write_csv(tmp_path / "d.csv", "a,label\n" + rows)
    with pytest.raises(ValueError, match=r"found \[0, 1, .*, 9\] \(first 10 of 12"):
        load_dataset(_csv_cfg(path))


def test_bool_feature_column(tmp_path):
    path = _write_csv(tmp_path / "d.csv", "flag,label\nTrue,0\nFalse,1\n")
    ds = load_dataset(_csv_cfg(path))
    np.testing.assert_array_equal(ds.X[:, 0], [1.0, 0.0])


def test_labels_text(tmp_path):
    path = _write_csv(tmp_path / "d.csv", "a,label\n1,benign\n2,malignant\n")
    with pytest.raises(ValueError, match=r"found \['benign', 'malignant'\]"):
        load_dataset(_csv_cfg(path))


def test_label_missing_value(tmp_path):
    path = _write_csv(tmp_path / "d.csv", "a,label\n1,0\n2,\n3,1\n")
    with pytest.raises(ValueError, match=r"empty or NaN in data row 2"):
        load_dataset(_csv_cfg(path))


def test_single_class(tmp_path):
    path = _write_csv(tmp_path / "d.csv", "a,label\n1,0\n2,0\n")
    with pytest.raises(ValueError, match="only the class 0"):
        load_dataset(_csv_cfg(path))


@pytest.mark.parametrize("cell", ["", "nan", "inf", "-inf", "1e400"])
def test_missing_drop(tmp_path, cell, caplog):
    text = f"a,b,label\n1,2,0\n3,4,1\n5,{cell},1\n7,8,0\n"
    path = _write_csv(tmp_path / "d.csv", text)
    with caplog.at_level("INFO", logger="research.data.missing"):
        ds = load_dataset(_csv_cfg(path, missing="drop"))
    np.testing.assert_array_equal(ds.X[:, 0], [1, 3, 7])
    np.testing.assert_array_equal(ds.y, [0, 1, 0])
    assert "dropped 1 of 4 rows" in caplog.text


def test_missing_drop_all_rows(tmp_path):
    path = _write_csv(tmp_path / "d.csv", "a,label\nnan,0\ninf,1\n")
    with pytest.raises(ValueError, match="all 2 rows .* leaves no rows"):
        load_dataset(_csv_cfg(path, missing="drop"))


def test_missing_impute_keeps_nan(tmp_path):
    path = _write_csv(tmp_path / "d.csv", "a,b,label\n1,2,0\n3,inf,1\n5,,1\n")
    ds = load_dataset(_csv_cfg(path, missing="impute_median"))
    assert ds.X.shape == (3, 2)
    assert np.isnan(ds.X[1:, 1]).all()
    assert np.isfinite(ds.X[:, 0]).all()


def test_missing_policy_invalid(tmp_path):
    path = _write_csv(tmp_path / "d.csv", "a,label\n1,0\n2,1\n")
    with pytest.raises(ValueError, match=r"dataset.missing='fill'; valid values"):
        load_dataset(_csv_cfg(path, missing="fill"))


def test_npz_missing_drop(tmp_path):
    X = np.ones((4, 2))
    X[2, 1] = np.inf
    np.savez(tmp_path / "d.npz", X=X, y=np.array([0, 1, 0, 1]))
    ds = load_dataset(
        {"name": "npz", "path": str(tmp_path / "d.npz"), "missing": "drop"}
    )
    np.testing.assert_array_equal(ds.y, [0, 1, 1])


def test_impute_median_uses_train_only():
    nan = np.nan
    x = {
        "train": np.array([[1, 10], [nan, 20], [3, np.inf]], dtype=np.float32),
        "val": np.array([[nan, nan]], dtype=np.float32),
        "test": np.array([[100, 200]], dtype=np.float32),
    }
    out = impute_median(x, feature_names=["a", "b"])
    np.testing.assert_array_equal(out["train"], [[1, 10], [2, 20], [3, 15]])
    np.testing.assert_array_equal(out["val"], [[2, 15]])
    np.testing.assert_array_equal(out["test"], [[100, 200]])
    assert out["val"].dtype == np.float32
    assert np.isnan(x["val"]).all()


def test_impute_median_no_missing_unchanged():
    x = {"train": np.ones((2, 2), np.float32), "test": np.zeros((1, 2), np.float32)}
    out = impute_median(x)
    assert out["train"] is x["train"]
    assert out["test"] is x["test"]


def test_impute_median_column_all_missing():
    x = {
        "train": np.array([[1, np.nan]], dtype=np.float32),
        "test": np.array([[1, 2]], dtype=np.float32),
    }
    with pytest.raises(ValueError, match="column 'b' .*no finite value"):
        impute_median(x, feature_names=["a", "b"])
    with pytest.raises(ValueError, match="under 'train'"):
        impute_median({"test": x["test"]})


def test_no_header_default_last_column(tmp_path):
    path = _write_csv(tmp_path / "d.csv", "1,2,0\n3,4,1\n")
    ds = load_dataset(_csv_cfg(path, header=False))
    assert ds.feature_names == ["col_0", "col_1"]
    np.testing.assert_array_equal(ds.X, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(ds.y, [0, 1])
    ds = load_dataset(_csv_cfg(path, header=False, label=None))
    assert ds.feature_names == ["col_0", "col_1"]


@pytest.mark.parametrize("label", [0, "0", -3])
def test_no_header_label_index(tmp_path, label):
    path = _write_csv(tmp_path / "d.csv", "0,2,5\n1,4,6\n")
    ds = load_dataset(_csv_cfg(path, header=False, label=label, drop=["col_2"]))
    assert ds.feature_names == ["col_1"]
    np.testing.assert_array_equal(ds.y, [0, 1])


@pytest.mark.parametrize(
    ("label", "message"),
    [(3, "out of range: .* 3 columns"), ("y", "not a column index"), (True, "not a")],
)
def test_no_header_bad_label(tmp_path, label, message):
    path = _write_csv(tmp_path / "d.csv", "0,2,5\n1,4,6\n")
    with pytest.raises(ValueError, match=message):
        load_dataset(_csv_cfg(path, header=False, label=label))


def test_header_invalid(tmp_path):
    path = _write_csv(tmp_path / "d.csv", "a,label\n1,0\n2,1\n")
    with pytest.raises(ValueError, match="invalid dataset.header='no'"):
        load_dataset(_csv_cfg(path, header="no"))


@pytest.mark.parametrize(
    ("cells", "positive", "expected"),
    [
        (["fraud", "normal", "fraud"], "fraud", [1, 0, 1]),
        (["yes", "no", "no"], "yes", [1, 0, 0]),
        (["-1", "1", "-1"], -1, [1, 0, 1]),
        (["-1", "1", "-1"], "1", [0, 1, 0]),
        (["0", "1", "1"], 0, [1, 0, 0]),
    ],
)
def test_positive_label(tmp_path, cells, positive, expected):
    rows = "".join(f"{i},{cell}\n" for i, cell in enumerate(cells))
    path = _write_csv(tmp_path / "d.csv", "a,label\n" + rows)
    ds = load_dataset(_csv_cfg(path, positive_label=positive))
    np.testing.assert_array_equal(ds.y, expected)


def test_positive_label_not_found(tmp_path):
    path = _write_csv(tmp_path / "d.csv", "a,label\n1,yes\n2,no\n")
    with pytest.raises(ValueError, match=r"positive_label='maybe' is not a value"):
        load_dataset(_csv_cfg(path, positive_label="maybe"))


def test_positive_label_three_values(tmp_path):
    path = _write_csv(tmp_path / "d.csv", "a,label\n1,a\n2,b\n3,c\n")
    with pytest.raises(ValueError, match=r"exactly two distinct .* \['a', 'b', 'c'\]"):
        load_dataset(_csv_cfg(path, positive_label="a"))


@pytest.mark.parametrize("cells", [["-1", "1"], ["fraud", "normal"], ["yes", "no"]])
def test_labels_need_positive_label(tmp_path, cells):
    path = _write_csv(tmp_path / "d.csv", f"a,label\n1,{cells[0]}\n2,{cells[1]}\n")
    with pytest.raises(ValueError, match=r"found \[.*\]; set dataset.positive_label"):
        load_dataset(_csv_cfg(path))


def test_labels_quoted_zero_one(tmp_path):
    path = _write_csv(tmp_path / "d.csv", 'a,label\n1,"0"\n2,"1"\n3," 1"\n')
    ds = load_dataset(_csv_cfg(path))
    np.testing.assert_array_equal(ds.y, [0, 1, 1])


def test_crlf_and_quoted_numbers(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b'"a",b,label\r\n"1.5",2,0\r\n"-3e2","4",1\r\n')
    ds = load_dataset(_csv_cfg(path))
    assert ds.feature_names == ["a", "b"]
    np.testing.assert_array_equal(ds.X, [[1.5, 2], [-300, 4]])
    np.testing.assert_array_equal(ds.y, [0, 1])


def test_duplicate_rows_counted(tmp_path):
    text = "a,b,label\n1,2,0\n1,2,0\n1,2,1\n1,2,0\n3,4,1\n"
    ds = load_dataset(_csv_cfg(_write_csv(tmp_path / "d.csv", text)))
    assert ds.n_duplicate_rows == 2
    assert load_dataset({"name": "breast_cancer"}).n_duplicate_rows == 0


def test_npz_missing_array(tmp_path):
    np.savez(tmp_path / "d.npz", features=np.zeros((2, 2)), y=np.array([0, 1]))
    with pytest.raises(ValueError, match=r"no array \['X'\]; found arrays"):
        load_dataset({"name": "npz", "path": str(tmp_path / "d.npz")})


def test_npz_length_mismatch(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((3, 2)), y=np.array([0, 1]))
    with pytest.raises(ValueError, match=r"X shape \(3, 2\) and y shape \(2,\)"):
        load_dataset({"name": "npz", "path": str(tmp_path / "d.npz")})


def test_npz_not_an_archive(tmp_path):
    path = _write_csv(tmp_path / "d.npz", "a,label\n1,0\n")
    with pytest.raises(ValueError, match="not an .npz archive"):
        load_dataset({"name": "npz", "path": str(path)})


def test_npz_nan(tmp_path):
    X = np.ones((3, 2))
    X[2, 1] = np.nan
    np.savez(tmp_path / "d.npz", X=X, y=np.array([0, 1, 0]))
    with pytest.raises(ValueError, match=r"column 'x1' in row 2 \(0-based\)"):
        load_dataset({"name": "npz", "path": str(tmp_path / "d.npz")})


# Splits


def _imbalanced_labels(n_rows: int = 200, n_positive: int = 30) -> np.ndarray:
    y = np.zeros(n_rows, dtype=np.int64)
    y[np.random.default_rng(1).choice(n_rows, n_positive, replace=False)] = 1
    return y


def test_split_disjoint_and_sizes():
    y = _imbalanced_labels()
    split = split_indices(y, FRACTIONS, seed=0)
    parts = [split.train, split.val, split.test]
    assert [len(p) for p in parts] == [120, 40, 40]
    assert len(np.unique(np.concatenate(parts))) == 200
    for part in parts:
        assert part.dtype == np.int64
        assert np.all(np.diff(part) > 0)


def test_split_stratified():
    y = _imbalanced_labels()
    split = split_indices(y, FRACTIONS, seed=3)
    for name, part in zip(
        ("train", "val", "test"), (split.train, split.val, split.test), strict=True
    ):
        expected = FRACTIONS[name] * 30
        assert abs(int(y[part].sum()) - expected) <= 1, name


def test_split_deterministic_and_seeded():
    y = _imbalanced_labels()
    first = split_indices(y, FRACTIONS, seed=5)
    again = split_indices(y, FRACTIONS, seed=5)
    other = split_indices(y, FRACTIONS, seed=6)
    np.testing.assert_array_equal(first.train, again.train)
    np.testing.assert_array_equal(first.test, again.test)
    assert not np.array_equal(first.train, other.train)
    for a, b in (
        (first.train, other.train),
        (first.val, other.val),
        (first.test, other.test),
    ):
        assert len(a) == len(b)


def test_split_leftover_rows_unused():
    y = _imbalanced_labels()
    split = split_indices(y, {"train": 0.3, "val": 0.1, "test": 0.1}, seed=0)
    assert isinstance(split, Split)
    assert len(split.train) + len(split.val) + len(split.test) == 100


def test_split_tiny_class_gets_one_row_each():
    y = np.array([1, 1, 1] + [0] * 97)
    split = split_indices(y, {"train": 0.8, "val": 0.1, "test": 0.1}, seed=0)
    for part in (split.train, split.val, split.test):
        assert int(y[part].sum()) == 1


def test_split_class_too_small():
    y = np.array([1, 1] + [0] * 20)
    with pytest.raises(ValueError, match="class 1 has 2 rows"):
        split_indices(y, FRACTIONS, seed=0)


@pytest.mark.parametrize(
    ("fractions", "message"),
    [
        ({"train": 0.6, "val": 0.3, "test": 0.2}, "sum to at most 1"),
        ({"train": 0.0, "val": 0.5, "test": 0.5}, r"in \(0, 1\), got train=0.0"),
        ({"train": 1.0, "val": 0.5, "test": 0.5}, r"in \(0, 1\)"),
        ({"train": 0.6, "val": -0.1, "test": 0.2}, r"in \(0, 1\)"),
        ({"train": 0.6, "test": 0.2}, "exactly the keys"),
        ({"train": "a", "val": 0.2, "test": 0.2}, "must be numbers"),
    ],
)
def test_split_bad_fractions(fractions, message):
    with pytest.raises(ValueError, match=message):
        split_indices(_imbalanced_labels(), fractions, seed=0)


# Label budgets


@pytest.mark.parametrize(
    ("budget", "expected"),
    [
        (50, 50),
        ("50", 50),
        (np.int64(7), 7),
        (0.1, 20),
        ("0.25", 50),
        ("all", 200),
        (1.0, 200),
    ],
)
def test_budget_counts(budget, expected):
    positions = label_budget_indices(_imbalanced_labels(), budget, 1, seed=0)
    assert len(positions) == expected
    assert len(np.unique(positions)) == expected
    assert np.all(np.diff(positions) > 0)


def test_budget_int_one_is_count():
    positions = label_budget_indices(_imbalanced_labels(), 1, 0, seed=0)
    assert len(positions) == 1


def test_budget_small_keeps_rare_class():
    y = _imbalanced_labels(1000, 10)
    positions = label_budget_indices(y, 5, 1, seed=0)
    assert int(y[positions].sum()) == 1
    assert int((y[positions] == 0).sum()) == 4


def test_budget_min_per_class():
    y = _imbalanced_labels(1000, 10)
    positions = label_budget_indices(y, 10, 3, seed=0)
    assert int(y[positions].sum()) == 3
    assert len(positions) == 10


def test_budget_proportional_to_classes():
    y = np.array([0] * 50 + [1] * 50)
    balanced = label_budget_indices(y, 20, 1, seed=0)
    assert int(y[balanced].sum()) == 10


def test_budget_capped_at_class_size():
    y = _imbalanced_labels(100, 5)
    almost_all = label_budget_indices(y, 98, 1, seed=0)
    assert len(almost_all) == 98
    assert int(y[almost_all].sum()) <= 5


def test_budget_deterministic_and_seeded():
    y = _imbalanced_labels()
    first = label_budget_indices(y, 20, 1, seed=0)
    np.testing.assert_array_equal(first, label_budget_indices(y, 20, 1, seed=0))
    assert not np.array_equal(first, label_budget_indices(y, 20, 1, seed=1))


@pytest.mark.parametrize(
    ("budget", "min_per_class", "message"),
    [
        (600, 1, r"labels.budget=600 exceeds the 200 training rows"),
        (3, 2, r"gives 3 labeled rows, fewer than labels.min_per_class=2 x 2"),
        (50, 31, r"class 1 has 30 training rows, fewer than labels.min_per_class=31"),
        ("all", 31, r"class 1 has 30 training rows"),
        (0, 1, r"invalid labels.budget=0"),
        (-5, 1, r"invalid labels.budget=-5"),
        ("abc", 1, r"invalid labels.budget='abc'; valid budgets"),
        (1.5, 1, r"invalid labels.budget=1.5: a float is a fraction"),
        (50.0, 1, r"invalid labels.budget=50.0"),
        (0.0, 1, r"invalid labels.budget=0.0"),
        (True, 1, r"invalid labels.budget=True"),
        (None, 1, r"invalid labels.budget=None"),
        (10, -1, r"min_per_class must be >= 0"),
        (10, 1.5, r"min_per_class must be an int >= 0, got 1.5"),
    ],
)
def test_budget_impossible(budget, min_per_class, message):
    with pytest.raises(ValueError, match=message):
        label_budget_indices(_imbalanced_labels(), budget, min_per_class, seed=0)


def test_budget_empty_train():
    with pytest.raises(ValueError, match="training split is empty"):
        label_budget_indices(np.array([], dtype=np.int64), "all", 1, seed=0)


# Autoencoder fit rows


def test_ae_fit_indices():
    y = np.array([0, 1, 0, 0, 1])
    np.testing.assert_array_equal(ae_fit_indices(y, "all"), [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(ae_fit_indices(y, "normal"), [0, 2, 3])


def test_ae_fit_indices_errors():
    with pytest.raises(ValueError, match="selects no rows"):
        ae_fit_indices(np.array([1, 1]), "normal")
    with pytest.raises(ValueError, match=r"invalid ae.fit_on='anomalous'.*'normal'"):
        ae_fit_indices(np.array([0, 1]), "anomalous")


# Scalers


def test_standard_scaler_matches_numpy():
    X = np.random.default_rng(0).normal(3.0, 2.0, size=(100, 4))
    train = np.arange(60)
    scaled = make_scaler("standard").fit(X[train]).transform(X)
    expected = (X - X[train].mean(axis=0)) / X[train].std(axis=0)
    np.testing.assert_allclose(scaled, expected, rtol=1e-10)


def test_minmax_and_none_scalers():
    X = np.array([[1.0, 10.0], [3.0, 20.0], [2.0, 15.0]])
    np.testing.assert_allclose(
        make_scaler("minmax").fit_transform(X), [[0, 0], [1, 1], [0.5, 0.5]]
    )
    np.testing.assert_array_equal(make_scaler("none").fit_transform(X), X)


def test_unknown_scaler():
    with pytest.raises(ValueError, match=r"invalid scaler='robust'.*'minmax'"):
        make_scaler("robust")


def test_csv_semicolon_separator_hint(tmp_path):
    path = _write_csv(tmp_path / "d.csv", "a;b;label\n1;2;0\n3;4;1\n")
    with pytest.raises(ValueError, match="separated by ';'"):
        load_dataset(_csv_cfg(path))
