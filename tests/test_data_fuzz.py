"""Property tests: malformed inputs give a valid Dataset or a clear ValueError.

Hypothesis generates CSV files (random bytes, ragged rows, text, NaN and infinite
cells, no header, arbitrary label values) and invalid split and budget settings.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from research.data import label_budget_indices, load_dataset, split_indices

CELLS = st.one_of(
    st.integers(-5, 5).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "nan", "NaN", "inf", "-inf", "1e400", '"1.5"', "yes", "-1"]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=6),
)
NUMBER_CELLS = st.one_of(
    st.integers(-5, 5).map(str),
    st.floats(-1e6, 1e6).map(repr),
    st.sampled_from(["", "nan", "inf", '"1.5"']),
)
LABELS = st.sampled_from(["0", "1", "-1", "2", "yes", "no", "fraud", "", "0.0"])
BINARY_LABELS = st.sampled_from([("0", "1"), ("-1", "1"), ("no", "yes"), ('"0"', "1")])
SETTINGS = settings(max_examples=150, deadline=None)


def _load(data: bytes, **cfg: object):
    """Load `data` from a temporary file and return (path, Dataset or error)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.csv"
        path.write_bytes(data)
        try:
            return path, load_dataset({"name": "csv", "path": str(path), **cfg})
        except (ValueError, FileNotFoundError) as error:
            return path, error


def _check_outcome(path: Path, outcome: object, policy: str = "error") -> None:
    if isinstance(outcome, Exception):
        message = str(outcome)
        assert message
        assert str(path) in message
        event(f"error {type(outcome).__name__}")
        return
    event("loaded")
    assert outcome.X.dtype == np.float32
    assert outcome.X.ndim == 2
    if policy != "impute_median":
        assert np.isfinite(outcome.X).all()
    assert set(np.unique(outcome.y)) == {0, 1}
    assert outcome.n_duplicate_rows >= 0


@st.composite
def csv_texts(draw) -> tuple[str, bool]:
    """Draw a CSV text and whether it has a header.

    Half the texts are ragged with arbitrary cells and labels. The other half have
    numeric cells (some empty, NaN or infinite) and a two-valued label, so that
    some of them load.
    """
    if draw(st.booleans()):
        return draw(_near_valid_csv())
    n_columns = draw(st.integers(1, 4))
    header = draw(st.booleans())
    lines = []
    if header:
        names = draw(st.lists(st.sampled_from(["a", "b", "label", ""]), min_size=1))
        lines.append(",".join(names[:n_columns] + ["label"]))
    for _ in range(draw(st.integers(0, 8))):
        width = draw(st.integers(max(0, n_columns - 1), n_columns + 1))
        cells = draw(st.lists(CELLS, min_size=width, max_size=width))
        lines.append(",".join([*cells, draw(LABELS)]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines) + newline, header


@st.composite
def _near_valid_csv(draw) -> tuple[str, bool]:
    n_columns = draw(st.integers(1, 3))
    header = draw(st.booleans())
    classes = draw(BINARY_LABELS)
    lines = [",".join([f"f{j}" for j in range(n_columns)] + ["label"])]
    for _ in range(draw(st.integers(1, 10))):
        cells = draw(st.lists(NUMBER_CELLS, min_size=n_columns, max_size=n_columns))
        lines.append(",".join([*cells, draw(st.sampled_from(classes))]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines if header else lines[1:]) + newline, header


@SETTINGS
@given(data=st.binary(max_size=200))
def test_random_bytes(data):
    path, outcome = _load(data)
    _check_outcome(path, outcome)


@SETTINGS
@given(
    text=csv_texts(),
    policy=st.sampled_from(["error", "drop", "impute_median"]),
    positive=st.sampled_from([None, None, "yes", -1, "1", 0]),
)
def test_generated_csv(text, policy, positive):
    body, header = text
    path, outcome = _load(
        body.encode(), missing=policy, header=header, positive_label=positive
    )
    _check_outcome(path, outcome, policy)


@SETTINGS
@given(
    fractions=st.dictionaries(
        st.sampled_from(["train", "val", "test", "other"]),
        st.one_of(st.floats(), st.integers(-2, 2), st.text(max_size=3), st.none()),
        max_size=4,
    )
)
def test_bad_split_fractions(fractions):
    y = np.array([0, 1] * 10)
    try:
        split = split_indices(y, fractions, seed=0)
    except ValueError as error:
        assert "split fraction" in str(error)
        return
    assert len(split.train) > 0


@SETTINGS
@given(
    budget=st.one_of(
        st.floats(), st.integers(-5, 50), st.text(max_size=4), st.none(), st.booleans()
    )
)
def test_bad_label_budget(budget):
    y_train = np.array([0, 1] * 10)
    try:
        rows = label_budget_indices(y_train, budget, min_per_class=1, seed=0)
    except ValueError as error:
        assert "labels.budget" in str(error)
        return
    assert 2 <= len(rows) <= len(y_train)


@pytest.mark.parametrize("text", ["a,label\n1,0\n", "a\n"])
def test_load_error_names_path(text):
    path, outcome = _load(text.encode())
    assert isinstance(outcome, ValueError)
    assert str(path) in str(outcome)
