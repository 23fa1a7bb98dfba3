"""Long horizons in segments: a chunked run (partitioned Parquet, memory flat in the horizon) gives
the same tables and exactly the same KPIs as the same segments kept in memory; it resumes after an
interruption; Results.read reads both layouts."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from callao.cli import app
from callao.dataset import CHUNKED_ABOVE_CONTAINERS, expected_containers, run_chunked
from callao.report import write_report
from callao.results import Results, ResultsError, part_path, summary_path
from callao.scenario import load_scenario, merge, validate
from callao.sim.engine import segment_bounds, simulate

SEGMENT_YEARS = 0.02  # 175.2 h: two segments in a 0.04-year run
FIXED_H = 300.0  # a fixed closure in the second segment


@pytest.fixture(scope="module")
def scenario():
    sc = load_scenario("callao")
    data = merge(sc.model_dump(by_alias=True), {"simulation": {"years": 0.04, "spin_up_days": 5.0}})
    data["closures"]["fixed"] = [{"start_h": FIXED_H, "duration_h": 12.0, "reason": "drill"}]
    return validate(data, "callao-short")


@pytest.fixture(scope="module")
def in_memory(scenario):
    return simulate(scenario, seed=4, segment_years=SEGMENT_YEARS)


@pytest.fixture(scope="module")
def chunked(scenario, tmp_path_factory):
    out = tmp_path_factory.mktemp("chunked") / "run"
    return out, run_chunked(scenario, 4, out, SEGMENT_YEARS)


def _same_kpis(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])), (k, a[k], b[k])


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    return df.astype({c: str for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)})


def test_segments_are_consecutive_and_ids_continue(scenario, in_memory):
    bounds = segment_bounds(scenario, SEGMENT_YEARS)
    assert len(bounds) == 2 and bounds[0] == (0.0, SEGMENT_YEARS * 8760) and bounds[-1][1] == scenario.horizon_h
    seg = in_memory.meta["segments"]
    assert seg["count"] == 2 and sum(seg["container_rows"]) == len(in_memory.containers)
    v, c = in_memory.vessels, in_memory.containers
    np.testing.assert_array_equal(v["vessel_id"], np.arange(len(v)))
    np.testing.assert_array_equal(c["container_id"], np.arange(len(c)))
    second = v.iloc[seg["vessel_rows"][0]:]
    assert len(second) and (second["t_arrival"] >= bounds[1][0]).all()  # no spin-up calls twice
    for col in ("vessel_in", "vessel_out"):
        ids = c[col].to_numpy()
        assert ids.min() >= -1 and ids.max() < len(v)
    # a container's own call (vessel_in, else vessel_out) lies in the container's segment
    owner = np.where(c["vessel_in"] >= 0, c["vessel_in"], c["vessel_out"])
    in_second = np.arange(len(c)) >= seg["container_rows"][0]
    assert (owner[in_second] >= seg["vessel_rows"][0]).all() and (owner[~in_second] < seg["vessel_rows"][0]).all()
    # the fixed closure of the second segment stays at its hours of the run (maybe merged with another)
    home = in_memory.closures[in_memory.closures["port"] == scenario.home_port]
    assert ((home["start_h"] <= FIXED_H + 1e-9) & (home["end_h"] >= FIXED_H + 12.0 - 1e-9)).sum() == 1


def test_chunked_kpis_equal_in_memory_exactly(in_memory, chunked):
    out, results = chunked
    _same_kpis(in_memory.kpis, json.loads((out / "kpis.json").read_text()))
    _same_kpis(in_memory.kpis, results.kpis)
    assert results.containers is None and results.containers_path == (out / "containers").resolve()


def test_partitioned_dataset_reads_back_as_the_in_memory_tables(in_memory, chunked):
    out, _ = chunked
    assert part_path(out, "containers", 1).exists()
    back = Results.read(out)
    for name in ("vessels", "containers", "closures", "naval"):
        pd.testing.assert_frame_equal(_plain(getattr(back, name)), _plain(getattr(in_memory, name)), check_dtype=False)
    _same_kpis(back.kpis, in_memory.kpis)
    # a plain pyarrow reader sees the hive partitions too
    import pyarrow.dataset as ds

    assert ds.dataset(out / "containers", partitioning="hive").count_rows() == len(in_memory.containers)


def test_in_memory_write_and_read_keeps_segment_kpis(in_memory, tmp_path):
    back = Results.read(in_memory.write(tmp_path / "run"))
    assert back.segment_rows == in_memory.meta["segments"]["container_rows"]
    _same_kpis(back.kpis, in_memory.kpis)


def test_report_of_a_chunked_run_comes_from_the_summary(in_memory, chunked, tmp_path):
    _, results = chunked
    a = write_report(results, tmp_path / "chunked.html").read_text()
    b = write_report(in_memory, tmp_path / "memory.html").read_text()
    assert a == b
    assert 'id="plot-dwell"' in a and 'id="plot-gate-trucks"' in a and "Not available" not in a.split("plot-dwell")[0][-500:]
    assert len(a) < 8_000_000


class Interrupted(Exception):
    pass


def test_an_interrupted_chunked_run_resumes(scenario, in_memory, tmp_path):
    out = tmp_path / "run"

    def stop_in_second(fraction, stage):
        if stage.endswith("2/2"):
            raise Interrupted

    with pytest.raises(Interrupted):
        run_chunked(scenario, 4, out, SEGMENT_YEARS, progress=stop_in_second)
    first = part_path(out, "containers", 0)
    assert first.exists() and summary_path(out, 0).exists() and not summary_path(out, 1).exists()
    with pytest.raises(ResultsError, match="stopped after 1 of 2"):
        Results.read(out)
    before = os.stat(first)
    stages = []
    results = run_chunked(scenario, 4, out, SEGMENT_YEARS, progress=lambda f, s: stages.append(s))
    after = os.stat(first)
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)  # kept, not redone
    assert not any(s.endswith("1/2") for s in stages) and any(s.endswith("2/2") for s in stages)
    _same_kpis(results.kpis, in_memory.kpis)
    # another seed in the same folder starts afresh instead of mixing runs
    other = run_chunked(scenario, 5, out, SEGMENT_YEARS)
    assert os.stat(first).st_mtime_ns != after.st_mtime_ns and other.seed == 5


def test_a_single_file_run_in_a_chunked_folder_replaces_it(in_memory, chunked, tmp_path):
    out = tmp_path / "run"
    run_chunked(in_memory.scenario, 4, out, SEGMENT_YEARS)
    in_memory.write(out)
    assert not (out / "containers").exists() and (out / "containers.parquet").exists()
    _same_kpis(Results.read(out).kpis, in_memory.kpis)


def test_one_segment_is_the_plain_run(scenario):
    short = validate(merge(scenario.model_dump(by_alias=True), {"simulation": {"years": 0.01}}), "short")
    a, b = simulate(short, seed=2), simulate(short, seed=2, segment_years=0.01)
    assert "segments" not in a.meta and "segments" not in b.meta
    pd.testing.assert_frame_equal(a.containers, b.containers)
    _same_kpis(a.kpis, b.kpis)


def test_callao_run_chooses_the_chunked_mode_for_long_horizons():
    sc = load_scenario("callao")
    one = expected_containers(sc)
    assert one < CHUNKED_ABOVE_CONTAINERS < 3 * one
    assert expected_containers(validate(merge(sc.model_dump(by_alias=True), {"simulation": {"years": 3}}),
                                        "x")) > CHUNKED_ABOVE_CONTAINERS


def test_cli_chunked_run(tmp_path):
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["run", "--years", "0.02", "--segment-years", "0.01", "--chunked",
                                 "--no-report", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "chunked" in r.output and (out / "containers" / "segment=0001" / "part.parquet").exists()
    k = json.loads((out / "kpis.json").read_text())
    assert k["vessel_calls_total"] == len(Results.read(out).vessels.query("0 <= t_arrival < 175.2"))
    bad = CliRunner().invoke(app, ["run", "--segment-years", "0", "--out", str(out)])
    assert bad.exit_code == 2 and "--segment-years 0" in bad.output


def test_export_samples_a_chunked_dataset_one_segment_at_a_time(in_memory, chunked):
    from callao.export import ExportError, container_sample, dataset_sample

    out, _ = chunked
    lazy = Results.read(out, load_containers=False)
    a = dataset_sample(lazy.containers_path, 300, seed=2)
    b = container_sample(in_memory.containers, 300, seed=2)
    np.testing.assert_array_equal(a["container_id"], b["container_id"])
    np.testing.assert_array_equal(a["t_gate"], b["t_gate"])
    with pytest.raises(ExportError, match="too many to export whole"):
        dataset_sample(lazy.containers_path, 0)
