"""Experiments: reproducible replications with common random numbers, the resumable store, local and
Dask executors, the comparison statistics, sweeps and the compare/sweep commands."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from callao.cli import app
from callao.experiments import (COLUMNS, DaskExecutor, ExperimentError, LocalExecutor, ReplicationsFailed,
                                SweepError, compare,
                                parse_vary, replication_seed, run_experiment, run_replications, tasks_for,
                                variant)
from callao.experiments.sweep import override_for, sweep_variants
from callao.scenario import load_scenario

runner = CliRunner()
YEARS = 0.03
SEED = 11
REPS = 4
VESSEL_SIDE = ("vessel_calls_total", "vessel_calls_dpworld", "vessel_calls_apmt", "anchorage_wait_mean_h",
               "berth_wait_mean_h", "turnaround_mean_h", "berth_occupancy_dpworld", "berth_occupancy_apmt",
               "civil_military_encounters", "naval_movements", "closure_hours", "teu_total")
FINISHED = re.compile(r"^\d+\.parquet$")


def finished_files(out):
    return sorted(p for p in (out / "replications").glob("*/*.parquet") if FINISHED.match(p.name))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """baseline vs more-scanners, 4 replications, run locally without interruption."""
    out = tmp_path_factory.mktemp("reference")
    variants = [variant("baseline", years=YEARS), variant("more-scanners", years=YEARS)]
    return run_experiment(variants, REPS, out, seed=SEED, report=False)


# ---------------------------------------------------------------- statistics


def _frame(values: dict[str, list[float]], kpi="k") -> pd.DataFrame:
    rows = [{"scenario": s, "scenario_hash": s, "replication": i, "seed_entropy": 0, "seed_spawn_key": str(i),
             kpi: v} for s, vals in values.items() for i, v in enumerate(vals)]
    return pd.DataFrame(rows)


def test_mean_and_paired_difference_ci_match_a_hand_computation():
    base, alt = [1.0, 2.0, 3.0, 4.0], [2.0, 2.5, 4.5, 5.0]
    t = compare(_frame({"base": base, "alt": alt}), base="base").set_index("scenario")
    q = stats.t.ppf(0.975, 3)
    m, h = np.mean(alt), q * np.std(alt, ddof=1) / 2
    assert t.loc["alt", "mean"] == pytest.approx(m)
    assert (t.loc["alt", "ci_low"], t.loc["alt", "ci_high"]) == pytest.approx((m - h, m + h))
    d = np.subtract(alt, base)  # [1, .5, 1.5, 1]: paired by replication
    hd = q * d.std(ddof=1) / 2
    assert t.loc["alt", "diff"] == pytest.approx(1.0)
    assert (t.loc["alt", "diff_ci_low"], t.loc["alt", "diff_ci_high"]) == pytest.approx((1 - hd, 1 + hd))
    assert bool(t.loc["alt", "significant"])
    # the unpaired interval would be far wider and include zero: pairing is what the CRN buy
    assert stats.ttest_ind(alt, base, equal_var=False).confidence_interval().low < 0
    assert (t.loc["base", "diff"], t.loc["base", "diff_ci_low"], t.loc["base", "diff_ci_high"]) == (0, 0, 0)
    assert not t.loc["base", "significant"]
    assert list(compare(_frame({"base": base, "alt": alt}), base="base").columns) == COLUMNS


def test_welch_when_replication_counts_differ():
    base, alt = [1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 5.5]
    t = compare(_frame({"base": base, "alt": alt}), base="base").set_index("scenario")
    ci = stats.ttest_ind(alt, base, equal_var=False).confidence_interval(0.95)
    assert t.loc["alt", "diff"] == pytest.approx(np.mean(alt) - np.mean(base))
    assert (t.loc["alt", "diff_ci_low"], t.loc["alt", "diff_ci_high"]) == pytest.approx((ci.low, ci.high))


def test_significance_flips_when_the_difference_is_zero():
    base = [1.0, 2.5, 3.0, 7.0]
    same = compare(_frame({"base": base, "alt": base}), base="base").set_index("scenario").loc["alt"]
    assert (same["diff"], same["diff_ci_low"], same["diff_ci_high"]) == (0.0, 0.0, 0.0)
    assert not same["significant"]
    shifted = compare(_frame({"base": base, "alt": [b + 0.5 for b in base]}), base="base").set_index("scenario")
    assert shifted.loc["alt", "significant"] and shifted.loc["alt", "diff_ci_low"] == pytest.approx(0.5)


def test_missing_kpi_values_are_left_out():
    df = _frame({"base": [1.0, 2.0, 3.0], "alt": [1.5, np.nan, 3.5]})
    t = compare(df, base="base").set_index("scenario")
    assert t.loc["alt", "mean"] == pytest.approx(2.5)
    assert t.loc["alt", "diff"] == pytest.approx(0.5) and t.loc["alt", "diff_ci_low"] == pytest.approx(0.5)


# ---------------------------------------------------------------- seeds and CRN


def test_replication_seeds_are_children_of_one_seed_sequence_shared_by_all_scenarios():
    kids = np.random.SeedSequence(SEED).spawn(5)
    for i in range(5):
        assert (replication_seed(SEED, i).generate_state(4) == kids[i].generate_state(4)).all()
    variants = [variant("baseline", years=YEARS), variant("more-scanners", years=YEARS)]
    tasks = tasks_for(variants, 3, SEED)
    assert [(t.scenario, t.replication) for t in tasks][:2] == [("baseline", 0), ("more-scanners", 0)]
    for i in range(3):
        seeds = {(t.seed_entropy, t.seed_spawn_key) for t in tasks if t.replication == i}
        assert seeds == {(SEED, (i,))}
    assert variants[0].hash != variants[1].hash
    assert variant("baseline", years=YEARS).hash == variants[0].hash != variant("baseline", years=0.5).hash


def test_stored_results_are_keyed_by_the_engine_code(monkeypatch):
    """A code change gives new store folders (old results are never mixed in), and a worker whose
    engine differs from the client's refuses the task."""
    from dataclasses import replace

    from callao.experiments import replications

    fp = replications.engine_fingerprint()
    assert re.fullmatch(r"[0-9a-f]{16}", fp)
    task = tasks_for([variant("baseline", years=YEARS)], 1, SEED)[0]
    assert task.engine == fp
    with pytest.raises(ExperimentError, match="differs from the client"):
        replications.run_replication(replace(task, engine="0" * 16))
    before = variant("baseline", years=YEARS).hash
    monkeypatch.setattr(replications, "engine_fingerprint", lambda: "f" * 16)
    assert variant("baseline", years=YEARS).hash != before


