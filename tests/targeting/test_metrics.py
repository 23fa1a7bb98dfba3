import numpy as np
import pytest

from callao.targeting.metrics import inspection_metrics, metrics_at_rates, n_inspected, precision_at, top_mask


def test_hand_computed_example():
    # 10 declarations, 3 illicit; top-2 by score are rows 0 (illicit) and 1 (clean)
    y = np.array([1, 0, 1, 0, 0, 0, 1, 0, 0, 0])
    s = np.array([0.9, 0.8, 0.7, 0.1, 0.1, 0.1, 0.6, 0.1, 0.1, 0.1])
    rev = np.array([100, 0, 300, 0, 0, 0, 600, 0, 0, 0], dtype=float)
    m = inspection_metrics(y, top_mask(s, 2), rev)
    assert m == pytest.approx({"precision": 0.5, "recall": 1 / 3, "revenue": 0.1})
    m4 = inspection_metrics(y, top_mask(s, 4), rev)
    assert m4 == pytest.approx({"precision": 0.75, "recall": 1.0, "revenue": 1.0})


def test_rates_table():
    y = np.r_[np.ones(5), np.zeros(95)]
    s = np.r_[np.linspace(1, 0.9, 5), np.linspace(0.5, 0, 95)]
    t = metrics_at_rates(y, s, None)
    assert list(t["inspected"]) == [1, 2, 5, 10]
    assert list(t["precision"]) == [1.0, 1.0, 1.0, 0.5]
    assert list(t["recall"]) == [0.2, 0.4, 1.0, 1.0]
    assert precision_at(y, -s, 0.05) == 0.0


def test_n_inspected_rounding():
    assert n_inspected(8481, 0.05) == 424
    assert n_inspected(10, 0.01) == 1
    assert n_inspected(0, 0.05) == 0
