"""Table helpers: the fast paths give exactly what the plain numpy/pandas forms give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from callao.tables import Codes, hourly_mean, stable_argsort


def _reference_hourly_mean(start, end, weight, n_hours):
    """hourly_mean as first written: one stable argsort per end (the bits every KPI was built on)."""
    start = np.clip(np.nan_to_num(start, nan=np.inf), 0, n_hours)
    end = np.clip(np.nan_to_num(end, nan=np.inf), 0, n_hours)
    edges = np.arange(n_hours + 1, dtype=float)

    def integral(t, w):
        order = np.argsort(t, kind="stable")
        t, w = t[order], w[order]
        k = np.searchsorted(t, edges, side="right")
        return edges * np.concatenate([[0.0], np.cumsum(w)])[k] - np.concatenate([[0.0], np.cumsum(w * t)])[k]

    return np.diff(integral(start, weight) - integral(end, weight))


@pytest.mark.parametrize("seed", range(4))
def test_stable_argsort_is_numpys_stable_argsort(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 50, 20_000).round(seed)  # seed 0: whole numbers, many ties
    x[rng.random(x.size) < 0.1] = 0.0
    x[rng.random(x.size) < 0.05] = -0.0
    assert np.array_equal(stable_argsort(x), np.argsort(x, kind="stable"))
    assert np.array_equal(stable_argsort(np.sort(x)), np.arange(x.size))
    assert stable_argsort(np.zeros(0)).size == 0


@pytest.mark.parametrize("weights", ["teu", "ones", "fractions"])
def test_hourly_mean_bit_identical_to_the_stable_sort_form(weights):
    rng = np.random.default_rng(7)
    n = 30_000
    start = rng.uniform(-20, 500, n)
    end = start + rng.exponential(40, n)
    start[rng.random(n) < 0.05] = 0.0  # ties, at the clip bounds too
    end[rng.random(n) < 0.05] = np.nan  # still present
    end[rng.random(n) < 0.02] = 1e6
    w = {"teu": rng.integers(1, 3, n).astype(float), "ones": np.ones(n),
         "fractions": rng.uniform(0, 1, n)}[weights]
    got, want = hourly_mean(start, end, w, 480), _reference_hourly_mean(start, end, w, 480)
    assert got.tobytes() == want.tobytes()
    whole = start.round().astype(int), np.nan_to_num(end, nan=1e6).round().astype(int)  # integer times too
    assert hourly_mean(*whole, w, 480).tobytes() == _reference_hourly_mean(*whole, w, 480).tobytes()
    # and the meaning: the hourly mean of intervals (spot-check one hour by brute force)
    h = 100
    s, e = np.clip(np.nan_to_num(start, nan=np.inf), 0, 480), np.clip(np.nan_to_num(end, nan=np.inf), 0, 480)
    overlap = np.clip(np.minimum(e, h + 1) - np.maximum(s, h), 0, None)
    assert got[h] == pytest.approx(float((w * overlap).sum()), rel=1e-9)


@pytest.mark.parametrize("kind", ["category", "object", "string[pyarrow]"])
def test_codes_match_like_equality(kind):
    values = ["apmt", "dpw", None, "dpw", "apmt", "apmt"]
    column = pd.Series(values, dtype=kind)
    codes = Codes(column)
    for name in ("apmt", "dpw", "chancay"):
        assert (codes == name).tolist() == [v == name for v in values], name
    assert codes.isin("apmt", "chancay").tolist() == [v in ("apmt", "chancay") for v in values]
    assert not (codes == "nan").any() and not codes.isin().any()


def test_parquet_writes_run_beside_the_body_and_raise_the_first_error(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from callao import tables

    frames = {tmp_path / "big.parquet": pd.DataFrame({"t": np.arange(50_000, dtype=float), "id": np.arange(50_000)}),
              tmp_path / "small.parquet": pd.DataFrame({"port": pd.Categorical(["callao", "chancay"]), "ok": [True, False]})}
    with tables.parquet_writes(frames):
        body_ran = True
    assert body_ran
    for path, df in frames.items():
        back = pq.read_table(path).to_pandas()
        assert back.equals(df) and list(back.dtypes) == list(df.dtypes), path.name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.parquet", "small.parquet"]

    real = tables.write_parquet

    def broken(df, path):
        if len(df) == 2:
            raise OSError("disk full")
        real(df, path)

    monkeypatch.setattr(tables, "write_parquet", broken)
    before = (tmp_path / "small.parquet").read_bytes()
    with pytest.raises(OSError, match="disk full"):
        with tables.parquet_writes(frames):
            pass
    assert (tmp_path / "small.parquet").read_bytes() == before, "a failed write leaves the old file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.parquet", "small.parquet"], "no temporary file left"


def test_write_parquet_round_trip_and_encodings(tmp_path):
    """Every kind of column reads back equal (values and types); 64-bit integers are delta-encoded,
    floats byte-stream-split, categoricals dictionary-encoded."""
    rng = np.random.default_rng(0)
    n = 50_000
    df = pd.DataFrame({
        "id": np.arange(n, dtype=np.int64),
        "shuffled": rng.integers(-2**62, 2**62, n),
        "vessel": rng.integers(-1, 300, n).astype(np.int32),
        "teu": rng.integers(1, 3, n).astype(np.int8),
        "flag": rng.random(n) < 0.1,
        "t": np.where(rng.random(n) < 0.2, np.nan, rng.random(n) * 8760),
        "terminal": pd.Categorical(rng.choice(["dpworld", "apmt"], n)),
        "name": rng.choice(["a", "bb", "ccc"], n),
    })
    from callao.tables import write_parquet

    path = tmp_path / "t.parquet"
    write_parquet(df, path)
    back = pd.read_parquet(path)
    assert back.equals(df) and (back.dtypes == df.dtypes).all()
    meta = pq.ParquetFile(path).metadata.row_group(0)
    enc = {meta.column(i).path_in_schema: meta.column(i).encodings for i in range(meta.num_columns)}
    assert "DELTA_BINARY_PACKED" in enc["id"] and "DELTA_BINARY_PACKED" in enc["shuffled"]
    assert "BYTE_STREAM_SPLIT" in enc["t"] and "RLE_DICTIONARY" in enc["terminal"]
