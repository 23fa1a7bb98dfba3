"""Comparisons a planner can read: per-port KPIs when a scenario simulates two ports, and differences
marked ``*`` (significant and large enough to matter) or ``~`` (significant but below the KPI's
practical threshold)."""

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from callao.cli import app
from callao.experiments.compare import (COLUMNS, compare, mark, practical_threshold, with_port_kpis)
from callao.report.comparison import headline_kpis, label, write_comparison_report

runner = CliRunner()


def frame(values: dict[str, dict[str, list[float]]]) -> pd.DataFrame:
    """scenario -> kpi -> one value per replication, as a replications frame."""
    rows = []
    for s, kpis in values.items():
        n = len(next(iter(kpis.values())))
        for i in range(n):
            rows.append({"scenario": s, "scenario_hash": s, "replication": i, "seed_entropy": 0,
                         "seed_spawn_key": str(i), **{k: v[i] for k, v in kpis.items()}})
    return pd.DataFrame(rows)


def test_practical_thresholds_by_kind_of_kpi():
    assert practical_threshold("berth_occupancy_apmt", 0.6) == 0.01
    assert practical_threshold("scanner_utilisation", 0.3) == 0.01
    assert practical_threshold("detection_rate", 0.1) == 0.01
    assert practical_threshold("anchorage_wait_mean_h", 17.0) == 0.5
    assert practical_threshold("anchorage_wait_mean_h_chancay", 3.0) == 0.5
    assert practical_threshold("gate_wait_p95_h", 0.1) == 0.5
    assert practical_threshold("yard_dwell_import_mean_d", 4.0) == 0.25
    assert practical_threshold("teu_total", 3.0e6) == pytest.approx(3.0e4)
    assert practical_threshold("yard_occupancy_mean_teu_apmt", 20000.0) == pytest.approx(200.0)
    assert practical_threshold("civil_military_encounters", -300.0) == pytest.approx(3.0)
    assert np.isnan(practical_threshold("teu_port_chancay", float("nan")))
    assert mark(True, 0.1, 0.5) == "~" and mark(True, -0.6, 0.5) == "*" and mark(False, 9.0, 0.5) == ""
    assert mark(True, 5.0, float("nan")) == "*"


def test_small_significant_differences_are_marked_below_threshold():
    base = [10.0, 14.0, 9.0, 16.0, 12.0]
    noise = [0.0, 0.01, -0.01, 0.02, 0.0]
    reps = frame({
        "base": {"anchorage_wait_mean_h": base, "berth_occupancy_x": [0.5, 0.6, 0.55, 0.52, 0.58]},
        "tiny": {"anchorage_wait_mean_h": [b + 0.05 + e for b, e in zip(base, noise)],  # ~3 minutes
                 "berth_occupancy_x": [0.5 + 0.3, 0.6 + 0.3, 0.55 + 0.3, 0.52 + 0.3, 0.58 + 0.3]},
        "big": {"anchorage_wait_mean_h": [b - 2.0 + e for b, e in zip(base, noise)],
                "berth_occupancy_x": [0.501, 0.62, 0.53, 0.52, 0.6]},
    })
    t = compare(reps, base="base").set_index(["scenario", "kpi"])
    assert list(compare(reps, base="base").columns) == COLUMNS
    assert t.loc[("tiny", "anchorage_wait_mean_h"), "significant"]
    assert t.loc[("tiny", "anchorage_wait_mean_h"), "mark"] == "~"
    assert t.loc[("tiny", "anchorage_wait_mean_h"), "threshold"] == 0.5
    assert t.loc[("big", "anchorage_wait_mean_h"), "mark"] == "*"
    assert t.loc[("tiny", "berth_occupancy_x"), "mark"] == "*"
    assert not t.loc[("big", "berth_occupancy_x"), "significant"] and t.loc[("big", "berth_occupancy_x"), "mark"] == ""
    assert t.loc[("base", "anchorage_wait_mean_h"), "mark"] == ""


