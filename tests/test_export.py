"""``callao export``: a run's calls, a deterministic container sample and its KPIs, or an
experiment's comparison, as CSV files or one xlsx workbook; clear errors; files read only inside
the folder."""

import os

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import callao
from callao.cli import app
from callao.export import ExportError, container_sample, export

runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "run"
    callao.simulate("callao", seed=4, years=0.03).write(out)
    return out


def test_csv_export_of_a_run(run_dir, tmp_path):
    res = runner.invoke(app, ["export", str(run_dir), "--format", "csv", "--sample", "500",
                              "--out", str(tmp_path / "csv")])
    assert res.exit_code == 0, res.output
    vessels = pd.read_parquet(run_dir / "vessels.parquet")
    containers = pd.read_parquet(run_dir / "containers.parquet")
    calls = pd.read_csv(tmp_path / "csv" / "calls.csv")
    assert len(calls) == len(vessels) and list(calls.columns) == list(vessels.columns)
    assert list(calls["vessel_id"]) == list(range(len(vessels)))
    assert calls["t_arrival"].to_numpy() == pytest.approx(vessels["t_arrival"].to_numpy())
    sample = pd.read_csv(tmp_path / "csv" / "containers.csv")
    assert len(sample) == 500 and sample["container_id"].is_monotonic_increasing
    ids = sample["container_id"].to_numpy()
    assert sample["t_yard_in"].to_numpy() == pytest.approx(containers.set_index("container_id").loc[ids, "t_yard_in"])
    kpis = pd.read_csv(tmp_path / "csv" / "kpis.csv")
    assert "teu_total" in set(kpis["kpi"])
    assert "  containers         500 rows" in res.output


def test_container_sample_is_deterministic_and_documented_sizes_hold(run_dir):
    containers = pd.read_parquet(run_dir / "containers.parquet")
    a, b = container_sample(containers, 300, seed=1), container_sample(containers, 300, seed=1)
    assert a.equals(b)
    assert not a["container_id"].equals(container_sample(containers, 300, seed=2)["container_id"])
    assert len(container_sample(containers, 0)) == len(containers)
    assert len(container_sample(containers, 10 * len(containers))) == len(containers)
    with pytest.raises(ExportError, match="--sample -1"):
        container_sample(containers, -1)


def test_xlsx_export_has_one_sheet_per_table(run_dir, tmp_path):
    res = runner.invoke(app, ["export", str(run_dir), "--format", "xlsx", "--sample", "200",
                              "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    book = load_workbook(tmp_path / "export.xlsx", read_only=True)
    assert book.sheetnames == ["calls", "containers", "kpis"]
    rows = pd.read_excel(tmp_path / "export.xlsx", sheet_name=None)
    assert len(rows["containers"]) == 200
    assert len(rows["calls"]) == len(pd.read_parquet(run_dir / "vessels.parquet"))
    assert not list(tmp_path.glob(".*.tmp"))


def test_default_outputs_are_in_the_folder(run_dir):
    r = export(run_dir, "csv", sample=50)
    assert [f.name for f in r.files] == ["calls.csv", "containers.csv", "kpis.csv"]
    assert all(f.parent == run_dir / "export" for f in r.files)
    assert export(run_dir, "xlsx", sample=50).files == [run_dir / "export.xlsx"]


def test_experiment_folder_exports_its_comparison(tmp_path):
    folder = tmp_path / "cmp"
    folder.mkdir()
    table = pd.DataFrame({"scenario": ["a", "b"], "kpi": ["teu_total"] * 2, "mean": [1.0, 2.0],
                          "diff": [0.0, 1.0], "mark": ["", "*"]})
    table.to_csv(folder / "comparison.csv", index=False)
    res = runner.invoke(app, ["export", str(folder), "--format", "xlsx"])
    assert res.exit_code == 0, res.output
    sheets = pd.read_excel(folder / "export.xlsx", sheet_name=None, keep_default_na=False)
    assert list(sheets) == ["comparison"] and list(sheets["comparison"]["scenario"]) == ["a", "b"]
    r = export(folder, "csv", out=tmp_path / "c")
    assert r.kind == "experiment" and pd.read_csv(tmp_path / "c" / "comparison.csv").shape == (2, 5)


def test_bad_folders_and_options_give_one_clear_error(run_dir, tmp_path):
    for args, words in (([str(tmp_path / "nope")], "no such folder"),
                        ([str(tmp_path)], "neither a run"),
                        ([str(run_dir), "--format", "ods"], "expected one of csv, xlsx"),
                        ([str(run_dir), "--out", str(tmp_path / "x.txt")], ".xlsx"),
                        ([str(run_dir / "kpis.json")], "not a folder")):
        res = runner.invoke(app, ["export", *args])
        assert res.exit_code == 2, (args, res.output)
        assert words in res.output and "Traceback" not in res.output, res.output


def test_only_files_inside_the_folder_are_read(run_dir, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "vessels.parquet").write_bytes((run_dir / "vessels.parquet").read_bytes())
    sneaky = tmp_path / "sneaky"
    sneaky.mkdir()
    for f in run_dir.iterdir():  # a whole run, but for its vessels table
        if f.is_file() and f.name != "vessels.parquet":
            (sneaky / f.name).write_bytes(f.read_bytes())
    os.symlink(outside / "vessels.parquet", sneaky / "vessels.parquet")
    res = runner.invoke(app, ["export", str(sneaky), "--format", "csv"])
    assert res.exit_code == 2 and "outside" in res.output and "Traceback" not in res.output
    (sneaky / "vessels.parquet").unlink()
    (sneaky / "vessels.parquet").write_bytes(b"not parquet")
    res = runner.invoke(app, ["export", str(sneaky), "--format", "csv"])
    assert res.exit_code == 2 and "not a readable Parquet" in res.output
