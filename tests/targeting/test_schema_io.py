import numpy as np
import pandas as pd
import pytest

from callao.targeting.io import read_declarations, write_table
from callao.targeting.schema import REQUIRED, SchemaError, detect_format, to_callao, validate


def _rows() -> pd.DataFrame:
    return pd.DataFrame({
        "declaration_id": ["A1", "A2", "A3", "A1", None, "A6", "A7"],
        "date": ["2025-01-02", "2025-01-03", "not a date", "2025-01-04", "2025-01-05", "2025-01-06", "2025-01-07"],
        "hs_code": ["010121", "080440", "080440", "080440", "080440", "08x4", "090111"],
        "value_usd": ["100", "200", "300", "400", "500", "600", "700"],
        "weight_kg": ["10", "-5", "30", "40", "50", "60", "abc"],
    })


def test_bad_rows_quarantined_with_reason_and_good_rows_kept():
    valid, q = validate(_rows())
    assert list(valid["declaration_id"]) == ["A1"]
    assert len(q) == 6 and len(valid) + len(q) == 7
    reasons = dict(zip(q["declaration_id"].fillna("<none>"), q["reason"]))
    assert "negative weight_kg" in reasons["A2"]
    assert "unparseable date" in reasons["A3"]
    assert "duplicate declaration_id" in reasons["A1"]
    assert "missing declaration_id" in reasons["<none>"]
    assert "hs_code" in reasons["A6"]
    assert "non-numeric weight_kg" in reasons["A7"]


def test_types_and_leading_zeros_survive_csv(tmp_path):
    p = write_table(_rows().iloc[[0]], tmp_path / "d.csv")
    res = read_declarations(p)
    assert res.n_quarantined == 0
    assert res.data.loc[0, "hs_code"] == "010121"
    assert res.data["weight_kg"].dtype == np.float64
    assert str(res.data["date"].dtype).startswith("datetime64")


def test_parquet_and_quarantine_count(tmp_path):
    p = tmp_path / "d.parquet"
    _rows().to_parquet(p)
    res = read_declarations(p)
    assert (len(res.data), res.n_quarantined) == (1, 6)
    assert "reason" in res.quarantine.columns


def test_missing_required_column_raises_schema_error():
    with pytest.raises(SchemaError, match="weight_kg"):
        validate(_rows().drop(columns=["weight_kg"]))


def test_wco_bacuda_columns_recognised():
    wco = pd.DataFrame({
        "sgd.id": ["S1", "S2"], "sgd.date": ["13-01-02", "13-01-03"], "importer.id": ["IMP1", "IMP2"],
        "declarant.id": ["DEC1", "DEC1"], "country": ["CN", "US"], "office.id": ["OF1", "OF2"],
        "tariff.code": ["8517120000", "6403990000"], "quantity": [10, 20], "gross.weight": [100.0, 200.0],
        "fob.value": [1000.0, 2000.0], "cif.value": [1100.0, 2200.0], "total.taxes": [50.0, 60.0],
        "illicit": [0, 1], "revenue": [0.0, 300.0],
    })
    assert detect_format(wco.columns) == "wco"
    valid, q = validate(to_callao(wco))
    assert len(q) == 0
    assert set(REQUIRED) <= set(valid.columns)
    assert list(valid["importer_id"]) == ["IMP1", "IMP2"]
    assert list(valid["cif_value_usd"]) == [1100.0, 2200.0]
    assert list(valid["illicit"]) == [0.0, 1.0]
    assert list(valid["date"].dt.strftime("%Y-%m-%d")) == ["2013-01-02", "2013-01-03"]  # yy-mm-dd dates


def test_kcs_columns_recognised_and_revenue_derived():
    kcs = pd.DataFrame({
        "Declaration ID": [97061800, 85945189], "Date": ["2020-01-01", "2020-01-02"], "Office ID": [30, 40],
        "Process Type": ["B", "B"], "Import Type": [11, 11], "Import Use": [21, 21], "Payment Type": [11, 11],
        "Mode of Transport": [10, 40], "Declarant ID": ["ZZR1LT6", "SWF9S4X"], "Importer ID": ["QLRUBN9", "7JD1S2X"],
        "Seller ID": ["0VKY2BR", None], "Courier ID": [None, None], "HS6 Code": [40890, 690722],
        "Country of Departure": ["BE", "CN"], "Country of Origin": ["BE", "CN"], "Tax Rate": [0.0, 8.0],
        "Tax Type": ["FEU1", "A"], "Country of Origin Indicator": ["G", "Y"], "Net Mass": [108.0, 11352.0],
        "Item Price": [372254.4, 1000.0], "Fraud": [0, 1], "Critical Fraud": [0, 2],
    })
    assert detect_format(kcs.columns) == "kcs"
    valid, q = validate(to_callao(kcs))
    assert len(q) == 0
    assert list(valid["hs_code"]) == ["040890", "690722"]  # leading zero restored
    assert list(valid["exporter_id"].fillna("-")) == ["0VKY2BR", "-"]
    assert list(valid["revenue"]) == [0.0, 2000.0]  # price x 2 for critical fraud
    assert "x_transport_mode" in valid.columns and "x_critical_fraud" not in valid.columns


def test_real_kcs_file_loads_if_present():
    from pathlib import Path

    path = Path("/work/shared/data/kcs/df_syn_test_eng.csv")
    if not path.exists():
        pytest.skip("KCS data not available")
    res = read_declarations(path)
    assert res.source_format == "kcs" and res.n_quarantined == 0 and len(res.data) == 8481


def test_bundled_kcs_sample_loads():
    """The README's walk-through uses data/kcs/ from the project itself (no ../shared)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "data" / "kcs"
    train = read_declarations(root / "kcs_train_sample.csv")
    test = read_declarations(root / "kcs_test_sample.csv")
    assert (train.source_format, len(train.data), train.n_quarantined) == ("kcs", 6000, 0)
    assert (len(test.data), test.n_quarantined) == (2000, 0)
    assert train.data["illicit"].isin([0.0, 1.0]).all() and 0.1 < train.data["illicit"].mean() < 0.4
    assert (root / "LICENSE").read_text().startswith("MIT License")