def test_common_random_numbers_leave_vessel_side_identical(reference):
    reps = reference.replications.set_index(["scenario", "replication"])
    for kpi in VESSEL_SIDE:
        assert (reps.loc["baseline", kpi].to_numpy() == reps.loc["more-scanners", kpi].to_numpy()).all(), kpi
    table = reference.table.set_index(["scenario", "kpi"])
    for kpi in VESSEL_SIDE:
        row = table.loc[("more-scanners", kpi)]
        assert (row["diff"], row["diff_ci_low"], row["diff_ci_high"]) == (0.0, 0.0, 0.0), kpi
        assert not row["significant"]
    # ... while the stage that changed does change: half the scanner utilisation
    util = table.loc[("more-scanners", "scanner_utilisation"), "diff"]
    assert util < 0 and table.loc[("more-scanners", "scanner_utilisation"), "significant"]


def test_local_and_dask_give_identical_replications(reference, tmp_path):
    variants = [variant("baseline", years=YEARS), variant("more-scanners", years=YEARS)]
    with DaskExecutor(workers=2) as ex:
        assert ex.slots == 2
        reps = run_replications(variants, REPS, tmp_path, seed=SEED, executor=ex)
    pd.testing.assert_frame_equal(reps, reference.replications)


# ---------------------------------------------------------------- store and resume


def test_killed_run_resumes_without_recomputing_finished_replications(reference, tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-c", "from callao.cli import app; app()", "compare", "baseline", "more-scanners",
           "--replications", str(REPS), "--years", str(YEARS), "--seed", str(SEED), "--out", str(out),
           "--no-report"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(finished_files(out)) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in finished_files(out)}
    assert 2 <= len(before) < 2 * REPS, "the run should have been killed mid-way"
    assert not (out / "comparison.csv").exists()

    res = runner.invoke(app, ["compare", "baseline", "more-scanners", "--replications", str(REPS), "--years",
                              str(YEARS), "--seed", str(SEED), "--out", str(out), "--no-report"])
    assert res.exit_code == 0, res.output
    assert f"{len(before)} of {2 * REPS} replications already stored" in res.output
    after = finished_files(out)
    assert len(after) == 2 * REPS
    for p, ident in before.items():
        assert (p.stat().st_ino, p.stat().st_mtime_ns) == ident, f"{p} was recomputed"
    table = pd.read_csv(out / "comparison.csv").fillna({"mark": ""})  # no mark: an empty CSV field
    pd.testing.assert_frame_equal(table, reference.table, check_dtype=False)
    reps = run_replications([variant("baseline", years=YEARS), variant("more-scanners", years=YEARS)], REPS, out,
                            seed=SEED, executor=_NoRun())
    pd.testing.assert_frame_equal(reps, reference.replications)