def test_one_port_scenarios_get_their_ports_kpis_when_another_has_two():
    base = {"teu_total": [100.0, 120.0, 110.0], "anchorage_wait_mean_h": [10.0, 12.0, 11.0],
            "vessel_calls_total": [20.0, 22.0, 21.0]}
    two = {"teu_total": [130.0, 150.0, 140.0], "anchorage_wait_mean_h": [6.0, 7.0, 6.5],
           "vessel_calls_total": [26.0, 28.0, 27.0],
           "teu_port_callao": [90.0, 108.0, 99.0], "teu_port_chancay": [40.0, 42.0, 41.0],
           "anchorage_wait_mean_h_callao": [8.0, 9.5, 8.5], "anchorage_wait_mean_h_chancay": [1.0, 2.0, 1.5],
           "vessel_calls_port_callao": [18.0, 20.0, 19.0], "vessel_calls_port_chancay": [8.0, 8.0, 8.0]}
    reps = frame({"baseline": base, "chancay": two})
    assert with_port_kpis(reps, {"baseline": ["callao"], "other": ["callao"]}) is reps  # nothing to align
    full = with_port_kpis(reps, {"baseline": ["callao"], "chancay": ["callao", "chancay"]})
    b = full[full["scenario"] == "baseline"]
    assert list(b["teu_port_callao"]) == base["teu_total"]
    assert list(b["anchorage_wait_mean_h_callao"]) == base["anchorage_wait_mean_h"]
    assert b["teu_port_chancay"].isna().all()
    t = compare(full, base="baseline").set_index(["scenario", "kpi"])
    # Callao's own throughput falls (-11 TEU) while the two-port total rises (+30 TEU)
    assert t.loc[("chancay", "teu_port_callao"), "diff"] == pytest.approx(-11.0)
    assert t.loc[("chancay", "teu_total"), "diff"] == pytest.approx(30.0)
    assert t.loc[("chancay", "anchorage_wait_mean_h_callao"), "diff"] == pytest.approx(-7 / 3)
    assert np.isnan(t.loc[("chancay", "teu_port_chancay"), "diff"])
    heads = headline_kpis(t.reset_index()["kpi"])
    assert heads[:6] == ["teu_total", "teu_port_callao", "teu_port_chancay", "anchorage_wait_mean_h",
                         "anchorage_wait_mean_h_callao", "anchorage_wait_mean_h_chancay"]
    assert label("teu_port_callao") == "Throughput callao, TEU"
    assert label("anchorage_wait_mean_h_chancay") == "Anchorage wait (mean) chancay, h"


def test_report_marks_differences_and_explains_ports(tmp_path):
    reps = frame({"baseline": {"teu_total": [1.0, 2.0, 3.0], "anchorage_wait_mean_h": [10.0, 11.0, 12.0]},
                  "chancay": {"teu_total": [2.0, 3.0, 4.1], "anchorage_wait_mean_h": [10.1, 11.1, 12.1],
                              "teu_port_callao": [0.5, 1.5, 2.6], "teu_port_chancay": [1.5, 1.5, 1.5]}})
    reps = with_port_kpis(reps, {"baseline": ["callao"], "chancay": ["callao", "chancay"]})
    table = compare(reps, base="baseline")
    page = write_comparison_report(table, reps, tmp_path / "r.html").read_text()
    assert "Throughput callao, TEU" in page and "for each port" in page
    assert 'class="small"' in page and "practical threshold" in page  # the 0.1 h wait difference
    # a table written before marks existed still renders
    old = table.drop(columns=["threshold", "mark"])
    assert "Throughput" in write_comparison_report(old, reps, tmp_path / "old.html").read_text()


def test_chancay_comparison_shows_callaos_own_figures(tmp_path):
    out = tmp_path / "cmp"
    res = runner.invoke(app, ["compare", "baseline", "chancay", "-r", "2", "--years", "0.03", "--out", str(out)],
                        env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "comparison.csv", keep_default_na=False, na_values=[""])
    assert list(table.columns) == COLUMNS
    rows = table.set_index(["scenario", "kpi"])
    for kpi in ("teu_port_callao", "anchorage_wait_mean_h_callao", "vessel_calls_port_callao"):
        assert ("baseline", kpi) in rows.index and ("chancay", kpi) in rows.index, kpi
        assert np.isfinite(rows.loc[("chancay", kpi), "diff"]), kpi
    assert set(table["mark"].fillna("")) <= {"", "*", "~"}
    assert "Throughput callao, TEU" in res.output and "Anchorage wait (mean) callao, h" in res.output
    assert "Throughput chancay, TEU" in res.output
    page = (out / "report.html").read_text()
    assert "Throughput callao, TEU" in page
