"""Each experiment gets its own folder by default, and a different experiment is never mixed into a
folder (its comparison.csv replaced) without --force."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from callao.cli import app
from callao.experiments import ExperimentError, variant
from callao.experiments.experiment import MANIFEST, claim_folder, folder_name

runner = CliRunner()


@pytest.fixture(scope="module")
def variants():
    return {n: variant(n, years=0.02) for n in ("baseline", "more-scanners", "naval-relocation")}


def test_folder_names_follow_the_experiment():
    assert folder_name("compare", ["baseline", "naval-relocation", "chancay"]) == \
        "compare-baseline-naval-relocation-chancay"
    assert folder_name("sweep", ["callao", "customs.scanners-3-6", "terminals.apmt.cranes-8-10"]) == \
        "sweep-callao-customs.scanners-3-6-terminals.apmt.cranes-8-10"
    odd = folder_name("sweep", ["callao", 'customs.exam_h-{dist="constant",value=12}'])
    assert "/" not in odd and '"' not in odd and "{" not in odd
    long = folder_name("compare", [f"scenario-{i}" for i in range(20)])
    assert len(long) <= 80 and long != folder_name("compare", [f"scenario-{i}" for i in range(21)])


def test_a_different_experiment_is_refused_unless_forced(tmp_path, variants):
    out = tmp_path / "exp"
    b, m, n = variants["baseline"], variants["more-scanners"], variants["naval-relocation"]
    claim_folder(out, "compare", [b, m], seed=0)
    assert json.loads((out / MANIFEST).read_text())["scenarios"] == ["baseline", "more-scanners"]
    claim_folder(out, "compare", [b, m], seed=0)            # the same again: resume
    claim_folder(out, "compare", [b, m, n], seed=0)         # more scenarios after the same base: grows
    for other, why in ((dict(kind="compare", variants=[n, b], seed=0), "base"),
                       (dict(kind="compare", variants=[b, n], seed=0), "drops more-scanners"),
                       (dict(kind="compare", variants=[b, m, n], seed=1), "seed"),
                       (dict(kind="sweep", variants=[b, m, n], seed=0), "command"),
                       (dict(kind="compare", variants=[variant("baseline", years=0.5), m, n], seed=0), "years")):
        with pytest.raises(ExperimentError, match="holds another experiment.*--force"):
            claim_folder(out, **other)
    claim_folder(out, "compare", [n, b], seed=0, force=True)
    assert json.loads((out / MANIFEST).read_text())["scenarios"] == ["naval-relocation", "baseline"]


def test_folders_written_before_manifests_and_run_folders_are_judged_too(tmp_path, variants):
    b, m, n = variants["baseline"], variants["more-scanners"], variants["naval-relocation"]
    old = tmp_path / "old"
    old.mkdir()
    pd.DataFrame({"scenario": ["baseline", "more-scanners"], "kpi": ["k", "k"]}).to_csv(old / "comparison.csv")
    claim_folder(old, "compare", [b, m], seed=0)
    (old / MANIFEST).unlink()
    with pytest.raises(ExperimentError, match="baseline vs more-scanners"):
        claim_folder(old, "compare", [n, b], seed=0)
    run = tmp_path / "run"
    run.mkdir()
    (run / "kpis.json").write_text("{}")
    with pytest.raises(ExperimentError, match="holds a run"):
        claim_folder(run, "compare", [b, m], seed=0)


def test_default_folders_keep_two_experiments_apart(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    common = ["-r", "2", "--years", "0.02", "--no-report"]
    first = runner.invoke(app, ["compare", "baseline", "more-scanners", *common], env={"COLUMNS": "120"})
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["sweep", "baseline", "--vary", "customs.scanners=3,6", *common],
                           env={"COLUMNS": "120"})
    assert second.exit_code == 0, second.output
    a = tmp_path / "out" / "compare-baseline-more-scanners" / "comparison.csv"
    s = tmp_path / "out" / "sweep-baseline-customs.scanners-3-6"
    assert set(pd.read_csv(a)["scenario"]) == {"baseline", "more-scanners"}
    assert (s / "comparison.csv").is_file() and (s / "sweep.csv").is_file()
    before = a.read_bytes()
    mixed = runner.invoke(app, ["compare", "naval-relocation", "baseline", *common,
                                "--out", "out/compare-baseline-more-scanners"])
    assert mixed.exit_code == 2 and "--force" in mixed.output and "Traceback" not in mixed.output
    assert a.read_bytes() == before
    assert len(list(a.parent.glob("replications/*/0.parquet"))) == 2  # nothing of the refused one ran
    forced = runner.invoke(app, ["compare", "naval-relocation", "baseline", *common,
                                 "--out", "out/compare-baseline-more-scanners", "--force"])
    assert forced.exit_code == 0, forced.output
    assert list(dict.fromkeys(pd.read_csv(a)["scenario"])) == ["naval-relocation", "baseline"]