class _NoRun(LocalExecutor):
    def run(self, fn, tasks):
        raise AssertionError(f"nothing should be computed, got {len(tasks)} task(s)")


class _Counting(LocalExecutor):
    def __init__(self):
        self.labels = []

    def run(self, fn, tasks):
        self.labels += [t.label for t in tasks]
        yield from super().run(fn, tasks)


def test_partial_temp_files_are_ignored_and_unreadable_files_recomputed(reference, tmp_path):
    shutil.copytree(reference.out / "replications", tmp_path / "replications")
    base_dir = tmp_path / "replications" / variant("baseline", years=YEARS).hash[:12]
    alt_dir = tmp_path / "replications" / variant("more-scanners", years=YEARS).hash[:12]
    (base_dir / "1.parquet").unlink()
    (base_dir / ".1.parquet.k2j3h4.tmp").write_bytes(b"PAR1\x00\x01half a write")  # killed mid-write
    data = (alt_dir / "2.parquet").read_bytes()
    (alt_dir / "2.parquet").write_bytes(data[: len(data) // 2])  # damaged by hand
    ex = _Counting()
    reps = run_replications([variant("baseline", years=YEARS), variant("more-scanners", years=YEARS)], REPS,
                            tmp_path, seed=SEED, executor=ex)
    assert sorted(ex.labels) == ["baseline #1", "more-scanners #2"]
    pd.testing.assert_frame_equal(reps, reference.replications)


class _FailOne(LocalExecutor):
    def run(self, fn, tasks):
        def flaky(task):
            if task.label == "more-scanners #1":
                raise RuntimeError("worker lost")
            return fn(task)
        yield from super().run(flaky, tasks)


def test_a_failed_replication_keeps_the_others_and_is_retried_next_time(reference, tmp_path):
    shutil.copytree(reference.out / "replications", tmp_path / "replications")
    base_dir = tmp_path / "replications" / variant("baseline", years=YEARS).hash[:12]
    alt_dir = tmp_path / "replications" / variant("more-scanners", years=YEARS).hash[:12]
    (base_dir / "0.parquet").unlink()
    (alt_dir / "1.parquet").unlink()
    variants = [variant("baseline", years=YEARS), variant("more-scanners", years=YEARS)]
    with pytest.raises(ReplicationsFailed, match=r"more-scanners #1: RuntimeError: worker lost"):
        run_replications(variants, REPS, tmp_path, seed=SEED, executor=_FailOne())
    assert (base_dir / "0.parquet").exists() and not (alt_dir / "1.parquet").exists()
    ex = _Counting()
    reps = run_replications(variants, REPS, tmp_path, seed=SEED, executor=ex)
    assert ex.labels == ["more-scanners #1"]
    pd.testing.assert_frame_equal(reps, reference.replications)


def test_stored_replications_of_another_seed_are_an_error(reference, tmp_path):
    shutil.copytree(reference.out / "replications", tmp_path / "replications")
    with pytest.raises(ExperimentError, match=f"--seed {SEED}"):
        run_replications([variant("baseline", years=YEARS)], 2, tmp_path, seed=SEED + 1, executor=_NoRun())


# ---------------------------------------------------------------- sweeps


def test_vary_values_are_toml_literals():
    assert parse_vary("customs.scanners=3,6,9").values == (3, 6, 9)
    v = parse_vary("simulation.demand_factor=1.0, 1.2")
    assert v.values == (1.0, 1.2) and v.texts == ("1.0", "1.2") and isinstance(v.values[0], float)
    assert parse_vary("simulation.containers=true,false").values == (True, False)
    assert parse_vary('customs.targeting.policy=random,"model"').values == ("random", "model")
    v = parse_vary('customs.exam_h={dist = "constant", value = 12.0},{dist = "constant", value = 24.0}')
    assert v.values == ({"dist": "constant", "value": 12.0}, {"dist": "constant", "value": 24.0})
    for bad in ("customs.scanners", "=3", "customs..scanners=3", "customs.scanners=3,,4"):
        with pytest.raises(SweepError):
            parse_vary(bad)


def test_paths_address_named_items_by_name():
    resolved = load_scenario("callao").model_dump(by_alias=True)
    assert override_for(resolved, "terminals.apmt.cranes", 10) == {"terminals": [{"name": "apmt", "cranes": 10}]}
    assert override_for(resolved, "customs.scanners", 6) == {"customs": {"scanners": 6}}
    profile = override_for(resolved, "gate.hourly_profile.3", 0.0)["gate"]["hourly_profile"]
    assert len(profile) == 24 and profile[3] == 0.0
    for path, words in (("customs.scaners", "no field 'scaners'"), ("terminals.apm.cranes", "no item named 'apm'"),
                        ("customs.scanners.x", "is a value"), ("terminals.apmt", "whole item")):
        with pytest.raises(SweepError, match=words):
            override_for(resolved, path, 1)


def test_sweep_points_are_the_cartesian_product():
    pts = sweep_variants("baseline", [parse_vary("customs.scanners=3,6"), parse_vary("terminals.apmt.cranes=8,12")])
    assert [p.name for p in pts] == [
        "baseline[customs.scanners=3,terminals.apmt.cranes=8]", "baseline[customs.scanners=3,terminals.apmt.cranes=12]",
        "baseline[customs.scanners=6,terminals.apmt.cranes=8]", "baseline[customs.scanners=6,terminals.apmt.cranes=12]"]
    last = pts[-1].scenario
    assert last.customs.scanners == 6 and {t.name: t.cranes for t in last.terminals}["apmt"] == 12
    assert len({p.hash for p in pts}) == 4
    with pytest.raises(SweepError, match=r"terminals.apmt.cranes=abc"):
        sweep_variants("baseline", [parse_vary("terminals.apmt.cranes=8,abc")])


def test_sweep_command_rejects_bad_paths_and_values_clearly():
    for vary, words in (("customs.scaners=3,6", "customs.scaners"), ("terminals.apmt.cranes=-1", "cranes"),
                        ("simulation.demand_factor", "PATH=V1,V2")):
        res = runner.invoke(app, ["sweep", "baseline", "--vary", vary, "-r", "2"])
        assert res.exit_code == 2, res.output
        assert words in res.output and "Traceback" not in res.output


# ---------------------------------------------------------------- CLI end to end


def test_compare_command_writes_table_and_self_contained_report(tmp_path):
    out = tmp_path / "cmp"
    res = runner.invoke(app, ["compare", "baseline", "more-scanners", "--replications", "2", "--years", "0.02",
                              "--seed", "3", "--out", str(out)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "comparison.csv")
    assert list(table.columns) == COLUMNS
    assert set(table["scenario"]) == {"baseline", "more-scanners"} and "teu_total" in set(table["kpi"])
    assert len(finished_files(out)) == 4
    assert "Anchorage wait" in res.output and "more-scanners" in res.output
    page = (out / "report.html").read_text()
    from plotly.offline import get_plotlyjs

    assert page.count(get_plotlyjs()[-2000:]) == 1  # plotly.js embedded exactly once
    assert not re.search(r"<script[^>]+src=", page) and "cdn.plot.ly/plotly" not in page.replace(get_plotlyjs(), "")
    assert "anchorage_wait_mean_h" in page and "berth_occupancy_apmt" in page
    assert not list(out.glob(".*.tmp"))


def test_sweep_command_writes_sweep_csv(tmp_path):
    out = tmp_path / "sweep"
    res = runner.invoke(app, ["sweep", "baseline", "--vary", "customs.scanners=3,6", "--replications", "2",
                              "--years", "0.02", "--out", str(out), "--no-report"])
    assert res.exit_code == 0, res.output
    sweep = pd.read_csv(out / "sweep.csv")
    assert list(sweep.columns) == ["point", "kpi", "mean", "ci_low", "ci_high"]
    assert list(dict.fromkeys(sweep["point"])) == ["baseline[customs.scanners=3]", "baseline[customs.scanners=6]"]
    table = pd.read_csv(out / "comparison.csv").set_index(["scenario", "kpi"])
    assert table.loc[("baseline[customs.scanners=6]", "scanner_utilisation"), "diff"] < 0


def test_headline_kpis_include_later_families_and_the_report_needs_no_replications(tmp_path):
    from callao.report.comparison import headline_kpis, write_comparison_report

    names = ["moves_total", "gate_wait_mean_h", "teu_total", "berth_occupancy_apmt", "berth_occupancy_chancay",
             "detection_rate", "seized_kg", "chancay_teu", "diverted_calls", "closure_hours"]
    assert headline_kpis(names) == ["teu_total", "berth_occupancy_apmt", "berth_occupancy_chancay", "gate_wait_mean_h",
                                    "closure_hours", "detection_rate", "seized_kg", "chancay_teu", "diverted_calls"]
    table = compare(_frame({"base": [1.0, 2.0, 3.0], "alt": [2.0, 3.0, 4.5]}, kpi="teu_total"), base="base")
    page = write_comparison_report(table, pd.DataFrame(), tmp_path / "r.html").read_text()
    assert "Throughput" in page and page.count("<table") == 1
